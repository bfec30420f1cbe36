"""AWS Batch's documented "Batch Job State Change" event, and the FAILED one a project's job sends.

SAMPLE is the example event of the AWS Batch User Guide, "Job state change events"
(https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html), copied as printed
there (a RUNNABLE job). `state_change` gives it another status, reason and job definition: the
fields a FAILED job's event differs in (its `detail` is the job as DescribeJobs returns it).
"""

from __future__ import annotations

import copy
from typing import Any

SAMPLE: dict[str, Any] = {
    "version": "0",
    "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b",
    "detail-type": "Batch Job State Change",
    "source": "aws.batch",
    "account": "123456789012",
    "time": "2022-01-11T23:36:40Z",
    "region": "us-east-1",
    "resources": ["arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8"],
    "detail": {
        "jobArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
        "jobName": "event-test",
        "jobId": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/PexjEHappyPathCanary2JobQueue",
        "status": "RUNNABLE",
        "attempts": [],
        "createdAt": 1641944200058,
        "retryStrategy": {"attempts": 2, "evaluateOnExit": []},
        "dependsOn": [],
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/first-run-job-definition:1",
        "parameters": {},
        "container": {
            "image": "137112412989.dkr.ecr.us-east-1.amazonaws.com/amazonlinux:latest",
            "command": ["sleep", "600"],
            "volumes": [],
            "environment": [],
            "mountPoints": [],
            "ulimits": [],
            "networkInterfaces": [],
            "resourceRequirements": [{"value": "2", "type": "VCPU"}, {"value": "256", "type": "MEMORY"}],
            "secrets": [],
        },
        "tags": {"resourceArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8"},
        "propagateTags": False,
        "platformCapabilities": [],
    },
}

# What Batch reports when the container exits non-zero (DescribeJobs' statusReason).
EXITED = "Essential container in task exited"


def state_change(*, status: str, job_definition: str, reason: str = EXITED) -> dict[str, Any]:
    """The documented event, for a job of `job_definition` (an ARN with its revision) in `status`."""
    event = copy.deepcopy(SAMPLE)
    event["detail"] |= {"status": status, "statusReason": reason, "jobDefinition": job_definition}
    return event
