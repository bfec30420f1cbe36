"""Stack-wide behaviour: tags, providers, outputs, and what `make plan` prints."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from offline.engine import ROOT, Recording
from offline.plan import main as plan_main

EXPECTED_TAGS = {
    "dev": {"project": "mlops", "stack": "dev", "environment": "dev", "managed-by": "pulumi"},
    "prod": {"project": "mlops", "stack": "prod", "environment": "prod", "managed-by": "pulumi"},
}


def aws_providers(recording: Recording) -> list[Any]:
    return recording.of_type("pulumi:providers:aws")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_aws_provider_sets_default_tags(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    for provider in aws_providers(recording):
        assert json.loads(provider.inputs["defaultTags"])["tags"] == EXPECTED_TAGS[stack], provider.name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_aws_resource_goes_through_a_tagging_provider(request: pytest.FixtureRequest, stack: str) -> None:
    # The default provider would not carry the tags; no AWS resource may fall back to it.
    recording: Recording = request.getfixturevalue(stack)
    tagging = tuple(p.urn for p in aws_providers(recording))
    untagged = [r.name for r in recording.resources if r.type.startswith("aws:") and not r.provider.startswith(tagging)]
    assert untagged == []


def test_primary_provider_uses_the_stack_region(dev: Recording) -> None:
    assert dev.get("pulumi:providers:aws", "aws").inputs["region"] == "us-east-1"


def test_dev_has_one_region_prod_two(dev: Recording, prod: Recording) -> None:
    assert [p.name for p in aws_providers(dev)] == ["aws"]
    assert sorted(p.name for p in aws_providers(prod)) == ["aws", "aws-backup"]


def test_dev_outputs(dev: Recording) -> None:
    outputs = dev.outputs
    assert outputs["bucketName"].startswith("mlops-dev-data-")
    assert outputs["bucketArn"] == f"arn:aws:s3:::{outputs['bucketName']}"
    assert "backupBucketName" not in outputs
    assert set(outputs["registryUrls"]) == {"train", "serve", "pipeline"}  # the DAG image's, with Airflow
    assert outputs["registryUrls"]["train"].endswith("/mlops-dev/train")
    assert set(outputs["imageRefs"]) == {"train", "serve", "pipeline"}
    assert (outputs["jobQueue"], outputs["projects"]["iris"]["jobDefinition"]) == ("mlops-dev-train", "mlops-dev-iris-train")
    assert "trainingInstanceId" not in outputs


def test_prod_exports_the_backup_bucket(prod: Recording) -> None:
    assert prod.outputs["backupBucketName"].startswith("mlops-prod-backup-")


def test_every_component_child_has_a_parent(dev: Recording) -> None:
    orphans = [r.name for r in dev.resources if r.custom and not r.type.startswith("pulumi:providers:") and r.parent.endswith("Stack::mlops-dev")]
    assert orphans == []


def printed_plan(stack: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What `make plan` prints for `stack`; it must succeed."""
    assert plan_main(["--stack", stack]) == 0
    return capsys.readouterr().out


def missing(lines: list[str], printed: str) -> list[str]:
    return [line for line in lines if line not in printed]


def test_plan_prints_the_tree_and_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    printed = printed_plan("dev", capsys)
    assert missing([
        "Stack mlops/dev",
        "├─ mlops:storage:DataBucket  data",
        "aws:s3/bucket:Bucket  data  bucketPrefix=mlops-dev-data- forceDestroy=true",
        "aws:batch/computeEnvironment:ComputeEnvironment  training-ce",
        "minvCpus=0",
        "resources to create:",
    ], printed) == []
    assert "aws:ec2/instance:Instance" not in printed


def test_plan_marks_protected_prod_resources(capsys: pytest.CaptureFixture[str]) -> None:
    assert "aws:s3/bucket:Bucket  data  [PROTECTED]" in printed_plan("prod", capsys)


