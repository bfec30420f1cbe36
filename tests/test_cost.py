"""offline/cost.py: `make cost` prints every stack, its projects and what one more would add."""

from __future__ import annotations

import json

import pytest

from offline import cost as cost_module
from offline.cost import main as cost_main
from offline.engine import stack_config
from tests.support import IRIS_ALERTS


def test_make_cost_prints_every_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main([]) == 0
    printed = capsys.readouterr().out
    assert "Stack dev: $" in printed and "Stack prod: $" in printed
    assert "price table of " in printed


def test_make_cost_prints_prod_by_project_and_one_more(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main(["--stack", "prod"]) == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("  by project (mlops/project label, ml-project tag, job definition name):")
    assert lines[start + 1:] == [
        "     $140.12  iris: 2 x e2-standard-2 serving node(s) $109.87 (disks and Cloud NAT VM fee included); "
        + " + ".join(f"monitoring-iris-{alert} $1.50" for alert in IRIS_ALERTS)
        + " + serving-iris-service $18.25; one training run $0.71 (upper bound $4.77)",
        "     $105.95  pipeline (Airflow): 1 x e2-standard-2 node(s) $54.94 for its always-on pods (1350m CPU: scheduler, "
        "api-server, dag-processor; disks and Cloud NAT VM fee included); airflow-database-instance $51.01",
        "      $79.65  shared: gke-nat $3.65, gke $73.00, notifications-key $1.00, data-backup-key $1.00, data-key $1.00",
        "  one more served project like iris (cpu 1, memory 1Gi, minReplicas 2) adds $140.12/month while idle",
    ]


def test_make_cost_json_carries_the_projects_and_one_more(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main(["--stack", "prod", "--json"]) == 0
    prod = json.loads(capsys.readouterr().out)["prod"]
    assert (prod["projects"]["iris"]["idleMonthlyUsd"], prod["sharedIdleMonthlyUsd"]) == (140.12, 79.65)
    assert prod["projects"]["iris"]["servingNodes"] == {"count": 2, "machineType": "e2-standard-2", "monthlyUsd": 109.87}
    assert (prod["oneMoreServedProject"]["like"], prod["oneMoreServedProject"]["idleMonthlyUsd"]) == ("iris", 140.12)
    assert prod["pipeline"]["nodes"] == {"count": 1, "machineType": "e2-standard-2", "monthlyUsd": 54.94}
    assert (prod["pipeline"]["idleMonthlyUsd"], prod["pipeline"]["alwaysOnMillicores"]) == (105.95, 1350)


def test_make_cost_prints_each_stacks_budget_against_its_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main(["--stack", "dev"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  budget: ")]
    assert line == ("  budget: $10.00/month (monitoring.budget.monthlyUsd); a month's estimate $8.71 "
                    "(idle $3.00 + 31 scheduled training runs $5.71, the busiest month's)")


def test_make_cost_json_carries_the_budget_and_the_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main(["--stack", "dev", "--json"]) == 0
    dev = json.loads(capsys.readouterr().out)["dev"]
    assert dev["budget"] == {"monthlyUsd": 10.0, "monthEstimateUsd": 8.71, "scheduledRunsPerMonth": 31, "scheduledRunsUsd": 5.71}
    assert dev["projects"]["iris"]["scheduledRunsPerMonth"] == 31


def test_a_stack_without_a_budget_is_priced_and_told_the_figure_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The config error for a missing monthlyUsd sends the user to `make cost`: it must still run.
    def without_budget(stack: str) -> dict[str, str]:
        config = stack_config(stack)
        monitoring = json.loads(config["mlops:monitoring"])
        del monitoring["budget"]["monthlyUsd"]
        return {**config, "mlops:monitoring": json.dumps(monitoring)}

    monkeypatch.setattr(cost_module, "stack_config", without_budget)
    assert cost_main(["--stack", "dev"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "budget" in line]
    assert line == ("  no budget: monitoring.budget.monthlyUsd is unset; set it to at least a month's estimate $8.71 "
                    "(idle $3.00 + 31 scheduled training runs $5.71, the busiest month's)")


def test_a_stack_with_another_config_problem_still_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cost_module, "stack_config", lambda stack: {**stack_config(stack), "mlops:environment": "staging"})
    assert cost_main(["--stack", "dev"]) == 2
    assert "stack dev: failed: " in capsys.readouterr().err
