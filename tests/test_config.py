"""Invalid stack config fails before any resource exists, with one message naming the key."""

from __future__ import annotations

from typing import Any

import json

import pytest
from croniter import croniter
from pydantic import ValidationError

from components.config import (
    ConfigError,
    Environment,
    StackConfig,
    check_region,
    cron_to_scheduler,
    placeholder,
    training_data_uri,
)
from offline.engine import Recording, run_program, stack_config_with

# (case, stack, changes, the message must contain all of these)
INVALID: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("wrong enum", "dev", {"mlops:registry": {"kind": "quay"}}, ("mlops:registry.kind", '"quay"', "'ecr' or 'artifact-registry'")),
    ("wrong environment", "dev", {"mlops:environment": "staging"}, ("mlops:environment", '"staging"', "'dev' or 'prod'")),
    ("number below range", "dev", {"mlops:serving": {"minReplicas": 0}}, ("mlops:serving.minReplicas", "0", "greater than or equal to 1")),
    ("number above range", "dev", {"mlops:serving": {"targetCpuUtilization": 150}}, ("mlops:serving.targetCpuUtilization", "150", "less than or equal to 100")),
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
    ("replicas min > max", "dev", {"mlops:serving": {"minReplicas": 3, "maxReplicas": 2}}, ("mlops:serving.minReplicas", "3", "maxReplicas (2)")),
    ("nodes min > max", "dev", {"mlops:compute": {"minNodes": 3, "maxNodes": 1}}, ("mlops:compute.minNodes", "3", "maxNodes (1)")),
    ("mistyped key in a section", "dev", {"mlops:serving": {"minReplica": 2}}, ("mlops:serving.minReplica", "unknown key (did you mean minReplicas?)", "allowed keys in mlops:serving")),
    ("mistyped top-level key", "dev", {"mlops:trainig": {"gpus": 1}}, ("mlops:trainig", "unknown key (did you mean training?)", "allowed keys are")),
    ("unknown key nothing like a known one", "dev", {"mlops:zzz": "1"}, ("mlops:zzz", "unknown key; allowed keys are environment, teardown, storage")),
    ("cron that does not parse", "dev", {"mlops:training": {"schedule": "every day"}}, ("mlops:training.schedule", '"every day"', "5-field cron")),
    ("cron out of range", "dev", {"mlops:training": {"schedule": "0 25 * * *"}}, ("mlops:training.schedule", '"0 25 * * *"', "hour field has 25", "out of range", "hour is 0-23")),
    ("cron weekday out of range", "dev", {"mlops:training": {"schedule": "0 3 * * 8"}}, ("mlops:training.schedule", "day-of-week field has 8", "day-of-week is 0-7 or SUN-SAT")),
    ("cron with both day fields", "dev", {"mlops:training": {"schedule": "0 3 1 * 1"}}, ("mlops:training.schedule", "both day-of-month (1) and day-of-week (1)", "set one of them to *")),
    ("timeout below range", "dev", {"mlops:training": {"timeoutMinutes": 2}}, ("mlops:training.timeoutMinutes", "2", "greater than or equal to 5")),
    ("timeout above a day", "dev", {"mlops:training": {"timeoutMinutes": 2000}}, ("mlops:training.timeoutMinutes", "2000", "less than or equal to 1440")),
    ("training data with a newline", "dev", {"mlops:training": {"data": "datasets/a.csv\nrm -rf /"}}, ("mlops:training.data", "one line")),
    ("training data in another store", "dev", {"mlops:training": {"data": "gs://bucket/a.csv"}}, ("mlops:training.data", '"gs://bucket/a.csv"', "s3://bucket/key")),
    ("unknown builtin data set", "dev", {"mlops:training": {"data": "builtin:mnist"}}, ("mlops:training.data", "iris, wine, breast_cancer, digits")),
    ("non-GPU instance type", "dev", {"mlops:compute": {"instanceType": "m5.xlarge"}}, ("mlops:compute.instanceType", '"m5.xlarge"', "NVIDIA GPU instance type", "g4dn, g5, g6, g6e, gr6, p4d, p4de, p5, p5e, p5en")),
    ("p3 is Volta, unsupported by the AL2023 GPU AMI", "dev", {"mlops:compute": {"instanceType": "p3.2xlarge"}}, ("mlops:compute.instanceType", "'p3.2xlarge'", "ECS AL2023 NVIDIA AMI")),
    ("one bad type in a list", "dev", {"mlops:compute": {"instanceType": ["g5.xlarge", "p3dn.24xlarge"]}}, ("mlops:compute.instanceType", "'p3dn.24xlarge'", "p3 and p3dn")),
    ("an empty list of types", "dev", {"mlops:compute": {"instanceType": []}}, ("mlops:compute.instanceType", "at least one")),
    ("unknown size of a known family", "dev", {"mlops:compute": {"instanceType": "g5.huge"}}, ("mlops:compute.instanceType", "'g5.huge'",)),
    ("subnets other than public or private", "dev", {"mlops:compute": {"subnets": "isolated"}}, ("mlops:compute.subnets", '"isolated"', "'public' or 'private'")),
    ("more GPUs than the smallest type has", "dev", {"mlops:compute": {"instanceType": ["g5.xlarge", "g5.12xlarge"]}, "mlops:training": {"gpus": 4}}, ("mlops:training.gpus", "4", "smallest of compute.instanceType has (1)")),
    ("prod without backupRegion", "prod", {"mlops:storage": {"backupRegion": None}}, ("mlops:storage.backupRegion", "required in prod")),
    ("prod backup in the same region", "prod", {"mlops:storage": {"backupRegion": "us-east-1"}}, ("mlops:storage.backupRegion", '"us-east-1"', "must differ from aws:region")),
    ("prod with one serving replica", "prod", {"mlops:serving": {"minReplicas": 1}}, ("mlops:serving.minReplicas", "1", ">= 2 in prod")),
    ("missing environment", "dev", {"mlops:environment": None}, ("mlops:environment", "missing", "dev or prod")),
    ("missing region", "dev", {"aws:region": None}, ("aws:region", "missing", "for example us-east-1")),
    ("section that is not an object", "dev", {"mlops:storage": "30"}, ("mlops:storage", "must be an object")),
    ("serving on eks", "dev", {"mlops:serving": {"cluster": "eks"}}, ("mlops:serving.cluster", '"eks"', "planned")),
    ("serving with no CPU", "dev", {"mlops:serving": {"cpu": 0}}, ("mlops:serving.cpu", "0", "greater than or equal to 1")),
    ("memory without a unit", "dev", {"mlops:serving": {"memory": "512"}}, ("mlops:serving.memory", '"512"', "Kubernetes memory quantity")),
    ("memory in a made-up unit", "dev", {"mlops:serving": {"memory": "1GB"}}, ("mlops:serving.memory", '"1GB"', "512Mi or 2Gi")),
    ("serving on gke without a gke cluster", "dev", {"mlops:serving": {"cluster": "gke"}}, ("mlops:serving.cluster", '"gke"', "needs compute.kind: gke")),
    ("gke without a project", "prod", {"mlops:gke": {"project": None}}, ("mlops:gke.project", "(unset)", "required with compute.kind: gke")),
    ("artifact registry without a project", "dev", {"mlops:registry": {"kind": "artifact-registry"}, "mlops:compute": {"kind": "none"}}, ("mlops:gke.project", "required with registry.kind: artifact-registry")),
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