def test_plan_shows_prods_gke_tree_and_hides_the_kubeconfig(capsys: pytest.CaptureFixture[str]) -> None:
    printed = printed_plan("prod", capsys)
    assert missing([
        "├─ mlops:gke:GkeCluster  gke",
        "gcp:container/cluster:Cluster  gke  location=us-central1-a privateNodes=true",
        "gcp:container/nodePool:NodePool  gke-gpu  machine=g2-standard-4 gpu=nvidia-l4 nodes=0..4",
        "  kubeconfig: [secret]",
    ], printed) == []
    assert "gke-gcloud-auth-plugin" not in printed


def test_plan_reports_invalid_config_without_a_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import offline.engine as engine

    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  aws:region: us-east-1\n  mlops:environment: qa\n")
    monkeypatch.setattr(engine, "STACKS_DIR", tmp_path)
    assert plan_main(["--stack", "broken"]) == 2
    assert capsys.readouterr().err == 'error: mlops:environment: "qa" is invalid: Input should be \'dev\' or \'prod\'\n'


def broken_stack_file(mistake: str) -> tuple[str, str]:
    """The dev stack file with one mistake, and the `line:column: problem` it must report."""
    lines = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text().splitlines(keepends=True)

    def index(key: str) -> int:
        return next(i for i, line in enumerate(lines) if line.lstrip().startswith(key))

    if mistake == "tab":
        at = index("noncurrentVersionDays:")
        lines[at] = "\t" + lines[at].lstrip()
        expected = f"{at + 1}:1: a tab character: YAML indents with spaces only"
    elif mistake == "indent":
        at = index("keepImages:")
        lines[at] = "  " + lines[at]
        expected = (
            f"{at + 1}:7: bad indentation: this line starts at column 7, but the mapping it continues "
            f"(from line {index('kind: ecr') + 1}) has its keys at column 5; indent the keys of one mapping equally"
        )
    elif mistake == "no-colon":
        at = index("keepImages:")
        lines[at] = lines[at].replace("keepImages:", "keepImages", 1)
        expected = f"{at + 2}:3: a key without ':' (write `key: value`), or a line indented as if it continued the one above"
    else:
        at = index("spot:") + 1
        lines.insert(at, "    spot: false\n")
        expected = f"{at + 1}:5: key 'spot' is given twice in one mapping"
    return "".join(lines), expected


@pytest.mark.parametrize("mistake", ["tab", "indent", "no-colon", "duplicate"])
def test_plan_reports_a_yaml_mistake_as_one_line_with_file_and_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch, mistake: str
) -> None:
    import offline.engine as engine

    text, expected = broken_stack_file(mistake)
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.dev.yaml").write_text(text)
    monkeypatch.setattr(engine, "ROOT", tmp_path)
    monkeypatch.setattr(engine, "STACKS_DIR", stacks)
    assert plan_main(["--stack", "dev"]) == 2
    printed = capsys.readouterr().err
    assert printed == f"stacks/Pulumi.dev.yaml:{expected}\n"


def test_plan_names_the_known_stacks_for_an_unknown_one() -> None:
    with pytest.raises(SystemExit, match="stacks: dev, prod"):
        plan_main(["--stack", "staging"])


def test_project_declares_config_with_types_pulumi_accepts() -> None:
    # The Pulumi CLI rejects a project whose config declarations lack a type or use an
    # unsupported one; only the mlops: keys may be declared, without their namespace.
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "mlops"
    assert project["stackConfigDir"] == "stacks"
    declarations = project["config"]
    assert declarations["environment"]["type"] == "string"
    for key, declaration in declarations.items():
        assert ":" not in key, key
        assert declaration["type"] in {"string", "integer", "boolean", "array"}, key


def test_plan_shows_the_serving_objects(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main(["--stack", "dev"]) == 0
    printed = capsys.readouterr().out
    assert "kubernetes:apps/v1:Deployment  serving-iris-deployment  name=iris-server replicas=(HPA) maxUnavailable=0" in printed
    assert '"readiness": "/v2/health/ready"' in printed
    assert "kubernetes:autoscaling/v2:HorizontalPodAutoscaler  serving-iris-hpa  replicas=1..2 cpuTarget=70" in printed
    assert '"portForwardCommand": "kubectl port-forward -n mlops-dev service/iris-server 8080:8080"' in printed
