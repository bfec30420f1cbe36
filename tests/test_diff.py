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


def _program_copy(repo: Path) -> Path:
    """The program, its stacks and images in a new folder, to commit changes to."""
    repo.mkdir()
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, repo / name)
    for folder in ("components", "stacks", "images"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return repo


def test_two_commits_unprotecting_prod_and_fixing_a_broken_stack(tmp_path: Path) -> None:
    repo = _program_copy(tmp_path / "repo")
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

    repo = _program_copy(tmp_path / "repo")
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


# --- labels and danger, on hand-made registrations (no program run) ---------------------------

from offline.diff import Danger, compare_resources, danger, property_changes  # noqa: E402
from offline.engine import Registration  # noqa: E402

BUCKET_T = "aws:s3/bucket:Bucket"
KEY_T = "aws:kms/key:Key"
TOPIC_T = "aws:sns/topic:Topic"


def reg(type_: str, name: str, /, *, protect: bool = False, retain: bool = False, provider: str = "",
        aliases: tuple[str, ...] = (), parent: str = "", **inputs: Any) -> Registration:
    urn = f"urn:pulumi:s::mlops::{parent + '$' if parent else ''}{type_}::{name}"
    return Registration(type=type_, name=name, urn=urn, id=f"{name}-id", inputs=inputs, state=dict(inputs), parent="",
                        provider=provider, protect=protect, retain_on_delete=retain, delete_before_replace=False,
                        custom=True, aliases=aliases)


def diff_of(base: list[Registration], head: list[Registration], *, environment: str = "prod",
            base_environment: str | None = None) -> StackDiff:
    return compare_stack("s", StackRun(base_environment or environment, base), StackRun(environment, head))


# A bucket renamed (replaced), a bucket removed, a key renamed without an alias (URN change).
DATA = reg(BUCKET_T, "data", bucket="mlops-data")
RENAMED_DATA = reg(BUCKET_T, "data", bucket="mlops-data-2")
KEY = reg(KEY_T, "key", description="data")
KEY_RENAMED = reg(KEY_T, "data-key", description="data")
TOPIC = reg(TOPIC_T, "alerts", displayName="a")

# (base, head, environment, base environment) -> exactly the labels the PR gets.
LABEL_CASES: dict[str, tuple[list[Registration], list[Registration], str, str | None, list[str]]] = {
    "prod-replacement": ([DATA], [RENAMED_DATA], "prod", None, ["prod-delete", "replacement"]),
    "prod-delete": ([DATA, TOPIC], [TOPIC], "prod", None, ["prod-delete"]),
    "prod-urn-change": ([KEY], [KEY_RENAMED], "prod", None, ["prod-delete"]),
    "dev-replacement": ([DATA], [RENAMED_DATA], "dev", None, ["replacement"]),
    "dev-delete": ([DATA, TOPIC], [TOPIC], "dev", None, []),
    "dev-urn-change": ([KEY], [KEY_RENAMED], "dev", None, []),
    "moved-off-prod-delete": ([DATA, TOPIC], [TOPIC], "dev", "prod", ["prod-delete"]),
    "prod-create": ([TOPIC], [TOPIC, DATA], "prod", None, []),
    "prod-update": ([TOPIC], [reg(TOPIC_T, "alerts", displayName="b")], "prod", None, []),
    "no-change": ([TOPIC], [TOPIC], "prod", None, ["no-infra-change"]),
    "dev-unprotect": ([reg(BUCKET_T, "data", protect=True)], [reg(BUCKET_T, "data")], "dev", None, ["protection-change"]),
}


@pytest.mark.parametrize("case", LABEL_CASES)
def test_each_kind_of_change_gets_exactly_its_labels(case: str) -> None:
    # The labels route the PR: prod-delete asks for a second reviewer; a missing one lets a prod
    # replacement (data gone, a new empty bucket) merge with one approval.
    base, head, environment, base_environment, expected = LABEL_CASES[case]
    assert labels([diff_of(base, head, environment=environment, base_environment=base_environment)]) == expected


def test_a_failed_stack_and_a_mandatory_violation_are_labelled() -> None:
    failed = compare_stack("s", StackRun("dev", None, "boom"), StackRun("dev", [TOPIC]))
    blocked = compare_stack("t", StackRun("dev", [TOPIC]), StackRun("dev", [TOPIC]),
                            policy=[_Violation("r", "mandatory", TOPIC.urn, "m")])
    advised = compare_stack("u", StackRun("dev", [TOPIC]), StackRun("dev", [TOPIC]),
                            policy=[_Violation("r", "advisory", TOPIC.urn, "m")])
    assert (labels([failed]), labels([blocked]), labels([advised])) == (["stack-failed"], ["no-infra-change", "policy-violation"], ["no-infra-change"])


def test_one_changed_stack_among_unchanged_ones_is_an_infra_change() -> None:
    unchanged = diff_of([TOPIC], [TOPIC])
    assert labels([unchanged, diff_of([DATA], [RENAMED_DATA], environment="dev")]) == ["replacement"]


def test_a_prod_exposure_is_labelled_and_a_dev_one_is_not() -> None:
    public = reg(BUCKET_T, "data", acl="public-read")
    assert (labels([diff_of([reg(BUCKET_T, "data")], [public])]),
            labels([diff_of([reg(BUCKET_T, "data")], [public], environment="dev")])) == (["prod-exposed"], [])


def kinds(d: StackDiff) -> list[tuple[str, str, str]]:
    return [(x.kind, x.name, x.message) for x in d.danger]


def test_a_replacement_says_why_and_a_delete_says_deleted() -> None:
    assert kinds(diff_of([DATA, TOPIC], [RENAMED_DATA])) == [
        ("delete", "alerts", "is deleted"),
        ("replacement", "data", "likely replaced (estimate): `bucket` changes, which the provider cannot update in place"),
    ]


def test_a_protected_resource_replaced_or_deleted_is_first_among_deletes() -> None:
    # `pulumi up` stops on it: the reviewer must know before merging, not at deploy time.
    base = [reg(BUCKET_T, "data", protect=True, bucket="a"), reg(TOPIC_T, "alerts", protect=True)]
    head = [reg(BUCKET_T, "data", protect=True, bucket="b")]
    assert kinds(diff_of(base, head)) == [
        ("protected-delete", "data", "is protected and would be replaced: `pulumi up` stops on it until it is unprotected"),
        ("protected-delete", "alerts", "is protected and would be deleted: `pulumi up` stops on it until it is unprotected"),
        ("delete", "alerts", "is deleted"),
        ("replacement", "data", "likely replaced (estimate): `bucket` changes, which the provider cannot update in place"),
    ]


def test_protection_removed_comes_before_protection_added() -> None:
    base = [reg(TOPIC_T, "a", protect=True), reg(TOPIC_T, "b"), reg(TOPIC_T, "c", retain=True)]
    head = [reg(TOPIC_T, "a"), reg(TOPIC_T, "b", protect=True), reg(TOPIC_T, "c")]
    assert kinds(diff_of(base, head)) == [
        ("protection-change", "a", "protect: true -> false (protection removed)"),
        ("protection-change", "c", "retainOnDelete: true -> false (protection removed)"),
        ("protection-change", "b", "protect: false -> true"),
    ]


def test_within_one_kind_the_data_comes_first() -> None:
    # A bucket, then its key, then the registry: what holds data is read first.
    repo = reg("aws:ecr/repository:Repository", "repo")
    base = [TOPIC, repo, KEY, DATA]
    assert [x.name for x in diff_of(base, []).danger] == ["data", "key", "repo", "alerts"]


def test_the_danger_kinds_come_in_their_order() -> None:
    base = [reg(BUCKET_T, "data", protect=True), reg(KEY_T, "key", description="k"), reg(TOPIC_T, "t", bucket="x"),
            reg("aws:cloudwatch/logGroup:LogGroup", "logs", name="a")]
    head = [reg(BUCKET_T, "data", acl="public-read"), reg(KEY_T, "key2", description="k"),
            reg("aws:cloudwatch/logGroup:LogGroup", "logs", name="b")]
    assert [x.kind for x in diff_of(base, head).danger] == [
        "exposure", "protection-change", "delete", "delete", "urn-change", "replacement"]


def test_a_urn_change_is_matched_by_name_or_by_same_inputs() -> None:
    # Same type and either the same name (re-parented) or the same inputs (renamed): one resource moved.
    reparented = reg(TOPIC_T, "alerts", parent="mlops:monitoring:Alerts", displayName="a")
    renamed = reg(TOPIC_T, "alarms", displayName="a")
    other = reg(TOPIC_T, "alarms", displayName="b")
    assert ([x.kind for x in diff_of([TOPIC], [reparented]).danger], [x.kind for x in diff_of([TOPIC], [renamed]).danger],
            [x.kind for x in diff_of([TOPIC], [other]).danger]) == (
        ["delete", "urn-change"], ["delete", "urn-change"], ["delete"])


def test_a_urn_change_message_names_both_urns_and_the_fix() -> None:
    (change,) = [x for x in diff_of([KEY], [KEY_RENAMED]).danger if x.kind == "urn-change"]
    assert change == Danger("urn-change", KEY_RENAMED.urn, KEY_T, "data-key",
                            f"URN changes without an alias: `{KEY.urn}` -> `{KEY_RENAMED.urn}`; Pulumi deletes it and creates it "
                            "again. Add `aliases=[...]` with the old URN if it is the same resource.")


def test_another_type_with_the_same_name_is_no_urn_change() -> None:
    assert [x.kind for x in diff_of([reg(TOPIC_T, "x")], [reg("aws:sqs/queue:Queue", "x")]).danger] == ["delete"]


def test_a_provider_change_replaces_the_resource_and_says_so() -> None:
    # Another provider is another region or account: the resource is created there and deleted here.
    old = reg(TOPIC_T, "alerts", provider="urn:pulumi:s::mlops::pulumi:providers:aws::aws::id1")
    same_provider_new_id = reg(TOPIC_T, "alerts", provider="urn:pulumi:s::mlops::pulumi:providers:aws::aws::id2")
    moved = reg(TOPIC_T, "alerts", provider="urn:pulumi:s::mlops::pulumi:providers:aws::aws-backup::id1")
    assert compare_resources([old], [same_provider_new_id]) == []
    (change,) = compare_resources([old], [moved])
    assert (change.action, change.reasons, change.options) == (
        "replace", ["its provider changes (another region or account)"],
        ["provider: urn:pulumi:s::mlops::pulumi:providers:aws::aws::id1 -> urn:pulumi:s::mlops::pulumi:providers:aws::aws-backup::id1"])


def test_a_resource_from_the_default_provider_shows_default() -> None:
    (change,) = compare_resources([reg(TOPIC_T, "alerts")], [reg(TOPIC_T, "alerts", provider="urn:p::west::id")])
    assert change.options == ["provider: (default) -> urn:p::west::id"]


def test_a_moved_resource_without_changes_is_an_update_of_its_old_urn() -> None:
    head = reg(TOPIC_T, "alarms", displayName="a", aliases=(TOPIC.urn,))
    (change,) = compare_resources([TOPIC], [head])
    assert (change.urn, change.action, change.old_urn, change.properties) == (head.urn, "update", TOPIC.urn, [])


def test_a_moved_protected_resource_that_is_replaced_is_a_protected_delete() -> None:
    base = reg(BUCKET_T, "data", protect=True, bucket="a")
    head = reg(BUCKET_T, "bucket", protect=True, bucket="b", aliases=(base.urn,))
    assert [x.kind for x in diff_of([base], [head]).danger] == ["protected-delete", "replacement"]


def test_a_create_lists_every_input_and_protects_as_at_head() -> None:
    (change,) = compare_resources([], [reg(BUCKET_T, "data", protect=True, bucket="b")])
    assert (change.action, change.protected, [(p.path, p.old, p.new) for p in change.properties]) == (
        "create", True, [("bucket", None, "b")])


def test_a_delete_is_protected_as_at_base() -> None:
    (change,) = compare_resources([reg(BUCKET_T, "data", protect=True)], [])
    assert (change.action, change.protected) == ("delete", True)


def test_a_component_is_never_a_change() -> None:
    component = dataclasses.replace(reg("mlops:storage:DataBucket", "data"), custom=False)
    assert compare_resources([component], []) == []


PROPERTY_CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], list[tuple[str, Any, Any, bool]]]] = {
    "top-level-forces": (BUCKET_T, {"bucket": "a"}, {"bucket": "b"}, [("bucket", "a", "b", True)]),
    "nested-forces": (BUCKET_T, {"objectLockConfiguration": {"objectLockEnabled": "Enabled", "x": 1}},
                      {"objectLockConfiguration": {"objectLockEnabled": None, "x": 2}},
                      [("objectLockConfiguration.objectLockEnabled", "Enabled", None, True), ("objectLockConfiguration.x", 1, 2, False)]),
    "update-in-place": (BUCKET_T, {"tags": {"a": "1"}}, {"tags": {"a": "2"}}, [("tags.a", "1", "2", False)]),
    "list-items": (TOPIC_T, {"l": [1, 2]}, {"l": [1, 3]}, [("l[1]", 2, 3, False)]),
    "list-length": (TOPIC_T, {"l": [1]}, {"l": [1, 2]}, [("l", [1], [1, 2], False)]),
    "json-document-by-field": (TOPIC_T, {"policy": '{"a": 1, "b": 2}'}, {"policy": '{"b": 2, "a": 3}'}, [("policy.a", 1, 3, False)]),
    "unknown-type-never-forces": (TOPIC_T, {"name": "a"}, {"name": "b"}, [("name", "a", "b", False)]),
}