def test_gke_with_project_zones_and_networks_is_valid() -> None:
    cfg = StackConfig.parse(
        {
            "environment": "dev",
            "compute": {"kind": "gke"},
            "registry": {"kind": "artifact-registry"},
            "serving": {"cluster": "gke"},
            "gke": {"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]},
        },
        project="mlops",
        stack="dev",
        aws_region="us-east-1",
    )
    assert cfg.gke.public_endpoint is False, "serving stays internal unless asked"
    assert cfg.gke.release_channel == "REGULAR"


def test_every_broken_gke_rule_is_reported_in_one_run() -> None:
    changes = {"mlops:gke": {"project": None, "zones": None, "authorizedNetworks": None}}
    with pytest.raises(ConfigError) as raised:
        run_program("prod", stack_config_with("prod", changes), Recording())
    assert sorted(problem.split(": ", 1)[0] for problem in raised.value.problems) == [
        "mlops:gke.authorizedNetworks",
        "mlops:gke.project",
        "mlops:gke.zones",
    ]


def parse(environment: str = "dev", **sections: Any) -> StackConfig:
    raw: dict[str, Any] = {"environment": environment, **sections}
    if environment == "prod":
        raw.setdefault("storage", {"backupRegion": "us-west-2"})
        raw.setdefault("serving", {"minReplicas": 2})
    return StackConfig.parse(raw, project="mlops", stack=environment, aws_region="us-east-1")


def test_instance_type_accepts_one_name() -> None:
    assert parse(compute={"instanceType": "g4dn.xlarge"}).compute.instance_type == ("g4dn.xlarge",)


def test_instance_type_accepts_a_list_in_order() -> None:
    compute = parse(compute={"instanceType": ["g5.xlarge", "g4dn.xlarge", "g6.xlarge"]}).compute
    assert compute.instance_type == ("g5.xlarge", "g4dn.xlarge", "g6.xlarge")


def test_environment_picks_the_subnets() -> None:
    assert parse("dev").subnets == "public"
    assert parse("prod").subnets == "private"
    assert parse("prod", compute={"subnets": "public"}).subnets == "public"
    assert parse("dev", compute={"subnets": "private"}).subnets == "private"


def test_training_timeout_defaults_to_an_hour() -> None:
    assert parse().training.timeout_minutes == 60


# (cron, EventBridge Scheduler): Scheduler numbers weekdays 1-7 = SUN-SAT, cron 0-6 (and 7)
# = Sun-Sat; the translation writes weekdays as names, so neither numbering can slip.
CRON_PAIRS = [
    ("0 3 * * *", "cron(0 3 * * ? *)"),
    ("0 2 * * 1-5", "cron(0 2 ? * MON-FRI *)"),
    ("0 0 * * 0", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 7", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 0,7", "cron(0 0 ? * SUN *)"),
    ("0 0 * * 6", "cron(0 0 ? * SAT *)"),
    ("0 0 * * 5-7", "cron(0 0 ? * SUN,FRI,SAT *)"),
    ("15 6 * * 1,3,5", "cron(15 6 ? * MON,WED,FRI *)"),
    ("0 0 * * */2", "cron(0 0 ? * SUN,TUE,THU,SAT *)"),
    ("0 0 * * sun-wed", "cron(0 0 ? * SUN-WED *)"),
    ("*/15 * * * *", "cron(0,15,30,45 * * * ? *)"),
    ("5/20 * * * *", "cron(5,25,45 * * * ? *)"),
    ("0 9-17/4 * * *", "cron(0 9,13,17 * * ? *)"),
    ("30 4 1 */3 *", "cron(30 4 1 1,4,7,10 ? *)"),
    ("0 0 1,15 * *", "cron(0 0 1,15 * ? *)"),
    ("0 0 10-20 * *", "cron(0 0 10-20 * ? *)"),
    ("0 12 * jan,jul *", "cron(0 12 * 1,7 ? *)"),
    ("0 12 * JAN-MAR mon", "cron(0 12 ? 1-3 MON *)"),
    ("0-4 0 * * *", "cron(0-4 0 * * ? *)"),
    ("0 0 1-31 * *", "cron(0 0 * * ? *)"),
    ("* * * * *", "cron(* * * * ? *)"),
]


@pytest.mark.parametrize(("cron", "scheduler"), CRON_PAIRS)
def test_cron_translates_to_scheduler_cron(cron: str, scheduler: str) -> None:
    assert cron_to_scheduler(cron) == scheduler


@pytest.mark.parametrize("cron", [cron for cron, _ in CRON_PAIRS])
def test_cron_translation_selects_what_croniter_selects(cron: str) -> None:
    # An independent parser as the oracle: the same minutes, hours, days and months.
    expected, _ = croniter.expand(cron)
    fields = cron_to_scheduler(cron).removeprefix("cron(").removesuffix(")").split()
    names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    def values(text: str, low: int, high: int, weekday: bool = False) -> set[int]:
        if text in ("*", "?"):
            return set(range(low, high + 1))
        chosen: set[int] = set()
        for part in text.split(","):
            first, _, last = part.partition("-")
            as_int = (lambda t: names.index(t) + 1) if weekday else int
            chosen.update(range(as_int(first), as_int(last or first) + 1))
        return chosen

    def oracle(field: list[Any], low: int, high: int) -> set[int]:
        return set(range(low, high + 1)) if field == ["*"] else {int(v) for v in field}

    assert values(fields[0], 0, 59) == oracle(expected[0], 0, 59)
    assert values(fields[1], 0, 23) == oracle(expected[1], 0, 23)
    assert values(fields[2], 1, 31) == oracle(expected[2], 1, 31)
    assert values(fields[3], 1, 12) == oracle(expected[3], 1, 12)
    cron_weekdays = {(d % 7) + 1 for d in oracle(expected[4], 0, 6)}  # cron Sun=0 -> Scheduler SUN=1
    assert values(fields[4], 1, 7, weekday=True) == cron_weekdays
    assert fields[5] == "*", "every year"
    assert "?" in (fields[2], fields[4]), "Scheduler needs one day field unrestricted"


def test_cron_with_both_day_fields_is_refused() -> None:
    # cron ORs day-of-month with day-of-week; Scheduler must leave one of them as `?`.
    with pytest.raises(ValueError, match="both day-of-month .* and day-of-week"):
        cron_to_scheduler("0 3 1 * 1")


def test_cron_with_a_full_range_in_both_day_fields_is_still_refused() -> None:
    # `1-31` is not `*` to cron: it ORs the two fields, so this runs every day, not on Mondays.
    with pytest.raises(ValueError, match="both day-of-month"):
        cron_to_scheduler("0 3 1-31 * 1")


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("0 3 * *", "not a 5-field cron expression"),
        ("0 24 * * *", "hour field has 24, which is out of range (hour is 0-23)"),
        ("60 3 * * *", "minute field has 60, which is out of range (minute is 0-59)"),
        ("0 3 0 * *", "day-of-month field has 0, which is out of range (day-of-month is 1-31)"),
        ("0 3 * 13 *", "month field has 13, which is out of range (month is 1-12 or JAN-DEC)"),
        ("0 3 * * 8", "day-of-week field has 8, which is out of range (day-of-week is 0-7 or SUN-SAT)"),
        ("0 3 * * fri-mon", "runs backwards"),
        ("*/0 3 * * *", "step '0'"),
        ("0 3 L * *", "the day-of-month field has 'L', which is not a number"),
    ],
)
def test_invalid_cron_names_the_field_and_its_range(cron: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        cron_to_scheduler(cron)
    assert reason in str(raised.value)


def test_every_invalid_key_is_reported_in_one_run() -> None:
    changes = {
        "aws:region": "us-east1",
        "mlops:storage": {"noncurrentVersionDays": 0},
        "mlops:registry": {"keepImages": "10", "kindd": "ecr"},
        "mlops:serving.minReplicas": 2,
    }
    with pytest.raises(ConfigError) as raised:
        run_program("dev", stack_config_with("dev", changes), Recording())
    problems = raised.value.problems
    keys = sorted(problem.split(": ", 1)[0] for problem in problems)
    assert keys == [
        "aws:region",
        "mlops:registry.keepImages",
        "mlops:registry.kindd",
        "mlops:serving.minReplicas",
        "mlops:storage.noncurrentVersionDays",
    ]
    assert str(raised.value).startswith("5 problems in the stack config:\n")
    assert all(f"  {problem}" in str(raised.value).splitlines() for problem in problems)


def test_every_broken_prod_rule_is_reported_in_one_run() -> None:
    changes = {"mlops:storage": {"backupRegion": None}, "mlops:serving": {"minReplicas": 1}}
    with pytest.raises(ConfigError) as raised:
        run_program("prod", stack_config_with("prod", changes), Recording())
    assert [problem.split(": ", 1)[0] for problem in raised.value.problems] == [
        "mlops:storage.backupRegion",
        "mlops:serving.minReplicas",
    ]


def test_teardown_lifts_protection_only_when_asked() -> None:
    def parse(**raw: Any) -> StackConfig:
        prod = {"environment": "prod", "storage": {"backupRegion": "us-west-2"}, "serving": {"minReplicas": 2}}
        return StackConfig.parse({**prod, **raw}, project="mlops", stack="prod", aws_region="us-east-1")

    assert parse().protect_data is True
    assert parse(teardown="false").protect_data is True
    assert parse(teardown="true").protect_data is False
    assert parse(teardown="true").key_deletion_window_days == 30, "a teardown keeps prod's undo window on keys"


@pytest.mark.parametrize(
    ("data", "uri"),
    [
        ("builtin:iris", "builtin:iris"),
        ("datasets/iris.csv", "s3://data-bucket/datasets/iris.csv"),
        ("/datasets/iris.csv", "s3://data-bucket/datasets/iris.csv"),
        ("s3://other/x.csv", "s3://other/x.csv"),
    ],
)
def test_training_data_becomes_the_jobs_data_uri(data: str, uri: str) -> None:
    assert training_data_uri(data, "data-bucket") == uri


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
    ("serving.min_replicas", 1),
    ("serving.max_replicas", 3),
    ("serving.target_cpu_utilization", 70),
    ("serving.gpus", 0),
    ("serving.model", "iris"),
    ("serving.model_version", "latest"),
    ("serving.cpu", 1),
    ("serving.memory", "1Gi"),
    ("training.schedule", "0 3 * * *"),
    ("training.gpus", 1),
    ("training.timeout_minutes", 60),
    ("training.data", "builtin:iris"),
    ("gke.project", None),
    ("gke.region", "us-central1"),
    ("gke.zones", []),
    ("gke.authorized_networks", []),
    ("gke.public_endpoint", False),
    ("gke.release_channel", "REGULAR"),
]


