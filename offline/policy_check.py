"""Run the policy rules offline on what a stack would create: `python -m offline.policy_check --stack prod`.

The program runs under the mock engine (as in `make plan`), and `policy.rules.evaluate`
checks the recorded resources with the stack's own `mlops:environment`. Exit status 1
when a mandatory rule is broken, as `pulumi preview --policy-pack policy` would fail.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from offline.engine import run_stack, stack_config
from policy.rules import Violation, evaluate, mandatory


def stack_environment(stack: str) -> str:
    """The stack file's mlops:environment (the stack name when unset: config validation rejects that anyway)."""
    return stack_config(stack).get("mlops:environment", stack)


def check_stack(stack: str) -> list[Violation]:
    return evaluate(run_stack(stack).resources, environment=stack_environment(stack))


def markdown(violations: Sequence[Violation]) -> str:
    """A Markdown table of violations (for a job summary or a review report)."""
    if not violations:
        return "No policy violations.\n"
    rows = ["| rule | severity | resource | message |", "| --- | --- | --- | --- |"]
    for v in violations:
        resource = v.urn.rsplit("::", 1)[-1] if v.urn else "(stack)"
        message = v.message.replace("|", "\\|")
        rows.append(f"| `{v.rule}` | {v.severity} | `{resource}` | {message} |")
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    violations = check_stack(args.stack)
    for v in violations:
        print(f"{v.severity:9} {v.rule:32} {v.urn.rsplit('::', 1)[-1]}: {v.message}")
    blocking = mandatory(violations)
    print(f"{args.stack}: {len(violations)} violation(s), {len(blocking)} mandatory")
    return 1 if blocking else 0


if __name__ == "__main__":
    sys.exit(main())
