"""Who hears of a failed Batch training job: an EventBridge rule per project that sends its
FAILED `Batch Job State Change` events to the stack's notification topic, as one readable line.

The event's `detail` is the job as DescribeJobs returns it
(https://docs.aws.amazon.com/batch/latest/userguide/batch_job_events.html): its
`jobDefinition` is the definition's ARN with its revision
(`arn:aws:batch:<region>:<account>:job-definition/<name>:<revision>`), so the rule matches the
project's ARN up to the revision's colon: every revision of its own definition, and no other
project's (a definition name has no `:`, so `<name>:` is a prefix of its own ARNs only).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs
from components.project_names import failure_rule_name, project_tags

# The event fields the message names (each is in every FAILED event: DescribeJobs' JobDetail).
MESSAGE_FIELDS = {
    "jobName": "$.detail.jobName",
    "jobId": "$.detail.jobId",
    "reason": "$.detail.statusReason",
    "time": "$.time",
}


def failed_jobs_pattern(definition_arn_prefix: str) -> dict[str, Any]:
    """FAILED state changes of one job definition, any revision."""
    return {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {"status": ["FAILED"], "jobDefinition": [{"prefix": f"{definition_arn_prefix}:"}]},
    }


def failure_message(project: str, *, region: str, log_group: str) -> str:
    """The input template: a JSON string (SNS sends its text), naming the project, the job, why it
    failed, and the two commands that show its state and its log streams."""
    text = (
        f"Training {project} failed: job <jobName> (<jobId>) at <time>: <reason>. "
        f"State: `aws batch describe-jobs --region {region} --jobs <jobId>`. "
        f"Logs: `aws logs tail {log_group} --region {region} --log-stream-name-prefix {project}/ --since 1d`"
    )
    return f'"{text}"'


def failure_notification(
    name: str,
    args: BatchTrainingArgs,
    project: str,
    *,
    definition: aws.batch.JobDefinition,
    log_group: aws.cloudwatch.LogGroup,
    region: pulumi.Output[str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.EventRule:
    """The project's rule on the default bus (where AWS services send their events) and its topic target."""
    child = pulumi.ResourceOptions(parent=parent)
    rule = aws.cloudwatch.EventRule(
        f"{name}-{project}-failed",
        name=failure_rule_name(args.name_prefix, project),
        description=f"Tells the notification topic when training {project} fails",
        event_pattern=definition.arn_prefix.apply(lambda prefix: json.dumps(failed_jobs_pattern(prefix))),
        tags=project_tags(project),
        opts=child,
    )
    aws.cloudwatch.EventTarget(
        f"{name}-{project}-failed-notify",
        rule=rule.name,
        target_id="notification-topic",
        arn=args.notification_topic_arn,
        input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
            input_paths=MESSAGE_FIELDS,
            input_template=pulumi.Output.all(region, log_group.name).apply(
                lambda values: failure_message(project, region=values[0], log_group=values[1])
            ),
        ),
        opts=child,
    )
    return rule