@pytest.mark.parametrize("case", PROPERTY_CASES)
def test_property_changes_are_each_changed_leaf(case: str) -> None:
    type_, old, new, expected = PROPERTY_CASES[case]
    assert [(p.path, p.old, p.new, p.forces_replacement) for p in property_changes(type_, old, new)] == expected


def test_an_ignored_path_and_its_children_are_not_diffed() -> None:
    old, new = {"a": {"b": 1, "c": 1}, "ab": 1, "l": [1]}, {"a": {"b": 2, "c": 2}, "ab": 2, "l": [2]}
    assert [p.path for p in property_changes(TOPIC_T, old, new, ignore_changes=("a.b", "l"))] == ["a.c", "ab"]
    assert [p.path for p in property_changes(TOPIC_T, old, new, ignore_changes=("a",))] == ["ab", "l[0]"]


def test_a_change_to_json_keeps_a_secret_value_out() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "s3cret"}
    (change,) = property_changes(TOPIC_T, {"token": secret}, {"token": {**secret, "value": "other"}})
    assert change.to_json() == {"path": "token", "secret": True, "forcesReplacement": False}
    plain = property_changes(TOPIC_T, {"n": 1}, {"n": 2})[0]
    assert plain.to_json() == {"path": "n", "old": 1, "new": 2, "forcesReplacement": False}


