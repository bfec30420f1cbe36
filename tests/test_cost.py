"""offline/cost.py: `make cost` prints every stack."""

from __future__ import annotations

import pytest

from offline.cost import main as cost_main


def test_make_cost_prints_every_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main([]) == 0
    printed = capsys.readouterr().out
    assert "Stack dev: $" in printed and "Stack prod: $" in printed
    assert "price table of " in printed
