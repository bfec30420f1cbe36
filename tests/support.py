"""Types shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offline.engine import Recording

RunWith = Callable[..., Recording]
"""The `run_with` fixture: `run_with("prod", **{"mlops:serving": {"minReplicas": 1}})`."""

PROD_ON_AWS: dict[str, Any] = {
    "mlops:compute": {"kind": "ec2"},
    "mlops:registry": {"kind": "ecr"},
    "mlops:serving": {"cluster": "kubeconfig"},
}
"""prod as it ran before it moved to GKE: `run_with("prod", **PROD_ON_AWS)`."""