def test_a_resource_change_to_json_names_its_alias_only_when_moved() -> None:
    head = reg(TOPIC_T, "alarms", displayName="a", aliases=(TOPIC.urn,))
    (moved,) = compare_resources([TOPIC], [head])
    (deleted,) = compare_resources([TOPIC], [])
    assert moved.to_json() == {"urn": head.urn, "type": TOPIC_T, "name": "alarms", "action": "update", "protected": False,
                               "properties": [], "replaceReasons": [], "optionChanges": [], "aliasOf": TOPIC.urn}
    assert "aliasOf" not in deleted.to_json()


def test_stacks_come_prod_first_then_by_name() -> None:
    from offline.diff import compare_sides

    runs = {"b": StackRun("dev", [TOPIC]), "a": StackRun("dev", [TOPIC]), "z": StackRun("prod", [TOPIC])}
    assert [d.stack for d in compare_sides(runs, runs)] == ["z", "a", "b"]


def test_a_removed_stack_is_all_delete_and_counts_by_action() -> None:
    d = compare_stack("s", StackRun("prod", [TOPIC, DATA]), None)
    assert (d.status, d.counts, d.is_prod) == ("removed", {"create": 0, "update": 0, "replace": 0, "delete": 2}, True)


def test_danger_takes_the_old_resource_of_a_moved_one() -> None:
    base = reg(BUCKET_T, "data", acl="public-read")
    head = reg(BUCKET_T, "bucket", acl="public-read", aliases=(base.urn,))
    changes = compare_resources([base], [head])
    assert danger(changes, [base], [head]) == []


