"""The tables kept in offline/data/ (prices, inputs that force a replacement), each read once."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"


@cache
def data_table(name: str) -> dict[str, Any]:
    """offline/data/<name>.json, parsed."""
    return json.loads((DATA_DIR / f"{name}.json").read_text())
