"""The project's policy rules, as plain functions over resource inputs, grouped by what they guard.

- `data`: S3 buckets and their KMS keys; `registry`: ECR; `messaging`: SNS topics and SQS
  queues; `compute`: EC2 hosts and their network; `cluster`: GKE; `eks`: EKS; `database`: RDS; `pods`: Kubernetes
  workloads; `pipeline`: Airflow's Helm release (its values); `identity`: IAM; `exposure`: what the internet can
  reach (shared with `make diff`) and public endpoints;
- `core`: the rule types; `inputs`: reading inputs as the engine sends them;
- `catalog`: `RULES`, the one list, and `evaluate`.

The same list is run three ways: by `pulumi preview --policy-pack policy` (CrossGuard:
`policy/__main__.py` turns each rule into a `ResourceValidationPolicy` or a
`StackValidationPolicy`); offline, on what the mock engine recorded, by `evaluate()` (the
tests, `make diff`, `python -m offline.policy_check`); and directly, rule by rule, in the
unit tests. Nothing here imports `offline`, `pulumi_policy` or the Pulumi SDK.
"""

from policy.rules.catalog import RULES, RULES_BY_NAME, evaluate
from policy.rules.core import (
    Context, Resource, ResourceCheck, ResourceRule, ResourceView, Rule, Severity, StackCheck, StackRule, Violation,
    mandatory,
)
from policy.rules.exposure import AUTH_TOKEN_ENV, Opening, openings, public_load_balancer, widened

__all__ = [
    "AUTH_TOKEN_ENV", "RULES", "RULES_BY_NAME", "Context", "Opening", "Resource", "ResourceCheck", "ResourceRule",
    "ResourceView", "Rule", "Severity", "StackCheck", "StackRule", "Violation", "evaluate", "mandatory", "openings",
    "public_load_balancer", "widened",
]