# --- the Markdown comment, line by line, for a change of every kind ----------------------------

from offline.values import SECRET_SIG, SECRET_SIG_KEY  # noqa: E402

REPORT_BODY = [
    '### Summary',
    '',
    '| stack | env | create | update | replace | delete | idle cost / month (base → head) | status |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | --- |',
    '| `prod` | prod | 2 | 1 | 1 | 3 | $33.85 → $1.00 (-$32.85) + UNPRICED | compared |',
    '| `dev` | dev | 0 | 0 | 0 | 0 | $0.00 → $0.00 (+$0.00) + UNPRICED | compared |',
    '',
    '### Danger',
    '',
    '- **prod** (prod) · protected-delete · `aws:s3/bucket:Bucket` **data** is protected and would be replaced: `pulumi up` stops on it until it is unprotected',
    '- **prod** (prod) · protection-change · `aws:s3/bucket:Bucket` **data** protect: true -> false (protection removed)',
    '- **prod** (prod) · delete · `aws:kms/key:Key` **key** is deleted',
    '- **prod** (prod) · delete · `aws:ec2/natGateway:NatGateway` **nat** is deleted',
    '- **prod** (prod) · delete · `aws:sns/topic:Topic` **gone** is deleted',
    '- **prod** (prod) · urn-change · `aws:kms/key:Key` **key2** URN changes without an alias: `urn:pulumi:s::mlops::aws:kms/key:Key::key` -> `urn:pulumi:s::mlops::aws:kms/key:Key::key2`; Pulumi deletes it and creates it again. Add `aliases=[...]` with the old URN if it is the same resource.',
    '- **prod** (prod) · replacement · `aws:s3/bucket:Bucket` **data** likely replaced (estimate): `bucket` changes, which the provider cannot update in place',
    '',
    '### Stack `prod`',
    '',
    '<details><summary>7 resource changes</summary>',
    '',
    '- `-` **delete** `aws:ec2/natGateway:NatGateway` **nat**',
    '- `-` **delete** `aws:kms/key:Key` **key**',
    '- `+` **create** `aws:kms/key:Key` **key2**',
    '- `+-` **replace** `aws:s3/bucket:Bucket` **data** [protected]',
    '  - replaces: `bucket` changes, which the provider cannot update in place',
    '  - option protect: true -> false',
    '  - `bucket`: `a` → `b`',
    '- `-` **delete** `aws:sns/topic:Topic` **gone**',
    '- `~` **update** `aws:sns/topic:Topic` **script**',
    '  - `size`: `1` → `2`',
    '  - `token`: changed (secret, value not shown)',
    '  - `userData` (changed lines):',
    '',
    '    ```diff',
    '    -line2',
    '    +line3',
    '    ```',
    '',
    '- `+` **create** `aws:sqs/queue:Queue` **q**',
    '',
    '</details>',
    '',
    '<details><summary>Cost: idle $33.85 → $1.00 (-$32.85) + UNPRICED a month</summary>',
    '',
    '| resource | base | head | delta |',
    '| --- | ---: | ---: | ---: |',
    '| `aws:ec2/natGateway:NatGateway` nat | $32.85 | – | -$32.85 |',
    '| `aws:kms/key:Key` key | $1.00 | – | -$1.00 |',
    '| `aws:kms/key:Key` key2 | – | $1.00 | $1.00 |',
    '| `aws:sns/topic:Topic` gone | – | – | UNPRICED |',
    '| `aws:sqs/queue:Queue` q | – | – | UNPRICED |',
    '',
    '</details>',
    '',
    'UNPRICED (not counted): `aws:sns/topic:Topic`, `aws:sqs/queue:Queue`',
    '',
    'Policy: 2 violation(s)',
    '',
    '- **mandatory** `s3-tls-only` `data-policy`: no tls',
    '- **advisory** `s3-bucket-key` `sse`: no key',
    '',
]
DEV_TAIL = ['### Stack `dev`', '', 'UNPRICED (not counted): `aws:sns/topic:Topic`', '', 'Policy: 2 violation(s)', '', '- **mandatory** `s3-tls-only` `data-policy`: no tls', '- **advisory** `s3-bucket-key` `sse`: no key', '', 'No change in: `dev`.']


