"""`make cost`: what each stack bills while nothing runs, per project and shared, what one training
run costs, the stack's budget against a month's estimate, and what one more served project would add.

Each stack is run under the mock engine and priced (offline/stack_cost.py) from the price
table (offline/prices.py), split by project (offline/cost_by_project.py), and run once more
with a copy of its first served project (offline/cost_one_more.py); the text
(offline/cost_text.py) names every unpriced type, and tests/test_stack_cost.py fails on one in
a stack file. `--json` prints the same figures for tools.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from offline.cost_one_more import one_more_project
from offline.cost_text import render_text
from components.config import ConfigError
from offline.engine import run_program, stack_config, stack_names
from offline.prices import price_table
from offline.stack_cost import StackCost, stack_cost

BUDGET_KEY = "monitoring.budget.monthlyUsd"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=None, help="one stack (default: every stacks/Pulumi.*.yaml)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    stacks = [args.stack] if args.stack else stack_names()
    costs, failures = [], []
    for stack in stacks:
        try:
            cost, config = priced_stack(stack)
            costs.append(dataclasses.replace(cost, one_more=one_more_project(cost, config)))
        except Exception as error:  # a broken stack is reported, the others still priced
            failures.append(f"stack {stack}: failed: {error}")
    if args.json:
        print(json.dumps({c.stack: c.to_json() for c in costs} | {"asOf": price_table()["as_of"]}, indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(costs))
    for failure in failures:
        print(failure, file=sys.stderr)
    return 2 if failures else 0


def priced_stack(stack: str) -> tuple[StackCost, dict[str, str]]:
    """The stack priced, and the config it ran with. One whose only problem is the missing budget is
    priced with a stand-in budget and shown without one, so that `make cost` prints the figure to set
    (the config error sends the user here)."""
    config = stack_config(stack)
    try:
        return stack_cost(stack, run_program(stack, config).resources), config
    except ConfigError as error:
        if not all(problem.startswith(f"mlops:{BUDGET_KEY}: ") for problem in error.problems):
            raise
    monitoring = json.loads(config.get("mlops:monitoring", "{}"))
    stand_in = {**config, "mlops:monitoring": json.dumps({**monitoring, "budget": {**monitoring.get("budget", {}), "monthlyUsd": 1}})}
    return dataclasses.replace(stack_cost(stack, run_program(stack, stand_in).resources), budget_monthly=None), stand_in


if __name__ == "__main__":
    sys.exit(main())
