"""`make diff`: the review of a change, BASE against the working tree, offline.

Every stack file is rendered at BASE (offline/git_base.py) and at the working tree, each
side in its own process with the working tree's engine (offline/sides.py), and compared
by URN (offline/diff.py). The report goes to OUT/report.md (offline/review_markdown.py:
for humans, and the PR comment) and OUT/report.json (offline/review_json.py: for tools),
and the Markdown is printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from offline.diff import StackDiff, StackRun, Violation, compare_sides, labels
from offline.engine import ROOT, Registration
from offline.git_base import Base, extract, resolve_base
from offline.review_json import render_json
from offline.review_markdown import render_markdown
from offline.sides import render_sides
from policy.rules import evaluate

PolicyEvaluator = Callable[[Sequence[Registration], str], Sequence[Violation]]
"""(resources, environment) -> violations; the lead wires policy.rules.evaluate in here."""


def build_report(
    base_runs: Mapping[str, StackRun],
    head_runs: Mapping[str, StackRun],
    base: Base,
    *,
    policy: PolicyEvaluator | None = None,
) -> tuple[str, str, list[StackDiff]]:
    """(markdown, json, diffs). `policy`, when given, is run on each stack's HEAD resources."""
    violations = None
    if policy is not None:
        violations = {
            stack: list(policy(run.resources, run.environment or ""))
            for stack, run in head_runs.items()
            if run.resources is not None
        }
    diffs = compare_sides(base_runs, head_runs, policy=violations)
    found = labels(diffs)
    return render_markdown(diffs, base, found), render_json(diffs, base, found), diffs


def main(argv: list[str] | None = None, *, policy: PolicyEvaluator | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", default="", help="git ref to compare with (default: merge base with main)")
    parser.add_argument("--out", default="build/review", help="folder for report.md and report.json")
    args = parser.parse_args(argv)
    base = resolve_base(args.base or None)
    with tempfile.TemporaryDirectory(prefix="mlops-base-") as scratch:
        base_root = extract(base.commit, Path(scratch))
        try:
            base_runs, head_runs = render_sides(base_root, ROOT)
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    markdown, document, _ = build_report(base_runs, head_runs, base, policy=policy)
    out = Path(args.out)
    if not out.is_absolute():
        out = ROOT / out
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(markdown)
    (out / "report.json").write_text(document)
    sys.stdout.write(markdown)
    print(f"\n(written to {out / 'report.md'} and {out / 'report.json'})", file=sys.stderr)
    return 0


def policy_rules(resources: Sequence[Registration], environment: str) -> list[Violation]:
    """The policy pack's rules (policy/rules.py), run offline on a stack's recorded resources."""
    return list(evaluate(resources, environment=environment))


if __name__ == "__main__":
    sys.exit(main(policy=policy_rules))
