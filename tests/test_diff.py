"""`make diff`: two renderings of the program, classified the way a reviewer needs them.

Most fixtures are two configs of the real program (run in process, cached per module);
one test builds two commits in a scratch git repository and runs the whole pipeline,
BASE extracted with git archive and each side rendered in its own process.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from offline.diff import StackDiff, StackRun, compare_stack, labels, replacement_table
from tests.support import RunWith
from offline.engine import ROOT, Recording, run_program, stack_config_with
from offline.review import Base, build_report, extract, render_sides

BASE = Base("test-base", "0" * 40, "a test fixture")


def _run(stack: str, **changes: Any) -> Recording:
    return run_program(stack, stack_config_with(stack, changes))


def _side(recording: Recording, environment: str) -> StackRun:
    return StackRun(environment, list(recording.resources))


def _diff(stack: str, base: Recording, head: Recording, environment: str | None = None) -> StackDiff:
    env = environment or stack
    return compare_stack(stack, _side(base, env), _side(head, env))


def _actions(diff: StackDiff) -> dict[str, str]:
    return {c.name: c.action for c in diff.changes}


@pytest.fixture(scope="module")
def dev_with_backup() -> Recording:
    return _run("dev", **{"mlops:storage": {"backupRegion": "us-west-2"}})


@pytest.fixture(scope="module")
def prod_as_dev() -> Recording:
    # The prod stack with environment dev: protection off, no access logs.
    return _run("prod", **{"mlops:environment": "dev"})


def test_the_same_program_is_no_infra_change(dev: Recording) -> None:
    diff = _diff("dev", dev, dev)
    assert diff.changes == [] and diff.danger == []
    assert labels([diff]) == ["no-infra-change"]


def test_new_resources_are_creates(dev: Recording, dev_with_backup: Recording) -> None:
    diff = _diff("dev", dev, dev_with_backup)
    actions = _actions(diff)
    assert actions["data-backup"] == "create"
    assert actions["data-replication"] == "create"
    assert set(actions.values()) == {"create"}
    assert diff.danger == []


def test_removed_resources_are_deletes_and_dangerous(dev: Recording, dev_with_backup: Recording) -> None:
    diff = _diff("dev", dev_with_backup, dev)
    assert _actions(diff)["data-backup"] == "delete"
    assert any(d.kind == "delete" and d.name == "data-backup" for d in diff.danger)


def test_a_lifecycle_change_is_an_update_with_the_changed_field(dev: Recording) -> None:
    head = _run("dev", **{"mlops:storage": {"noncurrentVersionDays": 14}})
    diff = _diff("dev", dev, head)
    (change,) = diff.changes
    assert (change.name, change.action) == ("data-lifecycle", "update")
    (prop,) = change.properties
    assert (prop.path, prop.old, prop.new) == ("rules[1].noncurrentVersionExpiration.noncurrentDays", 7, 14)
    assert labels([diff]) == []


def test_a_schedule_change_updates_the_schedule_in_place(dev: Recording) -> None:
    head = _run("dev", **{"mlops:training": {"schedule": "0 5 * * *"}})
    diff = _diff("dev", dev, head)
    assert _actions(diff) == {"training-schedule": "update"}
    assert diff.danger == []
    assert labels([diff]) == []


def test_a_renamed_log_group_is_a_likely_replacement(dev: Recording) -> None:
    group = dev.get("aws:cloudwatch/logGroup:LogGroup", "training-logs")
    renamed = dataclasses.replace(group, inputs={**group.inputs, "name": "/aws/batch/other"})
    diff = _diff("dev", dev, Recording(resources=[renamed if r is group else r for r in dev.resources]))
    assert _actions(diff)["training-logs"] == "replace"
    (danger,) = [d for d in diff.danger if d.name == "training-logs"]
    assert danger.kind == "replacement" and "name" in danger.message
    assert "replacement" in labels([diff])


def test_an_instance_type_change_updates_the_compute_environment_in_place(dev: Recording) -> None:
    head = _run("dev", **{"mlops:compute": {"instanceType": "g5.xlarge"}})
    diff = _diff("dev", dev, head)
    assert _actions(diff) == {"training-ce": "update"}
    assert diff.danger == []
    assert diff.idle_delta == 0, "instances bill only while a job runs"


def test_a_replaced_subnet_carries_its_route_table_association_along(dev: Recording) -> None:
    subnet = dev.get("aws:ec2/subnet:Subnet", "training-net-public-0")
    moved = dataclasses.replace(subnet, inputs={**subnet.inputs, "availabilityZone": "us-east-1c"})
    head = Recording(resources=[moved if r is subnet else r for r in dev.resources])
    actions = _actions(_diff("dev", dev, head))
    assert actions["training-net-public-0"] == "replace"
    assert actions["training-net-public-rta-0"] == "replace"  # subnetId forces a new association


def test_removing_prod_protection_is_first_under_danger(prod: Recording, prod_as_dev: Recording) -> None:
    diff = _diff("prod", prod, prod_as_dev, environment="prod")
    first = diff.danger[0]
    assert first.kind in ("protected-delete", "protection-change")
    kinds = [d.kind for d in diff.danger]
    assert kinds.index("protection-change") < kinds.index("delete")
    bucket = next(d for d in diff.danger if d.kind == "protection-change" and d.name == "data" and d.type == "aws:s3/bucket:Bucket")
    assert "protect: true -> false (protection removed)" in bucket.message
    # The access-log bucket is protected in prod and gone in this change.
    assert any(d.kind == "protected-delete" and d.name == "data-access-logs" for d in diff.danger)
    assert {"prod-delete", "protection-change"} <= set(labels([diff]))


def test_a_urn_change_without_an_alias_is_flagged(dev: Recording) -> None:
    key = dev.get("aws:kms/key:Key", "registry-key")
    renamed = dataclasses.replace(key, name="registry-kms", urn=key.urn.replace("::registry-key", "::registry-kms"))
    head = Recording(resources=[renamed if r is key else r for r in dev.resources])
    diff = _diff("dev", dev, head)
    assert _actions(diff) == {"registry-key": "delete", "registry-kms": "create"}
    (urn_change,) = [d for d in diff.danger if d.kind == "urn-change"]
    assert key.urn in urn_change.message and renamed.urn in urn_change.message


def test_a_urn_change_with_an_alias_is_a_move(dev: Recording) -> None:
    key = dev.get("aws:kms/key:Key", "registry-key")
    renamed = dataclasses.replace(key, name="registry-kms", urn=key.urn.replace("::registry-key", "::registry-kms"), aliases=(key.urn,))
    head = Recording(resources=[renamed if r is key else r for r in dev.resources])
    diff = _diff("dev", dev, head)
    (change,) = diff.changes
    assert (change.name, change.action, change.old_urn) == ("registry-kms", "update", key.urn)
    assert diff.danger == []


def test_a_secret_change_shows_as_changed_with_no_value(dev: Recording) -> None:
    image = dev.get("docker-build:index:Image", "images-train")
    secret = dict(image.inputs["registries"])
    secret["value"] = [{**secret["value"][0], "password": "rotated-token-value"}]
    head = Recording(resources=[dataclasses.replace(r, inputs={**r.inputs, "registries": secret}) if r is image else r for r in dev.resources])
    diff = _diff("dev", dev, head)
    (change,) = diff.changes
    (prop,) = change.properties
    assert prop.secret and prop.old is None and prop.new is None
    markdown, document, _ = build_report({"dev": _side(dev, "dev")}, {"dev": _side(head, "dev")}, BASE)
    for text in (markdown, document):
        assert "rotated-token-value" not in text and "mock-registry-token" not in text
    assert "`registries`: changed (secret, value not shown)" in markdown


def test_a_base_whose_config_fails_is_reported_not_raised(dev: Recording) -> None:
    failed = StackRun("dev", None, 'mlops:environment: "qa" is invalid')
    markdown, document, (diff,) = build_report({"dev": failed}, {"dev": _side(dev, "dev")}, BASE)
    assert diff.status == "failed"
    assert 'failed at BASE: mlops:environment: "qa" is invalid' in markdown
    report = json.loads(document)
    assert report["labels"] == ["stack-failed"]
    assert report["stacks"]["dev"]["counts"] is None
    assert report["stacks"]["dev"]["errors"] == {"base": 'mlops:environment: "qa" is invalid'}


def test_a_stack_only_at_head_is_all_create(dev: Recording) -> None:
    markdown, document, (diff,) = build_report({}, {"dev": _side(dev, "dev")}, BASE)
    assert diff.status == "added"
    assert set(_actions(diff).values()) == {"create"}
    assert "new stack (all create)" in markdown


def test_report_json_shape(prod: Recording, prod_as_dev: Recording) -> None:
    _, document, _ = build_report({"prod": _side(prod, "prod")}, {"prod": _side(prod_as_dev, "dev")}, BASE)
    report = json.loads(document)
    assert set(report) >= {"base", "labels", "stacks", "honesty", "priceTable", "estimate"}
    stack = report["stacks"]["prod"]
    assert set(stack) >= {"counts", "danger", "changes", "cost", "policy", "status", "graph"}
    assert set(stack["counts"]) == {"create", "update", "replace", "delete"}
    assert set(stack["cost"]) >= {"baseIdleMonthlyUsd", "headIdleMonthlyUsd", "deltaMonthlyUsd", "resources", "unpricedTypes"}
    assert stack["graph"].startswith("graph LR")
    assert "prod-delete" in report["labels"]


def test_an_alias_in_the_program_keeps_a_renamed_resource(tmp_path: Path) -> None:
    config = {"aws:region": "us-east-1"}
    program = "import pulumi, pulumi_aws as aws\naws.s3.Bucket({args})\n"
    (tmp_path / "old.py").write_text(program.format(args='"old", bucket="kept"'))
    (tmp_path / "new.py").write_text(program.format(args='"new", bucket="kept", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old")])'))
    (tmp_path / "bare.py").write_text(program.format(args='"new", bucket="kept"'))
    old, new, bare = (run_program("dev", config, program=tmp_path / f"{name}.py") for name in ("old", "new", "bare"))
    moved = _diff("dev", old, new)
    assert [(c.name, c.action) for c in moved.changes] == [("new", "update")] and moved.danger == []
    renamed = _diff("dev", old, bare)
    assert [d.kind for d in renamed.danger] == ["delete", "urn-change"]


@dataclasses.dataclass(frozen=True)
class _Violation:
    rule: str
    severity: str
    urn: str
    message: str


def test_policy_results_are_rendered_when_given(dev: Recording) -> None:
    def evaluate(resources: Any, environment: str) -> list[_Violation]:
        bucket = next(r for r in resources if r.type == "aws:s3/bucket:Bucket")
        return [_Violation("bucket-protected", "mandatory", bucket.urn, f"{environment}: not protected")]

    markdown, document, _ = build_report({"dev": _side(dev, "dev")}, {"dev": _side(dev, "dev")}, BASE, policy=evaluate)
    assert "**mandatory** `bucket-protected`" in markdown
    report = json.loads(document)
    assert report["stacks"]["dev"]["policy"][0]["rule"] == "bucket-protected"
    assert "policy-violation" in report["labels"]


def test_the_pack_rules_flag_a_prod_change_that_drops_protection(prod: Recording, run_with: RunWith) -> None:
    from offline.review import policy_rules

    unprotected = run_with("prod", **{"mlops:teardown": "true"})
    markdown, document, _ = build_report(
        {"prod": _side(prod, "prod")}, {"prod": _side(unprotected, "prod")}, BASE, policy=policy_rules
    )
    report = json.loads(document)
    assert {v["rule"] for v in report["stacks"]["prod"]["policy"]} == {"prod-data-protected", "gke-prod-deletion-protection"}
    assert "**mandatory** `prod-data-protected`" in markdown
    assert "policy-violation" in report["labels"]


def test_the_pack_rules_find_nothing_in_the_stack_files(dev: Recording, prod: Recording) -> None:
    from offline.review import policy_rules

    assert [v for v in policy_rules(dev.resources, "dev") + policy_rules(prod.resources, "prod") if v.severity == "mandatory"] == []


def test_the_summary_survives_truncation(dev: Recording, dev_with_backup: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    import offline.review as review

    monkeypatch.setattr(review, "DETAIL_BUDGET", 10)
    markdown, _, _ = build_report({"dev": _side(dev, "dev")}, {"dev": _side(dev_with_backup, "dev")}, BASE)
    assert "| `dev` | dev | 13 | 0 | 0 | 0 |" in markdown
    assert "more changes left out to keep this comment short" in markdown


def test_replacement_table_covers_every_type_the_program_registers(
    dev: Recording, prod: Recording, prod_on_aws: Recording, dev_cluster_training: Recording, dev_with_backup: Recording
) -> None:
    recordings = (dev, prod, prod_on_aws, dev_cluster_training, dev_with_backup)
    registered = {r.type for rec in recordings for r in rec.resources if r.custom}
    missing = registered - set(replacement_table()["types"])
    assert missing == set(), f"add these types to offline/data/replacements.json: {sorted(missing)}"


# --- two commits, the whole pipeline -------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_two_commits_unprotecting_prod_and_fixing_a_broken_stack(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, repo / name)
    for folder in ("components", "stacks", "images"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    broken = "config:\n  aws:region: us-east-1\n  mlops:environment: qa\n"
    (repo / "stacks" / "Pulumi.qa.yaml").write_text(broken)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    main = (repo / "__main__.py").read_text()
    assert "protect_data=cfg.protect_data," in main
    (repo / "__main__.py").write_text(main.replace("protect_data=cfg.protect_data,", "protect_data=False,"))
    (repo / "stacks" / "Pulumi.qa.yaml").write_text(broken.replace("qa", "dev"))
    _git(repo, "commit", "-qam", "unprotect prod data; fix qa")

    base_root = extract(_git(repo, "rev-parse", "HEAD~1"), tmp_path / "base", repo=repo)
    base_runs, head_runs = render_sides(base_root, repo)
    markdown, document, diffs = build_report(base_runs, head_runs, BASE)

    by_stack = {d.stack: d for d in diffs}
    assert by_stack["qa"].status == "failed" and "failed at BASE: mlops:environment" in markdown
    prod = by_stack["prod"]
    assert diffs[0].stack == "prod"
    assert prod.danger[0].kind == "protection-change"
    assert all(d.kind == "protection-change" for d in prod.danger)
    assert by_stack["dev"].changes == []
    danger_section = markdown.split("### Danger", 1)[1]
    assert danger_section.lstrip().startswith("- **prod** (prod) · protection-change · `aws:s3/bucket:Bucket` **data**")
    assert set(json.loads(document)["labels"]) == {"protection-change", "stack-failed"}


# --- the replacement table against the providers' source (offline/data/replacements.json) ---


def _pool(diff: StackDiff, *, gpu: bool) -> Any:
    pools = [c for c in diff.changes if c.type == "gcp:container/nodePool:NodePool"]
    return next(c for c in pools if ("gpu" in c.name) == gpu)


def test_a_gpu_machine_type_change_updates_the_pool_in_place(prod: Recording, run_with: RunWith) -> None:
    # terraform-provider-google updates machine_type in place since v5.10; a "replace" here sent a
    # reviewer after a prod-delete that would never happen.
    head = run_with("prod", **{"mlops:compute": {"machineType": "g2-standard-8"}})
    diff = _diff("prod", prod, head)
    pool = _pool(diff, gpu=True)
    assert (pool.action, [(p.path, p.old, p.new) for p in pool.properties]) == (
        "update", [("nodeConfig.machineType", "g2-standard-4", "g2-standard-8")])
    assert "prod-delete" not in labels([diff])


def test_spot_on_the_gpu_pool_still_replaces_it(prod: Recording, run_with: RunWith) -> None:
    # spot is ForceNew in node_config.go: GKE makes a new pool, so the review must say replace.
    head = run_with("prod", **{"mlops:compute": {"spot": True}})
    diff = _diff("prod", prod, head)
    pool = _pool(diff, gpu=True)
    assert pool.action == "replace"
    assert pool.reasons == ["`nodeConfig.spot` changes, which the provider cannot update in place"]
    assert "prod-delete" in labels([diff])


def test_an_ignored_input_never_forces_a_replacement(prod: Recording, run_with: RunWith) -> None:
    # More serving replicas change the CPU pool's initialNodeCount (ForceNew), which the program
    # ignores after creation; only the autoscaling bounds are updated, and serving stays up.
    head = run_with("prod", **{"mlops:serving": {"minReplicas": 4}})
    pool = _pool(_diff("prod", prod, head), gpu=False)
    assert pool.action == "update"
    assert [p.path for p in pool.properties] == ["autoscaling.totalMinNodeCount"]


# --- exposure to the internet: first under Danger, labelled prod-exposed -----------------------


def _edited(recording: Recording, type_: str, name: str, **inputs: Any) -> Recording:
    old = recording.get(type_, name)
    new = dataclasses.replace(old, inputs={**old.inputs, **inputs})
    return Recording(resources=[new if r is old else r for r in recording.resources])


def test_a_public_serving_endpoint_is_first_under_danger(prod: Recording, run_with: RunWith) -> None:
    # publicEndpoint: true drops the internal annotation: the model answers the whole internet.
    # It comes before the pool replacement (spot) in the same change.
    head = run_with("prod", **{"mlops:gke": {"publicEndpoint": True}, "mlops:compute": {"spot": True}})
    diff = _diff("prod", prod, head)
    assert [d.kind for d in diff.danger] == ["exposure", "replacement"]
    first = diff.danger[0]
    assert (first.kind, first.type, first.name) == ("exposure", "kubernetes:core/v1:Service", "serving-service")
    assert first.message.startswith("opens to the internet: its load balancer admits every address on TCP 8080")
    assert "prod-exposed" in labels([diff])


def test_a_dev_exposure_is_danger_without_the_prod_label(dev: Recording) -> None:
    head = _edited(dev, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-ingress",
                   spec={**dev.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-ingress").inputs["spec"],
                         "ingress": [{}]})
    diff = _diff("dev", dev, head)
    assert [(d.kind, d.name) for d in diff.danger] == [("exposure", "serving-ingress")]
    assert "prod-exposed" not in labels([diff])


def test_a_network_policy_opened_to_every_port_is_an_exposure(prod: Recording) -> None:
    # The serving policy admits every source on 8080 only; dropping its ports admits them on all.
    policy = prod.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-ingress")
    head = _edited(prod, policy.type, policy.name, spec={**policy.inputs["spec"], "ingress": [{}]})
    (exposure,) = [d for d in _diff("prod", prod, head).danger if d.kind == "exposure"]
    assert (exposure.name, exposure.message) == ("serving-ingress", "opens to the internet: pod ingress admits every address")


def test_a_network_policy_narrowed_to_the_cluster_is_no_exposure(prod: Recording) -> None:
    policy = prod.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-ingress")
    rule = {**policy.inputs["spec"]["ingress"][0], "from": [{"namespaceSelector": {}}]}
    head = _edited(prod, policy.type, policy.name, spec={**policy.inputs["spec"], "ingress": [rule]})
    assert [d.kind for d in _diff("prod", prod, head).danger] == []


def test_a_public_authorized_network_is_an_exposure(prod: Recording, run_with: RunWith) -> None:
    # The control plane answers a new range of internet addresses: a reviewer checks who owns it.
    head = run_with("prod", **{"mlops:gke": {"authorizedNetworks": ["35.1.2.0/24"]}})
    (exposure,) = [d for d in _diff("prod", prod, head).danger if d.kind == "exposure"]
    assert (exposure.type, exposure.message) == (
        "gcp:container/cluster:Cluster", "opens to the internet: the control plane admits 35.1.2.0/24")


def test_a_public_bucket_policy_is_an_exposure(prod: Recording) -> None:
    policy = prod.get("aws:s3/bucketPolicy:BucketPolicy", "data-policy")
    statement = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    document = json.loads(policy.inputs["policy"])
    public = json.dumps({**document, "Statement": [*document["Statement"], statement]})
    diff = _diff("prod", prod, _edited(prod, policy.type, policy.name, policy=public))
    assert [(d.kind, d.name, d.message) for d in diff.danger] == [
        ("exposure", "data-policy", "opens to the internet: the bucket policy admits every address")]
    assert labels([diff]) == ["prod-exposed"]


def test_two_commits_making_prod_public_show_it_first_under_danger(tmp_path: Path) -> None:
    from offline.review import policy_rules

    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, repo / name)
    for folder in ("components", "stacks", "images"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    stack = repo / "stacks" / "Pulumi.prod.yaml"
    text = stack.read_text()
    assert text.count("publicEndpoint: false") == 1
    stack.write_text(text.replace("publicEndpoint: false", "publicEndpoint: true"))
    _git(repo, "commit", "-qam", "prod serves the internet")

    base_root = extract(_git(repo, "rev-parse", "HEAD~1"), tmp_path / "base", repo=repo)
    base_runs, head_runs = render_sides(base_root, repo)
    markdown, document, diffs = build_report(base_runs, head_runs, BASE, policy=policy_rules)

    danger_section = markdown.split("### Danger", 1)[1]
    assert danger_section.lstrip().startswith(
        "- **prod** (prod) · exposure · `kubernetes:core/v1:Service` **serving-service** opens to the internet")
    report = json.loads(document)
    # The program gives a public endpoint its bearer token, so the mandatory rule holds.
    assert report["labels"] == ["prod-exposed"]
    assert [v["rule"] for v in report["stacks"]["prod"]["policy"] if v["severity"] == "mandatory"] == []


# --- cost in the Markdown ----------------------------------------------------------------------


def test_the_markdown_shows_the_training_run_cost_change(prod: Recording, run_with: RunWith) -> None:
    # A bigger GPU machine costs nothing while idle; only the per-run line shows what it costs.
    head = run_with("prod", **{"mlops:compute": {"machineType": "g2-standard-8"}})
    markdown, _, _ = build_report({"prod": _side(prod, "prod")}, {"prod": _side(head, "prod")}, BASE)
    assert ("- one training run on `gke-gpu`: g2-standard-4 on-demand $0.71 typical (1 h), upper bound $4.77 → "
            "g2-standard-8 on-demand $0.85 typical (1 h), upper bound $5.76") in markdown.splitlines()


def test_moving_training_to_gke_shows_the_cross_cloud_data_cost(prod: Recording, prod_on_aws: Recording) -> None:
    markdown, document, _ = build_report({"prod": _side(prod_on_aws, "prod")}, {"prod": _side(prod, "prod")}, BASE)
    (line,) = [line for line in markdown.splitlines() if line.startswith("- none (data and compute in one cloud) → ")]
    assert line.endswith("→ cross-cloud data: each GB a training run reads from S3 costs $0.135 (AWS data transfer out to "
                         "the internet $0.09/GB + Cloud NAT data processing on GKE $0.045/GB); the stack does not know "
                         "the data set's size, so multiply by the GB each run reads")
    assert json.loads(document)["stacks"]["prod"]["cost"]["crossCloudEgress"]["perGbReadUsd"] == 0.135


def test_the_markdown_has_no_training_line_when_its_cost_is_unchanged(dev: Recording, dev_with_backup: Recording) -> None:
    markdown, _, _ = build_report({"dev": _side(dev, "dev")}, {"dev": _side(dev_with_backup, "dev")}, BASE)
    assert "Training run cost" not in markdown
