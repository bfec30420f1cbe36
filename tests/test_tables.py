"""offline/tables.py: each kept table is its JSON file, read once."""

from __future__ import annotations

import json

from offline.engine import ROOT
from offline.tables import data_table


def test_a_table_is_its_json_file_parsed() -> None:
    for name in ("prices", "replacements"):
        assert data_table(name) == json.loads((ROOT / "offline" / "data" / f"{name}.json").read_text())


def test_a_table_is_read_once_and_shared() -> None:
    # Every price and every resource's diff reads the table; one parse serves the whole run.
    assert data_table("prices") is data_table("prices")
