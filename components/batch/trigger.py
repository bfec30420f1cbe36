"""When a project's Batch training job runs: an EventBridge Scheduler schedule on its cron, all
of them through one role that may submit exactly the stack's job definitions to its queue, and
send what it could not submit to the projects' dead-letter queues (dead_letters.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs
from components.batch.job import revisions
from components.iam import assumable_by_service_for, assumable_role
from components.migration import renamed
from components.project_names import job_definition_name


def schedule_role(
    name: str,
    *,
    queue: aws.batch.JobQueue,
    definitions: Sequence[aws.batch.JobDefinition],
    dead_letter_queues: Sequence[aws.sqs.Queue],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """The Scheduler's one role: submit the stack's training jobs to the queue, and dead-letter what fails."""
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent)).account_id
    return assumable_role(
        f"{name}-schedule-role",
        description="EventBridge Scheduler: submit the training jobs to their queue, nothing else.",
        trust=assumable_by_service_for("scheduler.amazonaws.com", source_account=account),
        policy=schedule_grants(queue, definitions, dead_letter_queues),
        policy_name=f"{name}-schedule-submit",
        parent=parent,
    )


def training_schedule(
    name: str,
    args: BatchTrainingArgs,
    project: str,
    *,
    queue: aws.batch.JobQueue,
    definition: aws.batch.JobDefinition,
    role: aws.iam.Role,
    dead_letter_queue: aws.sqs.Queue,
    parent: pulumi.Resource,
) -> aws.scheduler.Schedule:
    """Submit the project's job to the queue on its `train.schedule` (UTC); Batch runs its latest revision."""
    training = args.projects[project].training
    schedule = job_definition_name(args.name_prefix, project)
    return aws.scheduler.Schedule(
        f"{name}-{project}-schedule",
        name=schedule,
        description=f"Training {project} on cron '{training.schedule}' (UTC)",
        schedule_expression=training.scheduler_expression,
        schedule_expression_timezone="UTC",
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            # The universal target: Scheduler calls batch:SubmitJob itself.
            arn="arn:aws:scheduler:::aws-sdk:batch:submitJob",
            role_arn=role.arn,
            input=pulumi.Output.json_dumps(
                {
                    "JobName": f"{schedule}-scheduled",
                    "JobQueue": queue.arn,
                    # The name without a revision: Batch runs the latest ACTIVE revision.
                    "JobDefinition": definition.name,
                }
            ),
            # A failed SubmitJob (throttling, say) is retried for up to an hour, then dead-lettered.
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_event_age_in_seconds=3600, maximum_retry_attempts=10
            ),
            # target is not ForceNew in the provider (internal/service/scheduler/schedule.go):
            # adding this to an existing schedule is an UpdateSchedule, in place.
            dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=dead_letter_queue.arn),
        ),
        opts=pulumi.ResourceOptions(parent=parent).merge(renamed(project, f"{name}-schedule")),
    )


def schedule_grants(
    queue: aws.batch.JobQueue, definitions: Sequence[aws.batch.JobDefinition], dead_letter_queues: Sequence[aws.sqs.Queue]
) -> dict[str, Any]:
    """The schedule role's grants: SubmitJob of the stack's job definitions to this queue, and
    SendMessage to the schedules' dead-letter queues (the Scheduler sends with this role)."""
    submitted = [arn for definition in definitions for arn in revisions(definition.arn_prefix)]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "SubmitTrainingJob", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": [queue.arn, *submitted]},
            {
                "Sid": "DeadLetterUnsubmittedRuns",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": [dead_letter.arn for dead_letter in dead_letter_queues],
            },
        ],
    }
