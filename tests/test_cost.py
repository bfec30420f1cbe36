"""offline/cost.py: `make cost` prints every stack, its projects and what one more would add."""

from __future__ import annotations

import json

import pytest

from offline.cost import main as cost_main


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
        "     $128.12  iris: 2 x e2-standard-2 serving node(s) $109.87 (disks and Cloud NAT VM fee included); "
        "serving-iris-service $18.25; one training run $0.71 (upper bound $4.77)",
        "      $79.65  shared: gke-nat $3.65, gke $73.00, notifications-key $1.00, data-backup-key $1.00, data-key $1.00",
        "  one more served project like iris (cpu 1, memory 1Gi, minReplicas 2) adds $128.13/month while idle",
    ]


def test_make_cost_json_carries_the_projects_and_one_more(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main(["--stack", "prod", "--json"]) == 0
    prod = json.loads(capsys.readouterr().out)["prod"]
    assert (prod["projects"]["iris"]["idleMonthlyUsd"], prod["sharedIdleMonthlyUsd"]) == (128.12, 79.65)
    assert prod["projects"]["iris"]["servingNodes"] == {"count": 2, "machineType": "e2-standard-2", "monthlyUsd": 109.87}
    assert (prod["oneMoreServedProject"]["like"], prod["oneMoreServedProject"]["idleMonthlyUsd"]) == ("iris", 128.13)
