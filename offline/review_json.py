"""The review as JSON, for tools (OUT/report.json): counts, danger, changes, cost, labels, policy."""

from __future__ import annotations

import json
from collections.abc import Sequence

from offline.diff import HONESTY, StackDiff
from offline.git_base import Base
from offline.prices import price_table


def render_json(diffs: Sequence[StackDiff], base: Base, found_labels: Sequence[str]) -> str:
    table = price_table()
    document = {
        "base": {"ref": base.ref, "commit": base.commit, "how": base.how},
        "head": "working tree",
        "estimate": True,
        "honesty": HONESTY,
        "priceTable": {"asOf": table["as_of"], "region": table["region"], "sources": table["sources"]},
        "labels": list(found_labels),
        "stacks": {d.stack: d.to_json() for d in diffs},
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