def setting(cfg: Any, path: str) -> Any:
    for part in path.split("."):
        cfg = getattr(cfg, part)
    return cfg


@pytest.mark.parametrize(("path", "default"), DEFAULTS, ids=[path for path, _ in DEFAULTS])
def test_a_key_left_out_gets_its_documented_default(path: str, default: Any) -> None:
    # The README and the schema promise these; a changed default silently changes every
    # stack that leaves the key out (a serving pod's memory, the images kept, the schedule).
    assert setting(parse(), path) == default


def test_every_setting_has_a_default_row() -> None:
    # A new setting without a row here has an untested default.
    sections = {"storage", "registry", "compute", "serving", "training", "gke"}
    every = {f"{name}.{field}" for name in sections for field in type(getattr(parse(), name)).model_fields}
    every |= {name for name in StackConfig.model_fields if name not in sections | {"project", "stack", "aws_region", "environment"}}
    assert every == {path for path, _ in DEFAULTS}


# (section, key as written, attribute, lowest accepted, highest accepted or None, other settings needed)
BOUNDS: list[tuple[str, str, str, int, int | None, dict[str, Any]]] = [
    ("storage", "noncurrentVersionDays", "noncurrent_version_days", 1, None, {}),
    ("storage", "archiveAfterDays", "archive_after_days", 30, None, {}),
    ("registry", "keepImages", "keep_images", 1, 1000, {}),
    ("compute", "minNodes", "min_nodes", 0, 100, {"maxNodes": 100}),
    ("compute", "maxNodes", "max_nodes", 1, 100, {}),
    ("serving", "minReplicas", "min_replicas", 1, 100, {"maxReplicas": 100}),
    ("serving", "maxReplicas", "max_replicas", 1, 100, {}),
    ("serving", "targetCpuUtilization", "target_cpu_utilization", 1, 100, {}),
    ("serving", "gpus", "gpus", 0, 8, {}),
    ("serving", "cpu", "cpu", 1, 64, {}),
    ("training", "gpus", "gpus", 0, 8, {}),
    ("training", "timeoutMinutes", "timeout_minutes", 5, 1440, {}),
]


