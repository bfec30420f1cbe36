"""policy/rules/messaging.py: the SNS and SQS encryption rules on compliant and non-compliant inputs."""

from __future__ import annotations

from tests.policy.support import RuleCases

TOPIC = "aws:sns/topic:Topic"
QUEUE = "aws:sqs/queue:Queue"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class TestMessagingRules(RuleCases):
    """Each SNS and SQS rule on the inputs it accepts and refuses, on each of its types, in each environment."""

    ACCEPTED = {
        "topic-with-its-own-key": ("sns-topic-encrypted", TOPIC, {"name": "t", "kmsMasterKeyId": KEY_ARN}),
        "topic-with-a-key-alias": ("sns-topic-encrypted", TOPIC, {"name": "t", "kmsMasterKeyId": "alias/mlops-dev-topic"}),
        "queue-sse-sqs": ("sqs-queue-encrypted", QUEUE, {"name": "q", "sqsManagedSseEnabled": True}),
        "queue-sse-kms": ("sqs-queue-encrypted", QUEUE, {"name": "q", "kmsMasterKeyId": KEY_ARN}),
    }

    REJECTED = {
        "topic-unencrypted": ("sns-topic-encrypted", TOPIC, {"name": "t"}),
        "topic-aws-managed-alias": ("sns-topic-encrypted", TOPIC, {"name": "t", "kmsMasterKeyId": "alias/aws/sns"}),
        "topic-aws-managed-alias-arn": (
            "sns-topic-encrypted", TOPIC, {"name": "t", "kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:alias/aws/sns"},
        ),
        "queue-unencrypted": ("sqs-queue-encrypted", QUEUE, {"name": "q"}),
        "queue-sse-sqs-off": ("sqs-queue-encrypted", QUEUE, {"name": "q", "sqsManagedSseEnabled": False}),
    }

    REJECTED_ON_EVERY_TYPE = {
        "sns-topic-encrypted": {TOPIC: {}},
        "sqs-queue-encrypted": {QUEUE: {}},
    }

    VALUE_CASES = {
        "sse-sqs-as-string": ("sqs-queue-encrypted", QUEUE, {"sqsManagedSseEnabled": "true"}, True),
        "sse-sqs-off-as-string": ("sqs-queue-encrypted", QUEUE, {"sqsManagedSseEnabled": "false"}, False),
    }
