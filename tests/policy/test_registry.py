"""policy/rules/registry.py: each ECR rule on compliant and non-compliant inputs."""

from __future__ import annotations

from tests.policy.support import REPO, RuleCases

class TestRegistryRules(RuleCases):
    """Each ECR rule on the inputs it accepts and refuses, on each of its types, in each environment."""

    ACCEPTED = {
        "immutable-tags": ("ecr-immutable-tags", REPO, {"imageTagMutability": "IMMUTABLE"}),
        "immutable-tags-with-cache-exclusion": ("ecr-immutable-tags", REPO, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}),
        "scan-on-push": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": True}}),
    }

    REJECTED = {
        "mutable-tags": ("ecr-immutable-tags", REPO, {"imageTagMutability": "MUTABLE"}),
        "default-mutability": ("ecr-immutable-tags", REPO, {}),
        "no-scan": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": False}}),
    }

    REJECTED_ON_EVERY_TYPE = {
        "ecr-immutable-tags": {REPO: {}},
        "ecr-scan-on-push": {REPO: {}},
    }

    VALUE_CASES = {
        "scan-on-push-as-string": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": "true"}}, True),
    }