def bounded(section: str, key: str, value: int, others: dict[str, Any]) -> dict[str, Any]:
    sections: dict[str, Any] = {section: {key: value, **others}}
    if section == "training" and key == "gpus":
        sections["compute"] = {"kind": "none"}  # no instance type caps the GPUs
    return sections


@pytest.mark.parametrize(("section", "key", "attribute", "low", "high", "others"), BOUNDS, ids=[f"{s}.{k}" for s, k, *_ in BOUNDS])
def test_a_bounded_number_accepts_both_limits(
    section: str, key: str, attribute: str, low: int, high: int | None, others: dict[str, Any]
) -> None:
    for value in (low, high) if high is not None else (low,):
        assert getattr(getattr(parse(**bounded(section, key, value, others)), section), attribute) == value


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


def problems(environment: str = "dev", **sections: Any) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        parse(environment, **sections)
    return refused.value.problems


def test_equal_min_and_max_nodes_are_accepted() -> None:
    # A fixed-size pool (min = max) is a valid choice, not a broken rule.
    assert parse(compute={"minNodes": 2, "maxNodes": 2}).compute.min_nodes == 2


def test_equal_min_and_max_replicas_are_accepted() -> None:
    assert parse(serving={"minReplicas": 2, "maxReplicas": 2}).serving.max_replicas == 2


