"""offline/cost_one_more.py: what one more served project, a copy of the first, adds to the idle total."""

from __future__ import annotations

import pytest

from offline.cost_one_more import ONE_MORE, one_more_project
from offline.engine import Recording, run_program, stack_config_with
from offline.stack_cost import stack_cost
from tests.support import SCHEDULED


def test_one_more_project_like_iris_adds_its_nodes_and_load_balancer_in_prod(prod: Recording) -> None:
    one_more = one_more_project(stack_cost("prod", prod.resources))
    assert one_more is not None and one_more.share.nodes is not None
    assert (one_more.like, one_more.serve["cpu"], one_more.serve["minReplicas"]) == ("iris", 1, 2)
    # Measured on the totals, which the NAT's cents round the same way with 5 VMs as with 3.
    assert (one_more.monthly, one_more.share.idle_monthly) == (140.12, 140.12)
    assert (one_more.share.project, one_more.share.nodes.count) == (ONE_MORE, 2)


def test_a_small_served_project_adds_one_node_in_prod() -> None:
    small = {"iris": {"serve": {"cpu": "250m", "memory": "256Mi"}}}
    config = stack_config_with("prod", {"mlops:projects": small})
    one_more = one_more_project(stack_cost("prod", run_program("prod", config).resources), config)
    assert one_more is not None and one_more.share.nodes is not None
    assert (one_more.monthly, one_more.share.nodes.count) == (85.19, 1)


@pytest.mark.parametrize(("stack", "alarm"), [("dev", 0.0), ("dev_scheduled", 0.1)])
def test_one_more_project_adds_at_most_its_dead_letter_alarm_idle_in_dev(
    request: pytest.FixtureRequest, stack: str, alarm: float
) -> None:
    cost = stack_cost("dev", request.getfixturevalue(stack).resources)
    one_more = one_more_project(cost, stack_config_with("dev", SCHEDULED if stack == "dev_scheduled" else {}))
    assert one_more is not None
    assert (one_more.like, one_more.monthly, one_more.share.nodes) == ("iris", alarm, None)


def test_a_stack_that_serves_nothing_has_no_one_more_line() -> None:
    config = stack_config_with("dev", {"mlops:projects": {"iris": {"serve": None}}})
    assert one_more_project(stack_cost("dev", run_program("dev", config).resources), config) is None
