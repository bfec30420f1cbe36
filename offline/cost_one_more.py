"""What one more served project adds to a stack's idle cost: the program run again with a copy of
the stack's first served project under another name, priced, and the two totals compared."""

from __future__ import annotations

import json

from offline.cost_by_project import OneMoreProject
from offline.engine import run_program, stack_config
from offline.stack_cost import StackCost, stack_cost

ONE_MORE = "one-more"
"""The copy's name: a DNS label no stack file uses, short enough for every derived name."""


def one_more_project(cost: StackCost, config: dict[str, str] | None = None) -> OneMoreProject | None:
    """The idle cost a copy of the first served project adds to `cost`'s stack; None if nothing is served.

    `config` is the stack's config as the program got it (default: its stack file).
    """
    config = stack_config(cost.stack) if config is None else config
    projects = json.loads(config.get("mlops:projects", "{}"))
    served = [name for name, settings in projects.items() if settings.get("serve") is not None]
    if not served:
        return None
    like = served[0]
    grown = {**config, "mlops:projects": json.dumps({**projects, ONE_MORE: projects[like]})}
    with_one_more = stack_cost(cost.stack, run_program(cost.stack, grown).resources)
    (share,) = [p for p in with_one_more.projects if p.project == ONE_MORE]
    return OneMoreProject(like, projects[like]["serve"], round(with_one_more.idle_monthly - cost.idle_monthly, 2), share)
