"""evaluate's decision: promote the new version, or keep the served one and say why.

The trainer scores the baseline (the version LATEST named when train started) on this run's
held-out rows and records it in metadata.json as `baseline`. The new version is promoted when
it passed its gate, and either nothing is served yet or its accuracy is at least the
baseline's plus `pipeline.promoteMargin`. A baseline the trainer could not score (its model
no longer loads with this image's libraries, say) is compared by the accuracy it recorded
when it was made, and the decision says so. A reproduce run is never promoted: it reports
whether it matches the version it reproduces.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Decision:
    promote: bool
    version: str
    accuracy: float
    baseline: str | None
    baseline_accuracy: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(metadata: dict[str, Any], *, margin: float, baseline_recorded: dict[str, Any] | None) -> Decision:
    """`baseline_recorded`: the baseline version's own metadata.json, read only where its score is an error."""
    version, accuracy = metadata["version"], float(metadata["metrics"]["accuracy"])
    baseline = metadata.get("baseline")
    if metadata.get("reproduces"):
        return reproduction(metadata, baseline_recorded)
    if not metadata["gate"]["passed"]:
        minimum = metadata["gate"]["min_accuracy"]
        base = baseline["version"] if baseline else None
        base_accuracy = _score(baseline, baseline_recorded)
        return Decision(False, version, accuracy, base, base_accuracy, f"accuracy {accuracy:.4f} is below the gate ({minimum})")
    if not baseline:
        return Decision(True, version, accuracy, None, None, f"accuracy {accuracy:.4f} passes the gate and no version is served yet")
    base_accuracy = _score(baseline, baseline_recorded)
    how = "on this run's held-out data"
    if "error" in baseline:
        how = f"as recorded when it was made (it could not be scored on this run's held-out data: {baseline['error']})"
    if base_accuracy is None:
        reason = f"the served version {baseline['version']} has no accuracy to compare with"
        return Decision(False, version, accuracy, baseline["version"], None, reason)
    needed = base_accuracy + margin
    verdict = ">=" if accuracy >= needed else "<"
    reason = (
        f"accuracy {accuracy:.4f} {verdict} {needed:.4f}: the served version {baseline['version']} scores "
        f"{base_accuracy:.4f} {how}, plus the margin {margin}"
    )
    return Decision(accuracy >= needed, version, accuracy, baseline["version"], base_accuracy, reason)


def _score(baseline: dict[str, Any] | None, recorded: dict[str, Any] | None) -> float | None:
    if not baseline:
        return None
    if "metrics" in baseline:
        return float(baseline["metrics"]["accuracy"])
    return float(recorded["metrics"]["accuracy"]) if recorded else None


def reproduction(metadata: dict[str, Any], original: dict[str, Any] | None) -> Decision:
    """Matches: the same metrics as the original recorded, on the same held-out rows (same seed, same data)."""
    version, accuracy, of = metadata["version"], float(metadata["metrics"]["accuracy"]), metadata["reproduces"]
    now, then = metadata["metrics"], (original or {}).get("metrics", {})
    differ = [f"{name}: {then.get(name)} -> {value}" for name, value in sorted(now.items()) if then.get(name) != value]
    verdict = "matches" if not differ else f"does NOT match ({', '.join(differ)})"
    original_accuracy = float(then["accuracy"]) if "accuracy" in then else None
    return Decision(False, version, accuracy, of, original_accuracy, f"reproduces {of}: {verdict}; a reproduction is never promoted")
