"""Types shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

from offline.engine import Recording

RunWith = Callable[..., Recording]
"""The `run_with` fixture: `run_with("prod", **{"mlops:serving": {"minReplicas": 1}})`."""
