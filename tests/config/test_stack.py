"""StackConfig composes the sections: invalid config fails before any resource exists, with one
message naming each key; every default and bound holds; the parsed config is immutable."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from components.config import ConfigError, Environment, StackConfig
from offline.engine import Recording, run_program, stack_config_with
from tests.config.support import gke_sections, iris, parse, problems, with_budget

# (case, stack, changes, the message must contain all of these)
INVALID: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("wrong enum", "dev", {"mlops:registry": {"kind": "quay"}}, ("mlops:registry.kind", '"quay"', "'ecr' or 'artifact-registry'")),
    ("wrong environment", "dev", {"mlops:environment": "staging"}, ("mlops:environment", '"staging"', "'dev' or 'prod'")),
    ("number below range", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"minReplicas": 0}}}}, ("mlops:projects.iris.serve.minReplicas", "0", "greater than or equal to 1")),
    ("number above range", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"targetCpuUtilization": 150}}}}, ("mlops:projects.iris.serve.targetCpuUtilization", "150", "less than or equal to 100")),
    ("noncurrent days below 1", "dev", {"mlops:storage": {"noncurrentVersionDays": 0}}, ("mlops:storage.noncurrentVersionDays", "0", "greater than or equal to 1")),
    ("archive before S3 allows it", "dev", {"mlops:storage": {"archiveAfterDays": 7}}, ("mlops:storage.archiveAfterDays", "7", "greater than or equal to 30")),
    ("a number given as text", "dev", {"mlops:registry": {"keepImages": "ten"}}, ("mlops:registry.keepImages", '"ten"', "valid integer")),
    ("a number in quotes", "dev", {"mlops:registry": {"keepImages": "10"}}, ("mlops:registry.keepImages", '"10"', "write it as a YAML number, 10, without quotes")),
    ("a boolean in quotes", "dev", {"mlops:compute": {"spot": "false"}}, ("mlops:compute.spot", '"false"', "write it as a YAML boolean, false, without quotes")),
    ("mistyped aws:region", "dev", {"aws:region": "us-east1"}, ("aws:region", '"us-east1"', "not an AWS region", "did you mean us-east-1?")),
    ("region of another partition", "dev", {"aws:region": "cn-north-1"}, ("aws:region", '"cn-north-1"', "not an AWS region")),
    ("backup region that is no region", "dev", {"mlops:storage": {"backupRegion": "uswest2"}}, ("mlops:storage.backupRegion", '"uswest2"', "not an AWS region", "did you mean us-west-2?")),
    ("teardown that is not a boolean", "prod", {"mlops:teardown": "yes"}, ("mlops:teardown", '"yes"', "must be true or false")),
    ("nested key set flat, without --path", "dev", {"mlops:storage.backupRegion": "us-west-2"}, ("mlops:storage.backupRegion", "flat key", "pulumi config set --path 'mlops:storage.backupRegion' <value>", "under mlops:storage")),
    ("replicas min > max", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"minReplicas": 3, "maxReplicas": 2}}}}, ("mlops:projects.iris.serve.minReplicas", "3", "maxReplicas (2)")),
    ("nodes min > max", "dev", {"mlops:compute": {"minNodes": 3, "maxNodes": 1}}, ("mlops:compute.minNodes", "3", "maxNodes (1)")),
    ("mistyped key in a section", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"minReplica": 2}}}}, ("mlops:projects.iris.serve.minReplica", "unknown key (did you mean minReplicas?)", "allowed keys in mlops:projects.iris.serve")),
    ("mistyped top-level key", "dev", {"mlops:projetcs": {"iris": {}}}, ("mlops:projetcs", "unknown key (did you mean projects?)", "allowed keys are")),
    ("unknown key nothing like a known one", "dev", {"mlops:zzz": "1"}, ("mlops:zzz", "unknown key; allowed keys are environment, teardown, storage")),
    ("cron that does not parse", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "schedule": "every day"}}}}, ("mlops:projects.iris.train.schedule", '"every day"', "5-field cron")),
    ("cron out of range", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "schedule": "0 25 * * *"}}}}, ("mlops:projects.iris.train.schedule", '"0 25 * * *"', "hour field has 25", "out of range", "hour is 0-23")),
    ("cron weekday out of range", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "schedule": "0 3 * * 8"}}}}, ("mlops:projects.iris.train.schedule", "day-of-week field has 8", "day-of-week is 0-7 or SUN-SAT")),
    ("cron with both day fields", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "schedule": "0 3 1 * 1"}}}}, ("mlops:projects.iris.train.schedule", "both day-of-month (1) and day-of-week (1)", "set one of them to *")),
    ("timeout below range", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "timeoutMinutes": 2}}}}, ("mlops:projects.iris.train.timeoutMinutes", "2", "greater than or equal to 5")),
    ("runnable limit below what Batch's queue takes", "dev", {"mlops:pipeline": {"runnableTimeoutMinutes": 9}}, ("mlops:pipeline.runnableTimeoutMinutes", "9", "greater than or equal to 10")),
    ("timeout above a day", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "timeoutMinutes": 2000}}}}, ("mlops:projects.iris.train.timeoutMinutes", "2000", "less than or equal to 1440")),
    ("training data with a newline", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "data": "datasets/a.csv\nrm -rf /"}}}}, ("mlops:projects.iris.train.data", "one line")),
    ("training data in another store", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "data": "gs://bucket/a.csv"}}}}, ("mlops:projects.iris.train.data", '"gs://bucket/a.csv"', "s3://bucket/key")),
    ("unknown builtin data set", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train", "data": "builtin:mnist"}}}}, ("mlops:projects.iris.train.data", "iris, wine, breast_cancer, digits")),
    ("non-GPU instance type", "dev", {"mlops:compute": {"instanceType": "m5.xlarge"}}, ("mlops:compute.instanceType", '"m5.xlarge"', "NVIDIA GPU instance type", "g4dn, g5, g6, g6e, gr6, p4d, p4de, p5, p5e, p5en")),
    ("p3 is Volta, unsupported by the AL2023 GPU AMI", "dev", {"mlops:compute": {"instanceType": "p3.2xlarge"}}, ("mlops:compute.instanceType", "'p3.2xlarge'", "ECS AL2023 NVIDIA AMI")),
    ("one bad type in a list", "dev", {"mlops:compute": {"instanceType": ["g5.xlarge", "p3dn.24xlarge"]}}, ("mlops:compute.instanceType", "'p3dn.24xlarge'", "p3 and p3dn")),
    ("an empty list of types", "dev", {"mlops:compute": {"instanceType": []}}, ("mlops:compute.instanceType", "at least one")),
    ("unknown size of a known family", "dev", {"mlops:compute": {"instanceType": "g5.huge"}}, ("mlops:compute.instanceType", "'g5.huge'",)),
    ("subnets other than public or private", "dev", {"mlops:compute": {"subnets": "isolated"}}, ("mlops:compute.subnets", '"isolated"', "'public' or 'private'")),
    ("more GPUs than the smallest type has", "dev", {"mlops:compute": {"instanceType": ["g5.xlarge", "g5.12xlarge"]}, "mlops:projects": {"iris": {"train": {"source": "images/train", "gpus": 4}}}}, ("mlops:projects.iris.train.gpus", "4", "smallest of compute.instanceType has (1)")),
    ("prod without backupRegion", "prod", {"mlops:storage": {"backupRegion": None}}, ("mlops:storage.backupRegion", "required in prod")),
    ("prod backup in the same region", "prod", {"mlops:storage": {"backupRegion": "us-east-1"}}, ("mlops:storage.backupRegion", '"us-east-1"', "must differ from aws:region")),
    ("prod with one serving replica", "prod", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"minReplicas": 1}}}}, ("mlops:projects.iris.serve.minReplicas", "1", ">= 2 in prod")),
    ("missing environment", "dev", {"mlops:environment": None}, ("mlops:environment", "missing", "dev or prod")),
    ("missing region", "dev", {"aws:region": None}, ("aws:region", "missing", "for example us-east-1")),
    ("section that is not an object", "dev", {"mlops:storage": "30"}, ("mlops:storage", "must be an object")),
    ("serving on eks with cluster training", "dev", {"mlops:serving": {"cluster": "eks"}, "mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0}}}}, ("mlops:serving.cluster", '"eks"', "needs compute.kind: ec2")),
    ("serving with no CPU", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"cpu": 0}}}}, ("mlops:projects.iris.serve.cpu", "0", "between 10m and 64 cores")),
    ("memory without a unit", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"memory": "512"}}}}, ("mlops:projects.iris.serve.memory", '"512"', "Kubernetes memory quantity")),
    ("memory in a made-up unit", "dev", {"mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"memory": "1GB"}}}}, ("mlops:projects.iris.serve.memory", '"1GB"', "512Mi or 2Gi")),
    ("serving on gke without a gke cluster", "dev", {"mlops:serving": {"cluster": "gke"}}, ("mlops:serving.cluster", '"gke"', "needs compute.kind: gke")),
    ("gke without a project", "prod", {"mlops:gke": {"project": None}}, ("mlops:gke.project", "(unset)", "required with compute.kind: gke")),
    ("artifact registry without a project", "dev", {"mlops:registry": {"kind": "artifact-registry"}, "mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"source": "images/train", "gpus": 0}}}}, ("mlops:gke.project", "required with registry.kind: artifact-registry")),
    ("project id of the wrong shape", "prod", {"mlops:gke": {"project": "My_Project"}}, ("mlops:gke.project", '"My_Project"', "not a Google Cloud project id")),
    ("region of the wrong shape", "prod", {"mlops:gke": {"region": "us-central"}}, ("mlops:gke.region", '"us-central"', "not a Google Cloud region")),
    ("zone outside the region", "prod", {"mlops:gke": {"zones": ["us-east1-b"]}}, ("mlops:gke.zones", '["us-east1-b"]', "zones of region us-central1")),
    ("gke without zones", "prod", {"mlops:gke": {"zones": None}}, ("mlops:gke.zones", "required with compute.kind: gke")),
    ("authorized network that is no CIDR", "prod", {"mlops:gke": {"authorizedNetworks": ["10.0.0.0/33"]}}, ("mlops:gke.authorizedNetworks", "'10.0.0.0/33' is not a CIDR")),
    ("authorized network with host bits", "prod", {"mlops:gke": {"authorizedNetworks": ["203.0.113.7/24"]}}, ("mlops:gke.authorizedNetworks", "'203.0.113.7/24' is not a CIDR")),
    ("control plane open to the internet", "prod", {"mlops:gke": {"authorizedNetworks": ["0.0.0.0/0"]}}, ("mlops:gke.authorizedNetworks", "whole internet")),
    ("gke without authorized networks", "prod", {"mlops:gke": {"authorizedNetworks": []}}, ("mlops:gke.authorizedNetworks", "required with compute.kind: gke")),
    ("release channel unknown", "prod", {"mlops:gke": {"releaseChannel": "NIGHTLY"}}, ("mlops:gke.releaseChannel", '"NIGHTLY"', "'RAPID', 'REGULAR' or 'STABLE'")),
    ("gke pulling from ECR", "prod", {"mlops:registry": {"kind": "ecr"}}, ("mlops:registry.kind", '"ecr"', "must be artifact-registry with compute.kind: gke")),
    ("ec2 pulling from Artifact Registry", "prod", {"mlops:compute": {"kind": "ec2"}, "mlops:serving": {"cluster": "kubeconfig"}}, ("mlops:registry.kind", '"artifact-registry"', "must be ecr with compute.kind: ec2")),
    ("public endpoint in quotes", "prod", {"mlops:gke": {"publicEndpoint": "true"}}, ("mlops:gke.publicEndpoint", "write it as a YAML boolean, true")),
    ("gke machine type without a GPU", "prod", {"mlops:compute": {"machineType": "e2-standard-4"}}, ("mlops:compute.machineType", '"e2-standard-4"', "not a GPU machine type")),
    ("gke GPU the machine does not carry", "prod", {"mlops:compute": {"gpuType": "nvidia-tesla-t4"}}, ("mlops:compute.gpuType", '"nvidia-tesla-t4"', "does not fit machineType g2-standard-4", "nvidia-l4")),
    ("mistyped key in gke", "prod", {"mlops:gke": {"authorizedNetwork": ["203.0.113.0/24"]}}, ("mlops:gke.authorizedNetwork", "did you mean authorizedNetworks?")),
]


@pytest.mark.parametrize(
    ("stack", "changes", "expected"), [pytest.param(*rest, id=case) for case, *rest in INVALID]
)
def test_invalid_config_fails_before_any_resource(stack: str, changes: dict[str, Any], expected: tuple[str, ...]) -> None:
    recording = Recording()
    with pytest.raises(ConfigError) as raised:
        run_program(stack, stack_config_with(stack, changes), recording)
    message = str(raised.value)
    assert "\n" not in message, "one line"
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert recording.resources == [], "nothing may be registered before config is valid"


def test_environment_picks_capacity_default() -> None:
    assert parse("dev").spot is True
    assert parse("prod").spot is False
    assert parse("prod", compute={"spot": True}).spot is True


def test_environment_picks_the_subnets() -> None:
    assert parse("dev").subnets == "public"
    assert parse("prod").subnets == "private"
    assert parse("prod", compute={"subnets": "public"}).subnets == "public"
    assert parse("dev", compute={"subnets": "private"}).subnets == "private"


def test_every_invalid_key_is_reported_in_one_run() -> None:
    changes = {
        "aws:region": "us-east1",
        "mlops:storage": {"noncurrentVersionDays": 0},
        "mlops:registry": {"keepImages": "10", "kindd": "ecr"},
        "mlops:serving.minReplicas": 2,
        "mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"cpu": "1 core"}}},
    }
    with pytest.raises(ConfigError) as raised:
        run_program("dev", stack_config_with("dev", changes), Recording())
    problems = raised.value.problems
    keys = sorted(problem.split(": ", 1)[0] for problem in problems)
    assert keys == [
        "aws:region",
        "mlops:projects.iris.serve.cpu",
        "mlops:registry.keepImages",
        "mlops:registry.kindd",
        "mlops:serving.minReplicas",
        "mlops:storage.noncurrentVersionDays",
    ]
    assert str(raised.value).startswith("6 problems in the stack config:\n")
    assert all(f"  {problem}" in str(raised.value).splitlines() for problem in problems)


def test_teardown_lifts_protection_only_when_asked() -> None:
    def parse(**raw: Any) -> StackConfig:
        prod = {"environment": "prod", "storage": {"backupRegion": "us-west-2"}}
        return StackConfig.parse(with_budget({**prod, **raw}), project="mlops", stack="prod", aws_region="us-east-1")

    assert parse().protect_data is True
    assert parse(teardown="false").protect_data is True
    assert parse(teardown="true").protect_data is False
    assert parse(teardown="true").key_deletion_window_days == 30, "a teardown keeps prod's undo window on keys"


def test_teardown_accepts_a_yaml_boolean() -> None:
    # Given through the Automation API or a test, teardown is a bool, not the CLI's text.
    assert parse(teardown=True).teardown is True
    assert parse(teardown=False).teardown is False


def test_a_parsed_config_cannot_be_changed() -> None:
    # Components share one StackConfig; a change made by one would reach all the others.
    cfg = parse()
    with pytest.raises(ValidationError):
        cfg.serving.cluster = "gke"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.environment = Environment.PROD  # type: ignore[misc]

# --- Every default, bound and choice, exactly ------------------------------------------------
# The stack files set every key, so a default is what a new stack (or a key left out) gets.

DEFAULTS: list[tuple[str, Any]] = [
    ("teardown", False),
    ("kubernetes_context", None),
    ("storage.backup_region", None),
    ("storage.noncurrent_version_days", 30),
    ("storage.archive_after_days", None),
    ("registry.kind", "ecr"),
    ("registry.keep_images", 30),
    ("compute.kind", "ec2"),
    ("compute.instance_type", ("g5.xlarge",)),
    ("compute.spot", None),
    ("compute.subnets", None),
    ("compute.machine_type", "g2-standard-4"),
    ("compute.gpu_type", "nvidia-l4"),
    ("compute.min_nodes", 0),
    ("compute.max_nodes", 2),
    ("serving.cluster", "kubeconfig"),
    ("projects", {}),
    ("gke.project", None),
    ("gke.region", "us-central1"),
    ("gke.zones", []),
    ("gke.authorized_networks", []),
    ("gke.public_endpoint", False),
    ("gke.release_channel", "REGULAR"),
    ("eks.kubernetes_version", "1.35"),
    ("eks.public_access_cidrs", []),
    ("eks.public_endpoint", False),
    ("eks.log_retention_days", 90),
    ("eks.ci_role_arn", None),
    ("eks.gpu_nodes", 2),
    ("monitoring.scraping", "auto"),
    ("monitoring.notify.emails", []),
    ("monitoring.notify.https", []),
    ("monitoring.alerts.availability_minutes", 5),
    ("monitoring.alerts.error_ratio", 0.05),
    ("monitoring.alerts.error_minutes", 5),
    ("monitoring.alerts.latency_p99_seconds", 0.5),
    ("monitoring.alerts.latency_minutes", 10),
    ("monitoring.alerts.saturation_minutes", 30),
    ("monitoring.alerts.freshness_runs", 3),
    ("monitoring.budget.forecast_percent", 100),
    ("monitoring.budget.actual_percent", 100),
    ("monitoring.budget.gcp_billing_account", None),
    ("pipeline.kind", "airflow"),
    ("pipeline.promote_margin", 0.0),
    ("pipeline.runnable_timeout_minutes", 30),
    ("pipeline.public_api", False),
    ("pipeline.database.tier", "db-custom-1-3840"),
    ("pipeline.database.instance_class", "db.t4g.micro"),
    ("pipeline.database.disk_gb", 10),
    ("pipeline.database.backup_retention_days", 7),
    ("pipeline.database.point_in_time_recovery_days", 7),
]
# monitoring.budget.monthlyUsd has no default: it is required (tests/config/test_monitoring.py).
REQUIRED = {"monitoring.budget.monthly_usd"}
# A project's settings left out, on a project that gives only its training source and an empty serve.
PROJECT_DEFAULTS: list[tuple[str, Any]] = [
    ("train.source", "images/train"),
    ("train.image", None),
    ("train.data", "builtin:iris"),
    ("train.schedule", "0 3 * * *"),
    ("train.gpus", 1),
    ("train.timeout_minutes", 60),
    ("train.min_accuracy", 0.8),
    ("train.params", {}),
    ("serve.min_replicas", 1),
    ("serve.max_replicas", 3),
    ("serve.target_cpu_utilization", 70),
    ("serve.cpu", 1000),
    ("serve.memory", "1Gi"),
    ("serve.gpus", 0),
    ("serve.model_version", "latest"),
    ("serve.image", None),
    ("serve.alerts.availability_minutes", None),
    ("serve.alerts.error_ratio", None),
    ("serve.alerts.error_minutes", None),
    ("serve.alerts.latency_p99_seconds", None),
    ("serve.alerts.latency_minutes", None),
    ("serve.alerts.saturation_minutes", None),
    ("serve.alerts.freshness_runs", None),
]


def setting(cfg: Any, path: str) -> Any:
    for part in path.split("."):
        cfg = cfg[part] if isinstance(cfg, dict) else getattr(cfg, part)
    return cfg


@pytest.mark.parametrize(("path", "default"), DEFAULTS, ids=[path for path, _ in DEFAULTS])
def test_a_key_left_out_gets_its_documented_default(path: str, default: Any) -> None:
    # The README and the schema promise these; a changed default silently changes every
    # stack that leaves the key out (a serving pod's memory, the images kept, the schedule).
    assert setting(parse(), path) == default


@pytest.mark.parametrize(("path", "default"), PROJECT_DEFAULTS, ids=[path for path, _ in PROJECT_DEFAULTS])
def test_a_project_key_left_out_gets_its_documented_default(path: str, default: Any) -> None:
    assert setting(parse(**iris(serve={})).projects["iris"], path) == default


def settings_of(prefix: str, section: BaseModel) -> set[str]:
    """The path of every setting in `section`; a nested section's (monitoring.alerts) one by one."""
    paths: set[str] = set()
    for name in type(section).model_fields:
        value = getattr(section, name)
        paths |= settings_of(f"{prefix}.{name}", value) if isinstance(value, BaseModel) else {f"{prefix}.{name}"}
    return paths


