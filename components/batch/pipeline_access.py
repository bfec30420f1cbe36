"""What Airflow's identity may do with the stack's Batch training (`pipeline.kind: airflow`).

The DAG's train task submits each project's job to the queue and follows it (the Amazon
provider's BatchOperator: SubmitJob, DescribeJobs, TerminateJob when the task is killed). A
`reproduce: <version>` run needs the image that version ran, and a job's image is fixed by its
definition (SubmitJob's overrides cannot change it), so the task registers a revision of the
project's `<family>-reproduce` definition with that image and the definition's tags, and first checks that ECR still holds
it (an expired image is refused with a reason, not a failed pull). Registering a definition that
names the job role passes that role, so exactly the job roles may be passed, and only to Batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components.batch.job import revisions

PASSED_TO = ["batch.amazonaws.com", "ecs-tasks.amazonaws.com"]
"""The services a job role may be handed to. AWS does not document which of the two Batch's
RegisterJobDefinition names in its iam:PassRole check (the role trusts ecs-tasks, which runs it;
docs/deployer-policy.json admits ecs-tasks for the same call), so both, and no other."""


def pipeline_statements(
    *,
    queue_arn: pulumi.Input[str],
    family_arns: Sequence[pulumi.Input[str]],
    reproduce_family_arns: Sequence[pulumi.Input[str]],
    job_role_arns: Sequence[pulumi.Input[str]],
    train_repository_arn: pulumi.Input[str],
    jobs_arn: pulumi.Input[str],
) -> list[Mapping[str, Any]]:
    """The IAM statements of Airflow's identity on a Batch stack.

    `family_arns` are the projects' job definitions without a revision, `reproduce_family_arns`
    their `-reproduce` families, `jobs_arn` the account's jobs in the region (`job/*`: a job's
    ARN ends with its generated id, so no narrower pattern names the stack's own).
    """
    definitions = [arn for family in [*family_arns, *reproduce_family_arns] for arn in revisions(family)]
    reproduce = [arn for family in reproduce_family_arns for arn in revisions(family)]
    return [
        {"Sid": "SubmitTraining", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": [queue_arn, *definitions]},
        # Neither call takes a resource (the Service Authorization Reference lists none for them).
        {"Sid": "FollowTraining", "Effect": "Allow", "Action": ["batch:DescribeJobs", "batch:DescribeJobDefinitions"], "Resource": "*"},
        {"Sid": "StopTraining", "Effect": "Allow", "Action": "batch:TerminateJob", "Resource": jobs_arn},
        # The revision keeps the definition's tags (the stack's cost allocation), which needs TagResource.
        {
            "Sid": "RegisterReproduceRevisions",
            "Effect": "Allow",
            "Action": ["batch:RegisterJobDefinition", "batch:TagResource"],
            "Resource": reproduce,
        },
        {
            "Sid": "PassTheJobRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": list(job_role_arns),
            "Condition": {"StringEquals": {"iam:PassedToService": PASSED_TO}},
        },
        {"Sid": "CheckReproducedImages", "Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": train_repository_arn},
    ]
