"""offline/plan.py: `make plan` prints the tree, the graph or the placeholders, the same bytes every run."""

from __future__ import annotations

import pytest

from offline.plan import main as plan_main


def test_plan_is_byte_stable_from_run_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for _ in range(2):
        assert plan_main(["--stack", "prod"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]


def test_plan_graph_is_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main(["--stack", "dev", "--graph"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("graph LR\n")
    assert "s3.Bucket<br/>data" in printed


def test_plan_names_each_placeholder_still_in_prod(capsys: pytest.CaptureFixture[str]) -> None:
    # A deploy with the sample project fails at Google's API, and one with a documentation range
    # builds a control plane that nobody's machine can reach: make plan says so before that.
    assert plan_main(["--stack", "prod"]) == 0
    out = capsys.readouterr().out
    block = out.split("Still to replace before a real deploy:\n", 1)[1].splitlines()
    assert block == [
        "  mlops:gke.project: mlops-prod-123456  (the sample project id: use your Google Cloud project's id)",
        "  mlops:gke.authorizedNetworks[0]: 203.0.113.0/24  (a documentation range (RFC 5737) that no real network uses: use your own CIDRs)",
        "  mlops:monitoring.notify.emails[0]: ml-oncall@example.com  (an example address (RFC 2606) that reaches nobody: use your on-call address)",
    ]


def test_plan_lists_no_placeholder_for_dev(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main(["--stack", "dev"]) == 0
    assert "Still to replace" not in capsys.readouterr().out
