"""When a Batch training job runs: an EventBridge Scheduler schedule on the training cron, and its role."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs
from components.iam import assumable_by_service_for, assumable_role


def training_schedule(
    name: str,
    args: BatchTrainingArgs,
    *,
    queue: aws.batch.JobQueue,
    definition: aws.batch.JobDefinition,
    parent: pulumi.Resource,
) -> aws.scheduler.Schedule:
    """Submit the job to the queue on `training.schedule` (UTC); Batch runs its latest revision."""
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent)).account_id
    role = assumable_role(
        f"{name}-schedule-role",
        description="EventBridge Scheduler: submit the training job to its queue, nothing else.",
        trust=assumable_by_service_for("scheduler.amazonaws.com", source_account=account),
        policy=submit_only(queue, definition),
        policy_name=f"{name}-schedule-submit",
        parent=parent,
    )
    return aws.scheduler.Schedule(
        f"{name}-schedule",
        name=f"{args.name_prefix}-train",
        description=f"Training on cron '{args.training.schedule}' (UTC)",
        schedule_expression=args.training.scheduler_expression,
        schedule_expression_timezone="UTC",
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            # The universal target: Scheduler calls batch:SubmitJob itself.
            arn="arn:aws:scheduler:::aws-sdk:batch:submitJob",
            role_arn=role.arn,
            input=pulumi.Output.json_dumps(
                {
                    "JobName": f"{args.name_prefix}-train-scheduled",
                    "JobQueue": queue.arn,
                    # The name without a revision: Batch runs the latest ACTIVE revision.
                    "JobDefinition": definition.name,
                }
            ),
            # A failed SubmitJob (throttling, say) is retried for up to an hour, then dropped.
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=3600, maximum_retry_attempts=10
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def submit_only(queue: aws.batch.JobQueue, definition: aws.batch.JobDefinition) -> dict[str, Any]:
    """The schedule role's one grant: SubmitJob of this job definition to this queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SubmitTrainingJob",
                "Effect": "Allow",
                "Action": "batch:SubmitJob",
                "Resource": [
                    queue.arn,
                    # The job definition by name (its latest revision) and every revision.
                    definition.arn_prefix,
                    pulumi.Output.concat(definition.arn_prefix, ":*"),
                ],
            }
        ],
    }