def test_prod_accepts_two_serving_replicas() -> None:
    # Two is the floor prod needs; refusing it would force a third pod's bill.
    assert parse("prod", serving={"minReplicas": 2}).serving.min_replicas == 2


@pytest.mark.parametrize("channel", ["RAPID", "REGULAR", "STABLE"])
def test_every_release_channel_is_accepted(channel: str) -> None:
    assert parse(gke={"releaseChannel": channel}).gke.release_channel == channel


def gke_stack(environment: str = "dev", **compute: Any) -> StackConfig:
    """A stack on GKE with everything GKE needs, and these compute settings."""
    return parse(
        environment,
        compute={"kind": "gke", **compute},
        registry={"kind": "artifact-registry"},
        serving={"cluster": "gke", **({"minReplicas": 2} if environment == "prod" else {})},
        gke={"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]},
    )


def test_every_kind_of_compute_and_cluster_is_accepted_where_it_fits() -> None:
    assert parse(compute={"kind": "ec2"}).compute.kind == "ec2"
    assert parse(compute={"kind": "none"}).compute.kind == "none"
    on_gke = gke_stack()
    assert (on_gke.compute.kind, on_gke.serving.cluster, on_gke.registry.kind) == ("gke", "gke", "artifact-registry")
    assert parse(compute={"kind": "none"}, registry={"kind": "artifact-registry"},
                 gke={"project": "mlops-dev-123456"}).registry.kind == "artifact-registry"


# Each GKE machine family and the GPUs it carries (gcloud compute accelerator-types list).
GKE_GPUS = [
    ("g2-standard-4", "nvidia-l4"),
    ("a2-highgpu-1g", "nvidia-tesla-a100"),
    ("a2-megagpu-16g", "nvidia-tesla-a100"),
    ("a2-ultragpu-1g", "nvidia-a100-80gb"),
    ("a3-highgpu-8g", "nvidia-h100-80gb"),
    ("a3-megagpu-8g", "nvidia-h100-mega-80gb"),
    ("n1-standard-8", "nvidia-tesla-t4"),
    ("n1-standard-8", "nvidia-tesla-v100"),
    ("n1-standard-8", "nvidia-tesla-p4"),
    ("n1-standard-8", "nvidia-tesla-p100"),
]


@pytest.mark.parametrize(("machine", "gpu"), GKE_GPUS)
def test_a_gke_machine_with_a_gpu_it_carries_is_accepted(machine: str, gpu: str) -> None:
    # Refused, a valid GPU pool could not be configured at all.
    compute = gke_stack(machineType=machine, gpuType=gpu).compute
    assert (compute.machine_type, compute.gpu_type) == (machine, gpu)


@pytest.mark.parametrize(
    ("machine", "gpu", "carries"),
    [
        ("a2-highgpu-1g", "nvidia-a100-80gb", "nvidia-tesla-a100"),
        ("a2-ultragpu-1g", "nvidia-tesla-a100", "nvidia-a100-80gb"),
        ("a3-highgpu-8g", "nvidia-h100-mega-80gb", "nvidia-h100-80gb"),
        ("g2-standard-4", "nvidia-tesla-t4", "nvidia-l4"),
        ("n1-standard-8", "nvidia-l4", "nvidia-tesla-t4 or nvidia-tesla-v100 or nvidia-tesla-p4 or nvidia-tesla-p100"),
    ],
)
def test_a_gke_gpu_the_machine_does_not_carry_is_refused(machine: str, gpu: str, carries: str) -> None:
    # GKE would create the node pool and never schedule a GPU on it.
    with pytest.raises(ConfigError) as refused:
        gke_stack(machineType=machine, gpuType=gpu)
    assert refused.value.problems == [f'mlops:compute.gpuType: "{gpu}" does not fit machineType {machine}; it carries {carries}']


def test_a_gke_machine_without_a_gpu_is_refused_naming_the_families() -> None:
    with pytest.raises(ConfigError) as refused:
        gke_stack(machineType="e2-standard-4")
    assert refused.value.problems == [
        'mlops:compute.machineType: "e2-standard-4" is not a GPU machine type GKE offers; use one of the families '
        "g2-, a2-highgpu-, a2-megagpu-, a2-ultragpu-, a3-highgpu-, a3-megagpu-, n1-"
    ]


def test_gke_compute_needs_serving_on_gke() -> None:
    # Training runs as a CronJob on the GKE cluster's GPU pool; serving elsewhere splits the stack.
    with pytest.raises(ConfigError) as refused:
        parse(compute={"kind": "gke"}, registry={"kind": "artifact-registry"}, serving={"cluster": "kubeconfig"},
              gke={"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]})
    assert refused.value.problems == [
        'mlops:serving.cluster: "kubeconfig" must be gke with compute.kind: gke: training runs as a CronJob on '
        "the cluster's GPU pool, beside serving"
    ]


@pytest.mark.parametrize("region", ["us-gov-west-1", "us-gov-east-1", "cn-northwest-1", "eusc-de-east-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1"])
def test_a_region_outside_the_aws_partition_is_refused(region: str) -> None:
    # The program's ARNs and service principals are the aws partition's; elsewhere they are wrong.
    with pytest.raises(ValueError, match=f"^'{region}' is not an AWS region"):
        check_region(region)


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "sa-east-1"])
def test_a_region_of_the_aws_partition_is_accepted(region: str) -> None:
    assert check_region(region) == region


def test_a_key_may_be_written_by_its_python_name() -> None:
    # populate_by_name: the model is built by field name as well as by the stack file's camelCase.
    assert parse(serving={"min_replicas": 2, "maxReplicas": 3}).serving.min_replicas == 2


def test_a_parsed_config_cannot_be_changed() -> None:
    # Components share one StackConfig; a change made by one would reach all the others.
    cfg = parse()
    with pytest.raises(ValidationError):
        cfg.serving.min_replicas = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.environment = Environment.PROD  # type: ignore[misc]


def test_teardown_accepts_a_yaml_boolean() -> None:
    # Given through the Automation API or a test, teardown is a bool, not the CLI's text.
    assert parse(teardown=True).teardown is True
    assert parse(teardown=False).teardown is False


@pytest.mark.parametrize("data", ["s3://bucket/key.csv", "s3://bucket/dir/key.csv", "datasets/iris.csv", "X", "builtin:wine", "builtin:digits", "builtin:breast_cancer"])
def test_training_data_accepts_these(data: str) -> None:
    assert parse(training={"data": data}).training.data == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("datasets/a\tb.csv", "must be one line without spaces or control characters"),
        ("datasets/a b.csv", "must be one line without spaces or control characters"),
        ("s3://bucket", "use builtin:<name>, s3://bucket/key, or a key in the data bucket"),
        ("/", "must not be empty"),
        ("", "must not be empty"),
    ],
)
def test_training_data_refuses_these(data: str, reason: str) -> None:
    # Each would reach the training job as a --data it cannot read (or a shell-split argument).
    assert problems(training={"data": data}) == [f"mlops:training.data: {json.dumps(data)} is invalid: {reason}"]