def every_kind_report() -> tuple[str, dict[str, Any]]:
    """A protected bucket replaced, a key renamed without an alias, a NAT gateway deleted (the cost
    drop), a script's changed lines, a secret, a new unpriced queue, and two policy results."""
    def secret(value: str) -> dict[str, str]:
        return {SECRET_SIG_KEY: SECRET_SIG, "value": value}

    base = [reg(BUCKET_T, "data", protect=True, bucket="a"), reg(KEY_T, "key", description="k"), reg(TOPIC_T, "gone"),
            reg("aws:ec2/natGateway:NatGateway", "nat"), reg(TOPIC_T, "script", userData="line1\nline2\n", token=secret("a"), size=1)]
    head = [reg(BUCKET_T, "data", bucket="b"), reg(KEY_T, "key2", description="k"),
            reg(TOPIC_T, "script", userData="line1\nline3\n", token=secret("b"), size=2.0), reg("aws:sqs/queue:Queue", "q", name="q")]

    def policy(resources: Any, environment: str) -> list[_Violation]:
        return [_Violation("s3-bucket-key", "advisory", "urn:x::sse", "no key"), _Violation("s3-tls-only", "mandatory", "urn:x::data-policy", "no tls")]

    markdown, document, _ = build_report({"prod": StackRun("prod", base), "dev": StackRun("dev", [TOPIC])},
                                  {"prod": StackRun("prod", head), "dev": StackRun("dev", [TOPIC])}, BASE, policy=policy)
    return markdown, json.loads(document)


