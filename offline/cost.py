"""`make cost`: what each stack bills while nothing runs, per project and shared, what one training
run costs, and what one more served project would add.

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
from offline.engine import run_stack, stack_names
from offline.prices import price_table
from offline.stack_cost import stack_cost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=None, help="one stack (default: every stacks/Pulumi.*.yaml)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    stacks = [args.stack] if args.stack else stack_names()
    costs, failures = [], []
    for stack in stacks:
        try:
            cost = stack_cost(stack, run_stack(stack).resources)
            costs.append(dataclasses.replace(cost, one_more=one_more_project(cost)))
        except Exception as error:  # a broken stack is reported, the others still priced
            failures.append(f"stack {stack}: failed: {error}")
    if args.json:
        print(json.dumps({c.stack: c.to_json() for c in costs} | {"asOf": price_table()["as_of"]}, indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(costs))
    for failure in failures:
        print(failure, file=sys.stderr)
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