@pytest.mark.parametrize(
    ("networks", "reason"),
    [
        (["2001:db8::/32"], "'2001:db8::/32' is IPv6; GKE authorized networks take IPv4 CIDRs"),
        (["198.51.100.0/24", "198.51.100.0/24"], "lists a network twice"),
    ],
)
def test_authorized_networks_refuse_these(networks: list[str], reason: str) -> None:
    assert problems(gke={"authorizedNetworks": networks}) == [
        f"mlops:gke.authorizedNetworks: {json.dumps(networks)} is invalid: {reason}"
    ]


def test_a_narrow_authorized_network_is_accepted() -> None:
    # Only /0 opens the control plane to everyone; /1 is a (huge) list of someone's networks.
    assert parse(gke={"authorizedNetworks": ["128.0.0.0/1"]}).gke.authorized_networks == ["128.0.0.0/1"]


@pytest.mark.parametrize(
    ("zones", "reason"),
    [
        (["us-central1-ab"], "must be zones of region us-central1 (for example us-central1-a)"),
        (["us-central1"], "must be zones of region us-central1 (for example us-central1-a)"),
        (["us-central1-a", "us-central1-a"], "lists a zone twice"),
    ],
)
def test_zones_refuse_these(zones: list[str], reason: str) -> None:
    assert problems(gke={"zones": zones}) == [f"mlops:gke.zones: {json.dumps(zones)} {reason}"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("mlops-prod-123456", "the sample project id: use your Google Cloud project's id"),
        ("192.0.2.0/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("198.51.100.0/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("203.0.113.0/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("203.0.113.8/29", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        # Host bits set: still the documentation range, not a value to let through.
        ("203.0.113.7/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("10.0.0.0/8", None),
        ("203.0.112.0/23", None),
        ("2001:db8::/32", None),
        ("my-project-42", None),
    ],
)
def test_placeholder_names_each_sample_value(value: str, why: str | None) -> None:
    # `make plan` names every sample still in a stack file; a missed one deploys to nowhere.
    assert placeholder(value) == why


CRON_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
CRON_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@pytest.mark.parametrize("month", CRON_MONTHS)
def test_each_month_name_is_its_number(month: str) -> None:
    # A misnumbered month runs the job in the wrong month, with no error anywhere.
    assert cron_to_scheduler(f"0 0 1 {month} *") == f"cron(0 0 1 {CRON_MONTHS.index(month) + 1} ? *)"


@pytest.mark.parametrize("day", range(7))
def test_each_weekday_number_and_name_is_the_same_scheduler_day(day: int) -> None:
    # cron numbers Sunday 0, Scheduler 1: one off, and the job runs a day early or late.
    expected = f"cron(0 0 ? * {CRON_WEEKDAYS[day]} *)"
    assert cron_to_scheduler(f"0 0 * * {day}") == expected
    assert cron_to_scheduler(f"0 0 * * {CRON_WEEKDAYS[day].lower()}") == expected


@pytest.mark.parametrize(("cron", "scheduler"), [("0 0 * * 0-6", "cron(0 0 ? * * *)"), ("0 0 * * 1-7", "cron(0 0 ? * * *)"),
                                                 ("0 9-9 * * *", "cron(0 9 * * ? *)"), ("59 23 31 12 *", "cron(59 23 31 12 ? *)"),
                                                 ("0 0 * * 1-3", "cron(0 0 ? * MON-WED *)")])
def test_cron_edges_translate_exactly(cron: str, scheduler: str) -> None:
    # Every weekday is `*`; a one-value range and each field's highest value are valid.
    assert cron_to_scheduler(cron) == scheduler


def test_a_cron_of_the_wrong_shape_names_the_five_fields() -> None:
    with pytest.raises(ValueError) as raised:
        cron_to_scheduler("0 3 * *")
    assert str(raised.value) == "'0 3 * *' is not a 5-field cron expression (minute hour day-of-month month day-of-week)"