def test_every_setting_has_a_default_row() -> None:
    # A new setting without a row here has an untested default.
    cfg = parse(**iris(serve={}))
    sections = {"storage", "registry", "compute", "serving", "gke", "eks", "monitoring", "pipeline"}
    every = set().union(*(settings_of(name, getattr(cfg, name)) for name in sections))
    every |= {name for name in StackConfig.model_fields if name not in sections | {"project", "stack", "aws_region", "environment"}}
    assert every - REQUIRED == {path for path, _ in DEFAULTS}
    train, serve = cfg.projects["iris"].train, cfg.projects["iris"].serve
    assert train is not None and serve is not None
    project = settings_of("train", train) | settings_of("serve", serve)
    assert project == {path for path, _ in PROJECT_DEFAULTS}

# (section, key as written, attribute, lowest accepted, highest accepted or None, other settings needed)
BOUNDS: list[tuple[str, str, str, int, int | None, dict[str, Any]]] = [
    ("storage", "noncurrentVersionDays", "noncurrent_version_days", 1, None, {}),
    ("storage", "archiveAfterDays", "archive_after_days", 30, None, {}),
    ("registry", "keepImages", "keep_images", 1, 1000, {}),
    ("compute", "minNodes", "min_nodes", 0, 100, {"maxNodes": 100}),
    ("compute", "maxNodes", "max_nodes", 1, 100, {}),
    ("projects.iris.serve", "minReplicas", "min_replicas", 1, 100, {"maxReplicas": 100}),
    ("projects.iris.serve", "maxReplicas", "max_replicas", 1, 100, {}),
    ("projects.iris.serve", "targetCpuUtilization", "target_cpu_utilization", 1, 100, {}),
    ("projects.iris.serve", "gpus", "gpus", 0, 8, {}),
    ("projects.iris.train", "gpus", "gpus", 0, 8, {}),
    ("projects.iris.train", "timeoutMinutes", "timeout_minutes", 5, 1440, {}),
    ("monitoring.alerts", "availabilityMinutes", "availability_minutes", 1, 60, {}),
    ("monitoring.alerts", "errorMinutes", "error_minutes", 1, 60, {}),
    ("monitoring.alerts", "latencyMinutes", "latency_minutes", 1, 120, {}),
    ("monitoring.alerts", "saturationMinutes", "saturation_minutes", 5, 720, {}),
    ("monitoring.alerts", "freshnessRuns", "freshness_runs", 1, 100, {}),
    ("monitoring.budget", "forecastPercent", "forecast_percent", 1, 1000, {}),
    ("monitoring.budget", "actualPercent", "actual_percent", 1, 1000, {}),
    # A project's own thresholds have the stack's bounds.
    ("projects.iris.serve.alerts", "availabilityMinutes", "availability_minutes", 1, 60, {}),
    ("projects.iris.serve.alerts", "saturationMinutes", "saturation_minutes", 5, 720, {}),
    ("projects.iris.serve.alerts", "freshnessRuns", "freshness_runs", 1, 100, {}),
]


