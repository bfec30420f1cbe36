"""Where a scheduled run that never started goes: each project's schedule has a dead-letter queue,
and an alarm on it tells the stack's notification topic.

When the Scheduler's SubmitJob still fails after its retries (throttling for an hour, a job
definition or queue gone, a role that lost its grant), the Scheduler sends the event, with the
error, to the schedule's dead-letter queue instead of dropping it
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
Its execution role needs sqs:SendMessage on the queue (trigger.py grants it).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs
from components.project_names import dead_letter_queue_name, project_tags

RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest: two weeks to read why a run never started
ALARM_PERIOD_SECONDS = 300


def dead_letter_queue(name: str, args: BatchTrainingArgs, project: str, *, parent: pulumi.Resource) -> aws.sqs.Queue:
    """The project's schedule's dead-letter queue (standard: the Scheduler refuses FIFO ones), and its alarm."""
    queue = aws.sqs.Queue(
        f"{name}-{project}-schedule-dlq",
        name=dead_letter_queue_name(args.name_prefix, project),
        # SSE-SQS: the Scheduler sends with its role and needs no key grant; the events hold no secret.
        sqs_managed_sse_enabled=True,
        message_retention_seconds=RETENTION_SECONDS,
        tags=project_tags(project),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.cloudwatch.MetricAlarm(
        f"{name}-{project}-schedule-dlq-alarm",
        name=f"{dead_letter_queue_name(args.name_prefix, project)}-not-empty",
        alarm_description=f"A scheduled {project} training run never reached Batch: read why in the queue, then purge it",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": queue.name},
        statistic="Maximum",
        period=ALARM_PERIOD_SECONDS,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        # SQS stops sending a queue's metrics after hours without activity: no data is an empty queue.
        treat_missing_data="notBreaching",
        alarm_actions=[args.notification_topic_arn],
        tags=project_tags(project),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return queue
