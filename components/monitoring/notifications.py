"""The stack's notification topic: one SNS topic, encrypted with a key of its own, that AWS's
services publish to and `monitoring.notify` subscribes to.

EventBridge rules, CloudWatch alarms and AWS Budgets cannot publish to a topic under the
AWS-managed aws/sns key, whose policy they cannot be added to: the topic has a
customer-managed key whose policy lets those three services use it, for this account and topic
only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config.monitoring import NotifyConfig

# The services that publish to the topic (Batch failure rules, the dead-letter alarms, the
# budget), by the Sid of their topic policy statement.
PUBLISHERS = {
    "events.amazonaws.com": "StackRulesPublish",
    "cloudwatch.amazonaws.com": "StackAlarmsPublish",
    "budgets.amazonaws.com": "AccountBudgetsPublish",
}
# What a publisher needs of the key (SNS encrypts each message under a data key).
KEY_USE = ["kms:GenerateDataKey*", "kms:Decrypt"]
# The default topic policy's owner rights: a topic policy replaces the default one.
OWNER_ACTIONS = [
    "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
    "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
]


@dataclass(frozen=True, kw_only=True)
class NotificationTopicArgs:
    name_prefix: str
    """Names the topic (`<prefix>-notifications`) and scopes who may publish: the stack's rules and alarms."""
    notify: NotifyConfig
    """The e-mail addresses and https:// endpoints subscribed to it."""
    key_deletion_window_days: int
    """Days a deleted topic key can still be restored (7 to 30)."""


@dataclass(frozen=True)
class Publishers:
    """Where the services that may publish act from: the account, and each service's own source ARNs."""

    account: pulumi.Input[str]
    partition: pulumi.Input[str]
    region: pulumi.Input[str]
    name_prefix: str

    @property
    def root(self) -> pulumi.Output[str]:
        """The account as a principal: what it is allowed, its IAM policies hand on to its users and roles."""
        return pulumi.Output.concat("arn:", self.partition, ":iam::", self.account, ":root")

    def arn(self, service: str, resource: str) -> pulumi.Output[str]:
        """An ARN of this account and region."""
        return pulumi.Output.concat("arn:", self.partition, f":{service}:", self.region, ":", self.account, f":{resource}")

    def source_arns(self) -> dict[str, pulumi.Output[str]]:
        """Per publishing service, the ARNs it may publish for: this stack's rules and alarms, this account's budgets."""
        return {
            "events.amazonaws.com": self.arn("events", f"rule/{self.name_prefix}-*"),
            "cloudwatch.amazonaws.com": self.arn("cloudwatch", f"alarm:{self.name_prefix}-*"),
            "budgets.amazonaws.com": pulumi.Output.concat("arn:", self.partition, ":budgets::", self.account, ":*"),
        }


class NotificationTopic(pulumi.ComponentResource):
    """One SNS topic per stack, its key and policy, and a subscription per `monitoring.notify` entry.

    E-mail and https subscriptions stay "pending confirmation" until their owner confirms
    (the link SNS mails, or the endpoint's answer to SNS's first POST); the provider does not
    wait for that (it waits only with `endpoint_auto_confirms`), so `pulumi up` neither hangs
    nor fails on them.

    Public attributes: `topic_arn` (what publishers and alarms target) and `key_arn` (what a
    publisher outside the three services needs kms:GenerateDataKey and kms:Decrypt on).
    """

    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: NotificationTopicArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:monitoring:NotificationTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        publishers = Publishers(
            account=aws.get_caller_identity_output(opts=invoke).account_id,
            partition=aws.get_partition_output(opts=invoke).partition,
            region=aws.get_region_output(opts=invoke).region,
            name_prefix=args.name_prefix,
        )
        topic_name = f"{args.name_prefix}-notifications"
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {args.name_prefix} notification topic",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            # The topic's ARN as SNS will give it: the topic needs the key first.
            policy=pulumi.Output.json_dumps(key_policy(publishers, publishers.arn("sns", topic_name))),
            opts=child,
        )
        topic = aws.sns.Topic(
            name,
            name=topic_name,
            kms_master_key_id=key.arn,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=topic.arn,
            policy=pulumi.Output.json_dumps(topic_policy(topic.arn, publishers)),
            opts=child,
        )
        for protocol, endpoints in (("email", args.notify.emails), ("https", args.notify.https)):
            for endpoint in endpoints:
                aws.sns.TopicSubscription(
                    subscription_name(name, protocol, endpoint),
                    topic=topic.arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    opts=child,
                )

        self.topic_arn = topic.arn
        self.key_arn = key.arn
        self.register_outputs({"topicArn": self.topic_arn, "keyArn": self.key_arn})


def subscription_name(name: str, protocol: str, endpoint: str) -> str:
    """A subscription's logical name, from its endpoint: removing one entry from the list leaves
    the others' names (and confirmations) as they are, which list positions would not."""
    return f"{name}-{protocol}-{hashlib.sha256(endpoint.encode()).hexdigest()[:8]}"


def key_policy(publishers: Publishers, topic_arn: pulumi.Input[str]) -> dict[str, Any]:
    """The account administers the key through IAM; the publishing services may only encrypt and
    decrypt with it: alarms and budgets for this account, EventBridge for this topic.

    EventBridge's KMS requests for an SNS target carry no aws:SourceAccount or aws:SourceArn, so a
    statement conditioned on them would refuse every failure notice, silently; SNS passes the
    topic's ARN as the encryption context (aws:sns:topicArn), which scopes EventBridge instead.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministersTheKey", "Effect": "Allow", "Principal": {"AWS": publishers.root}, "Action": "kms:*", "Resource": "*"},
            {
                "Sid": "AlarmsAndBudgetsEncryptForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]},
                "Action": KEY_USE,
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": publishers.account}},
            },
            {
                "Sid": "RulesEncryptForThisTopic",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": KEY_USE,
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
            },
        ],
    }


def topic_policy(topic_arn: pulumi.Input[str], publishers: Publishers) -> dict[str, Any]:
    """The owner keeps the default policy's rights; each service may publish for this account's
    own sources only (no confused deputy: another account's rule or alarm cannot use the topic)."""
    owner = {
        "Sid": "OwnerManagesTheTopic",
        "Effect": "Allow",
        "Principal": {"AWS": publishers.root},
        "Action": OWNER_ACTIONS,
        "Resource": topic_arn,
    }
    services = [
        {
            "Sid": PUBLISHERS[service],
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": publishers.account}, "ArnLike": {"aws:SourceArn": source}},
        }
        for service, source in publishers.source_arns().items()
    ]
    return {"Version": "2012-10-17", "Id": "notification-topic", "Statement": [owner, *services]}
