"""What the Batch tests read from a recording: the resource types, and the inputs they look at."""

from __future__ import annotations

import json
from typing import Any

from offline.engine import Recording


COMPONENT = "mlops:batch:BatchTraining"


COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"


JOB_QUEUE = "aws:batch/jobQueue:JobQueue"


JOB_DEFINITION = "aws:batch/jobDefinition:JobDefinition"


LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


SCHEDULE = "aws:scheduler/schedule:Schedule"


LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


DEAD_LETTER_QUEUE = "aws:sqs/queue:Queue"


DEAD_LETTER_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


FAILURE_RULE = "aws:cloudwatch/eventRule:EventRule"


FAILURE_TARGET = "aws:cloudwatch/eventTarget:EventTarget"


SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


def compute_resources(run: Recording) -> dict[str, Any]:
    return run.one(COMPUTE_ENVIRONMENT).inputs["computeResources"]


def container(run: Recording) -> dict[str, Any]:
    return json.loads(run.one(JOB_DEFINITION).inputs["containerProperties"])


def requirements(run: Recording) -> dict[str, int]:
    return {r["type"]: int(r["value"]) for r in container(run)["resourceRequirements"]}


def statements(run: Recording, policy_name: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(run.named(policy_name).inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