def test_the_comment_shows_every_kind_of_change_its_danger_cost_and_policy() -> None:
    # What the reviewer reads, line by line; policy results mandatory first.
    markdown, _ = every_kind_report()
    lines = markdown.splitlines()
    assert "**Labels:** `policy-violation`, `prod-delete`, `protection-change`, `replacement`" in lines
    summary = lines.index("### Summary")
    graph = lines.index("<details><summary>Graph of the changed resources and one hop around them</summary>")
    assert lines[summary:graph] == REPORT_BODY
    assert lines[lines.index("### Stack `dev`"):] == DEV_TAIL


def test_report_json_carries_counts_cost_rows_and_policy_exactly() -> None:
    # The CI job and the labels read report.json; the cost rows name what changes the bill.
    _, report = every_kind_report()
    prod = report["stacks"]["prod"]
    assert (prod["status"], prod["errors"], prod["counts"]) == ("ok", {}, {"create": 2, "update": 1, "replace": 1, "delete": 3})
    urn = "urn:pulumi:s::mlops::{}".format
    assert prod["cost"] == {
        "baseIdleMonthlyUsd": 33.85, "headIdleMonthlyUsd": 1.0, "deltaMonthlyUsd": -32.85,
        "resources": [
            {"urn": urn("aws:ec2/natGateway:NatGateway::nat"), "type": "aws:ec2/natGateway:NatGateway", "name": "nat",
             "baseMonthlyUsd": 32.85, "headMonthlyUsd": None, "deltaMonthlyUsd": -32.85},
            {"urn": urn("aws:kms/key:Key::key"), "type": KEY_T, "name": "key", "baseMonthlyUsd": 1.0, "headMonthlyUsd": None,
             "deltaMonthlyUsd": -1.0},
            {"urn": urn("aws:kms/key:Key::key2"), "type": KEY_T, "name": "key2", "baseMonthlyUsd": None, "headMonthlyUsd": 1.0,
             "deltaMonthlyUsd": 1.0},
            {"urn": urn("aws:sns/topic:Topic::gone"), "type": TOPIC_T, "name": "gone", "baseMonthlyUsd": None, "headMonthlyUsd": None,
             "deltaMonthlyUsd": None},
            {"urn": urn("aws:sqs/queue:Queue::q"), "type": "aws:sqs/queue:Queue", "name": "q", "baseMonthlyUsd": None,
             "headMonthlyUsd": None, "deltaMonthlyUsd": None},
        ],
        "unpricedTypes": ["aws:sns/topic:Topic", "aws:sqs/queue:Queue"],
        "trainingRun": [], "baseTrainingRun": [], "crossCloudEgress": None,
    }
    assert prod["policy"] == [
        {"rule": "s3-bucket-key", "severity": "advisory", "urn": "urn:x::sse", "message": "no key"},
        {"rule": "s3-tls-only", "severity": "mandatory", "urn": "urn:x::data-policy", "message": "no tls"},
    ]
    assert report["labels"] == ["policy-violation", "prod-delete", "protection-change", "replacement"]
    (bucket,) = [c for c in prod["changes"] if c["name"] == "data"]
    assert bucket == {"urn": urn("aws:s3/bucket:Bucket::data"), "type": BUCKET_T, "name": "data", "action": "replace",
                      "protected": True, "properties": [{"path": "bucket", "old": "a", "new": "b", "forcesReplacement": True}],
                      "replaceReasons": ["`bucket` changes, which the provider cannot update in place"],
                      "optionChanges": ["protect: true -> false"]}


