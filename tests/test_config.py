"""Invalid stack config fails before any resource exists, with one message naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from croniter import croniter

from components.config import ConfigError, StackConfig, cron_to_scheduler, training_data_uri
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
