"""The CrossGuard policy pack: `pulumi preview --policy-pack policy`.

Every rule is listed in `policy/rules/catalog.py`; this file only adapts them to the Policy SDK:

- a `ResourceRule` becomes a `ResourceValidationPolicy` that runs the same check on
  `args.props` (the resource's inputs, camelCase, as the engine sends them);
- a `StackRule` becomes a `StackValidationPolicy` over all resources, with each
  resource's `protect` option and property dependencies, so a bucket's settings are tied
  to the bucket even while its name is still unknown in a preview;
- the severity becomes the enforcement level (mandatory blocks, advisory warns).

The environment (dev | prod) is the stack's own `mlops:environment` config, the value the
program itself used; the CLI hands stack config to policy packs. When it is missing (an
old CLI), the stack name stands in, as our stacks are named after their environment.

The pack is only built when the CLI runs this file: building a `PolicyPack` starts a gRPC
server and blocks, so the tests import `policies()` instead.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

# The CLI runs this file with only policy/ on sys.path; `policy.rules` needs the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi  # noqa: E402
from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    Policy,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import RULES, Context, Resource, ResourceRule, StackRule  # noqa: E402

PACK_NAME = "mlops"
LEVELS: Mapping[str, EnforcementLevel] = {
    "mandatory": EnforcementLevel.MANDATORY,
    "advisory": EnforcementLevel.ADVISORY,
}


def environment() -> str:
    """The stack's mlops:environment, else the stack name."""
    configured = pulumi.Config("mlops").get("environment")
    if configured:
        return configured
    try:
        return pulumi.get_stack()
    except Exception:  # noqa: BLE001 - the runtime is not configured: treat as the strict case
        return "prod"


def _resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        context = Context(
            environment=environment(), type=args.resource_type, name=args.name, protect=args.opts.protect
        )
        message = rule.check(args.props, context)
        if message:
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.name, description=rule.description, validate=validate, enforcement_level=LEVELS[rule.severity]
    )


def _stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            Resource(
                type=r.resource_type,
                name=r.name,
                urn=r.urn,
                inputs=r.props,
                protect=r.opts.protect,
                refs={prop: frozenset(dep.urn for dep in deps) for prop, deps in r.property_dependencies.items()},
            )
            for r in args.resources
        ]
        for urn, message in rule.check(resources, Context(environment=environment())):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=rule.name, description=rule.description, validate=validate, enforcement_level=LEVELS[rule.severity]
    )


def policies() -> list[Policy]:
    """One CrossGuard policy per rule, in the rules' order."""
    return [_resource_policy(r) if isinstance(r, ResourceRule) else _stack_policy(r) for r in RULES]


def main() -> None:
    PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.ADVISORY)


if __name__ == "__main__":
    main()
