"""Invalid stack config fails before any resource exists, with one message naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig, cron_to_on_calendar
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
    ("replicas min > max", "dev", {"mlops:serving": {"minReplicas": 3, "maxReplicas": 2}}, ("mlops:serving.minReplicas", "3", "maxReplicas (2)")),
    ("nodes min > max", "dev", {"mlops:compute": {"minNodes": 3, "maxNodes": 1}}, ("mlops:compute.minNodes", "3", "maxNodes (1)")),
    ("mistyped key in a section", "dev", {"mlops:serving": {"minReplica": 2}}, ("mlops:serving.minReplica", "unknown key", "minReplicas")),
    ("mistyped top-level key", "dev", {"mlops:trainig": {"gpus": 1}}, ("mlops:trainig", "unknown key", "training")),
    ("cron that does not parse", "dev", {"mlops:training": {"schedule": "every day"}}, ("mlops:training.schedule", '"every day"', "5-field cron")),
    ("cron out of range", "dev", {"mlops:training": {"schedule": "0 25 * * *"}}, ("mlops:training.schedule", '"0 25 * * *"', "5-field cron")),
    ("training data with a newline", "dev", {"mlops:training": {"data": "datasets/a.csv\nrm -rf /"}}, ("mlops:training.data", "one line")),
    ("training data in another store", "dev", {"mlops:training": {"data": "gs://bucket/a.csv"}}, ("mlops:training.data", '"gs://bucket/a.csv"', "s3://bucket/key")),
    ("unknown builtin data set", "dev", {"mlops:training": {"data": "builtin:mnist"}}, ("mlops:training.data", "iris, wine, breast_cancer, digits")),
    ("non-GPU instance type", "dev", {"mlops:compute": {"instanceType": "m5.xlarge"}}, ("mlops:compute.instanceType", '"m5.xlarge"', "NVIDIA GPU instance type")),
    ("prod without backupRegion", "prod", {"mlops:storage": {"backupRegion": None}}, ("mlops:storage.backupRegion", "required in prod")),
    ("prod backup in the same region", "prod", {"mlops:storage": {"backupRegion": "us-east-1"}}, ("mlops:storage.backupRegion", '"us-east-1"', "must differ from aws:region")),
    ("prod with one serving replica", "prod", {"mlops:serving": {"minReplicas": 1}}, ("mlops:serving.minReplicas", "1", ">= 2 in prod")),
    ("missing environment", "dev", {"mlops:environment": None}, ("mlops:environment", "missing", "dev or prod")),
    ("missing region", "dev", {"aws:region": None}, ("aws:region", "missing")),
    ("section that is not an object", "dev", {"mlops:storage": "30"}, ("mlops:storage", "must be an object")),
    ("serving on a planned cluster", "dev", {"mlops:serving": {"cluster": "gke"}}, ("mlops:serving.cluster", '"gke"', "planned", "kubeconfig")),
    ("serving on eks", "dev", {"mlops:serving": {"cluster": "eks"}}, ("mlops:serving.cluster", '"eks"', "planned")),
    ("serving with no CPU", "dev", {"mlops:serving": {"cpu": 0}}, ("mlops:serving.cpu", "0", "greater than or equal to 1")),
    ("memory without a unit", "dev", {"mlops:serving": {"memory": "512"}}, ("mlops:serving.memory", '"512"', "Kubernetes memory quantity")),
    ("memory in a made-up unit", "dev", {"mlops:serving": {"memory": "1GB"}}, ("mlops:serving.memory", '"1GB"', "512Mi or 2Gi")),
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
    def parse(environment: str, **compute: Any) -> StackConfig:
        raw = {"environment": environment, "compute": compute}
        if environment == "prod":
            raw |= {"storage": {"backupRegion": "us-west-2"}, "serving": {"minReplicas": 2}}
        return StackConfig.parse(raw, project="mlops", stack=environment, aws_region="us-east-1")

    assert parse("dev").spot is True
    assert parse("prod").spot is False
    assert parse("prod", spot=True).spot is True


def test_gke_is_refused_until_supported() -> None:
    with pytest.raises(ConfigError, match=r"mlops:compute\.kind: \"gke\" is not supported"):
        StackConfig.parse({"environment": "dev", "compute": {"kind": "gke"}}, project="mlops", stack="dev", aws_region="us-east-1")


@pytest.mark.parametrize(
    ("cron", "on_calendar"),
    [
        ("0 3 * * *", "*-*-* 03:00:00 UTC"),
        ("0 2 * * 1-5", "Mon,Tue,Wed,Thu,Fri *-*-* 02:00:00 UTC"),
        ("*/15 * * * *", "*-*-* *:00,15,30,45:00 UTC"),
        ("30 4 1 */3 *", "*-01,04,07,10-01 04:30:00 UTC"),
        ("0 0 * * 0,7", "Sun *-*-* 00:00:00 UTC"),
    ],
)
def test_cron_translates_to_systemd_calendar(cron: str, on_calendar: str) -> None:
    assert cron_to_on_calendar(cron) == on_calendar


def test_cron_with_both_day_fields_is_refused() -> None:
    # cron ORs day-of-month with day-of-week, systemd ANDs them: no exact translation.
    with pytest.raises(ValueError, match="both day-of-month and day-of-week"):
        cron_to_on_calendar("0 3 1 * 1")