@pytest.mark.parametrize(("length", "shown"), [(160, "a" * 160), (161, "a" * 159 + "…"), (400, "a" * 159 + "…")])
def test_a_long_value_is_cut_to_the_reports_width_with_an_ellipsis(length: int, shown: str) -> None:
    # A value over VALUE_CHARS is cut so that, with its ellipsis, it is exactly that wide: the
    # comment's tables stay readable, and a value that fits is never marked as cut.
    from offline.review import VALUE_CHARS, _value

    assert VALUE_CHARS == 160
    assert _value("a" * length) == f"`{shown}`"


def test_git_failures_stop_the_review() -> None:
    # A mistyped BASE must stop `make diff` with git's error, not review against nothing.
    from offline.review import _git

    with pytest.raises(subprocess.CalledProcessError):
        _git("rev-parse", "--verify", "no-such-ref-anywhere")


def test_a_stack_with_no_environment_is_checked_as_no_environment(prod: Recording) -> None:
    # The policy pack's prod rules key on the environment; a stack file without one must not pass as
    # some other environment.
    seen: list[str] = []

    def policy(resources: Any, environment: str) -> list[Any]:
        seen.append(environment)
        return []

    build_report({"qa": StackRun(None, list(prod.resources))}, {"qa": StackRun(None, list(prod.resources))}, BASE, policy=policy)
    assert seen == [""]


def test_a_public_load_balancer_says_what_made_it_public_and_what_it_needs(prod: Recording, prod_public: Recording) -> None:
    (exposure,) = [d for d in _diff("prod", prod, prod_public).danger if d.kind == "exposure" and d.name == "serving-service"]
    assert exposure.message.endswith(
        " (no internal load-balancer annotation: `mlops:gke.publicEndpoint: true` does this; "
        "the endpoint needs authentication in front of it)")


def test_git_answers_are_text() -> None:
    # Commit ids go into the report's title and into `git archive`; bytes would print as b'...'.
    from offline.review import _git

    head = _git("rev-parse", "HEAD")
    assert isinstance(head, str) and len(head) == 40