def bounded(section: str, key: str, value: int, others: dict[str, Any]) -> dict[str, Any]:
    if section == "projects.iris.serve":
        return iris(serve={key: value, **others})
    if section == "projects.iris.serve.alerts":
        return iris(serve={"alerts": {key: value, **others}})
    if section.startswith("monitoring."):
        return {"monitoring": {section.removeprefix("monitoring."): {key: value, **others}}}
    if section == "projects.iris.train":
        # gke: no instance type caps the GPUs, and it has GPUs for them.
        return {**iris(**{key: value}, **others), **gke_sections()} if key == "gpus" else iris(**{key: value}, **others)
    return {section: {key: value, **others}}


@pytest.mark.parametrize(("section", "key", "attribute", "low", "high", "others"), BOUNDS, ids=[f"{s}.{k}" for s, k, *_ in BOUNDS])
def test_a_bounded_number_accepts_both_limits(
    section: str, key: str, attribute: str, low: int, high: int | None, others: dict[str, Any]
) -> None:
    for value in (low, high) if high is not None else (low,):
        assert setting(parse(**bounded(section, key, value, others)), f"{section}.{attribute}") == value


@pytest.mark.parametrize(("section", "key", "attribute", "low", "high", "others"), BOUNDS, ids=[f"{s}.{k}" for s, k, *_ in BOUNDS])
def test_a_bounded_number_refuses_one_below_its_lowest(
    section: str, key: str, attribute: str, low: int, high: int | None, others: dict[str, Any]
) -> None:
    assert problems(**bounded(section, key, low - 1, others)) == [
        f"mlops:{section}.{key}: {low - 1} is invalid: Input should be greater than or equal to {low}"
    ]


@pytest.mark.parametrize(
    ("section", "key", "attribute", "low", "high", "others"),
    [row for row in BOUNDS if row[4] is not None],
    ids=[f"{s}.{k}" for s, k, _, _, high, _ in BOUNDS if high is not None],
)
def test_a_bounded_number_refuses_one_above_its_highest(
    section: str, key: str, attribute: str, low: int, high: int, others: dict[str, Any]
) -> None:
    assert problems(**bounded(section, key, high + 1, others)) == [
        f"mlops:{section}.{key}: {high + 1} is invalid: Input should be less than or equal to {high}"
    ]
