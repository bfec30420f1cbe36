"""Rules that guard the notifications: SNS topics and SQS queues keep their messages encrypted.

A topic under the AWS-managed key (alias/aws/sns) is encrypted, but AWS's services (EventBridge,
CloudWatch alarms, Budgets) cannot be let into that key's policy, so their messages are silently
refused: a topic names a customer-managed key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.core import Context
from policy.rules.inputs import truthy

TOPIC = frozenset({"aws:sns/topic:Topic"})
QUEUE = frozenset({"aws:sqs/queue:Queue"})
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


def check_sns_topic_encrypted(inputs: Mapping[str, Any], _: Context) -> str | None:
    key = inputs.get("kmsMasterKeyId")
    if not key:
        return "kmsMasterKeyId is not set: messages are stored unencrypted; set a customer-managed KMS key"
    if str(key).endswith(AWS_MANAGED_SNS_KEY):
        return f"kmsMasterKeyId is {key}: EventBridge, CloudWatch and Budgets cannot publish under it; use a customer-managed key"
    return None


def check_sqs_queue_encrypted(inputs: Mapping[str, Any], _: Context) -> str | None:
    if truthy(inputs.get("sqsManagedSseEnabled")) or inputs.get("kmsMasterKeyId"):
        return None
    return "neither sqsManagedSseEnabled nor kmsMasterKeyId is set; turn on SSE-SQS (or SSE-KMS)"
