"""The review as Markdown, for humans and the PR comment (OUT/report.md).

The summary and the danger list are always printed in full; the per-resource detail sits
in collapsible sections and is the only part that is truncated, to keep a PR comment
under GitHub's 65,536 characters.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from offline.changes import ACTIONS, ResourceChange
from offline.cost_text import egress_line, money
from offline.diff import HONESTY, StackDiff
from offline.git_base import Base
from offline.prices import price_table
from offline.stack_cost import StackCost
from offline.values import show

DETAIL_BUDGET = 45_000  # characters of collapsible detail; the rest of the comment is summary
PROPERTY_LINES = 25  # changed inputs shown per resource
VALUE_CHARS = 160


def _value(value: Any) -> str:
    text = show(value)
    text = text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
    return "`" + text.replace("`", "'") + "`"


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value


def _line_diff(old: Any, new: Any) -> list[str]:
    """The changed lines of a script or document (user data, say), as a capped unified diff."""
    a = old.splitlines() if isinstance(old, str) else [show(old)]
    b = new.splitlines() if isinstance(new, str) else [show(new)]
    changed = [line for line in difflib.unified_diff(a, b, lineterm="", n=0) if not line.startswith(("---", "+++", "@@"))]
    shown = [f"    {line[:VALUE_CHARS]}" for line in changed[:PROPERTY_LINES]]
    if len(changed) > PROPERTY_LINES:
        shown.append(f"    … {len(changed) - PROPERTY_LINES} more changed lines")
    return shown


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


_SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def _status(diff: StackDiff) -> str:
    if diff.status == "failed":
        return "; ".join(f"failed at {'BASE' if side == 'base' else 'HEAD'}: {error}" for side, error in sorted(diff.errors.items()))
    return {"ok": "compared", "added": "new stack (all create)", "removed": "stack file removed (all delete)"}[diff.status]


def _cost_cell(diff: StackDiff) -> str:
    if diff.status == "failed":
        return "n/a"
    base = diff.cost_base.idle_monthly if diff.cost_base else 0.0
    head = diff.cost_head.idle_monthly if diff.cost_head else 0.0
    delta = diff.idle_delta or 0.0
    unpriced = any(c and c.unpriced for c in (diff.cost_base, diff.cost_head))
    return f"{money(base)} → {money(head)} ({'+' if delta >= 0 else '-'}{money(abs(delta))})" + (" + UNPRICED" if unpriced else "")


def render_markdown(diffs: Sequence[StackDiff], base: Base, found_labels: Sequence[str]) -> str:
    table = price_table()
    lines = [
        f"## Infrastructure review: `{base.commit[:12]}` → working tree",
        "",
        f"Base: {base.how} (`{base.commit[:12]}`). Prices: list prices, {table['region']}, "
        f"{table['hours_per_month']} h/month, price table of {table['as_of']}.",
        "",
        f"> {HONESTY}",
        "",
        "**Labels:** " + (", ".join(f"`{label}`" for label in found_labels) or "none"),
        "",
        *_summary(diffs),
        *_danger(diffs),
    ]
    budget = DETAIL_BUDGET
    for d in diffs:
        if not d.changed and not d.policy:
            continue
        section = _stack_detail(d, budget)
        budget -= len(section)
        lines.append(section)
    unchanged = [d.stack for d in diffs if not d.changed]
    if unchanged:
        lines += [f"No change in: {', '.join(f'`{s}`' for s in unchanged)}.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _summary(diffs: Sequence[StackDiff]) -> list[str]:
    """One table row per stack: its counts by action, its idle cost base → head, its status."""
    lines = [
        "### Summary",
        "",
        "| stack | env | create | update | replace | delete | idle cost / month (base → head) | status |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for d in diffs:
        counts = d.counts if d.status != "failed" else {a: "–" for a in ACTIONS}
        lines.append(
            f"| `{d.stack}` | {d.environment or '?'} | " + " | ".join(str(counts[a]) for a in ACTIONS)
            + f" | {_cost_cell(d)} | {_status(d)} |"
        )
    return lines


def _danger(diffs: Sequence[StackDiff]) -> list[str]:
    """Every stack's danger, in its order, then each stack that failed to render; never truncated."""
    lines = ["", "### Danger", ""]
    dangers = [(d, x) for d in diffs for x in d.danger]
    if not dangers:
        lines.append("Nothing dangerous: no exposure to the internet, deletes, replacements, URN or protection changes.")
    for d, x in dangers:
        where = f"**{d.stack}**" + (" (prod)" if d.is_prod else "")
        lines.append(f"- {where} · {x.kind} · `{x.type}` **{x.name}** {x.message}")
    failed = [d for d in diffs if d.status == "failed"]
    for d in failed:
        lines.append(f"- **{d.stack}** · {_status(d)}")
    lines.append("")
    return lines


def _change_lines(c: ResourceChange) -> list[str]:
    flag = " [protected]" if c.protected else ""
    lines = [f"- `{_SYMBOL[c.action]}` **{c.action}** `{c.type}` **{c.name}**{flag}"]
    if c.old_urn:
        lines.append(f"  - moved under an alias from `{c.old_urn}`")
    for reason in c.reasons:
        lines.append(f"  - replaces: {reason}")
    for option in c.options:
        lines.append(f"  - option {option}")
    shown = c.properties if c.action != "create" else []
    for p in shown[:PROPERTY_LINES]:
        if p.secret:
            lines.append(f"  - `{p.path}`: changed (secret, value not shown)")
        elif _multiline(p.old) or _multiline(p.new):
            lines += [f"  - `{p.path}` (changed lines):", "", "    ```diff", *_line_diff(p.old, p.new), "    ```", ""]
        else:
            lines.append(f"  - `{p.path}`: {_value(p.old)} → {_value(p.new)}")
    if len(shown) > PROPERTY_LINES:
        lines.append(f"  - … {len(shown) - PROPERTY_LINES} more changed inputs in report.json")
    return lines


def _stack_detail(d: StackDiff, budget: int) -> str:
    """The stack's collapsible detail, cut at `budget` characters: resources first, then cost, policy, graph."""
    lines = [f"### Stack `{d.stack}`", ""]
    used = 0
    if d.changes:
        lines += [f"<details><summary>{_plural(len(d.changes), 'resource change')}</summary>", ""]
        for index, c in enumerate(d.changes):
            block = _change_lines(c)
            size = sum(len(line) + 1 for line in block)
            if used + size > budget:
                lines.append(f"- … {len(d.changes) - index} more changes left out to keep this comment short; see report.json")
                break
            used += size
            lines += block
        lines += ["", "</details>", ""]
    lines += _extras(d, budget - used)
    return "\n".join(lines)


def _run_text(run: dict[str, Any] | None) -> str:
    if run is None:
        return "none"
    market = "spot estimate" if run["spot"] else "on-demand"
    upper = f", upper bound {money(run['upperBoundUsd'])}" if run["upperBoundHours"] is not None else ", no upper bound"
    return f"{run['instanceType']} {market} {money(run['typicalUsd'])} typical ({run['typicalHours']:g} h){upper}"


def _egress_text(cost: StackCost | None) -> str:
    return "none (data and compute in one cloud)" if cost is None or cost.egress is None else egress_line(cost.egress)


def training_lines(d: StackDiff) -> list[str]:
    """One training run's cost, BASE → HEAD, per training backend; and the cross-cloud data cost. Only what changed."""
    base = {r["resource"]: r for r in (d.cost_base.to_json()["trainingRuns"] if d.cost_base else [])}
    head = {r["resource"]: r for r in (d.cost_head.to_json()["trainingRuns"] if d.cost_head else [])}
    lines = [f"- one training run on `{name}`: {_run_text(base.get(name))} → {_run_text(head.get(name))}"
             for name in sorted(set(base) | set(head)) if base.get(name) != head.get(name)]
    if _egress_text(d.cost_base) != _egress_text(d.cost_head):
        lines.append(f"- {_egress_text(d.cost_base)} → {_egress_text(d.cost_head)}")
    return ["Training run cost (base → head):", "", *lines, ""] if lines else []


def _extras(d: StackDiff, budget: int) -> list[str]:
    lines: list[str] = training_lines(d)
    rows = d.cost_rows()
    if rows:
        lines += [f"<details><summary>Cost: idle {_cost_cell(d)} a month</summary>", "",
                  "| resource | base | head | delta |", "| --- | ---: | ---: | ---: |"]
        for row in rows:
            lines.append(f"| `{row['type']}` {row['name']} | {money(row['baseMonthlyUsd']) if row['baseMonthlyUsd'] is not None else '–'}"
                         f" | {money(row['headMonthlyUsd']) if row['headMonthlyUsd'] is not None else '–'}"
                         f" | {money(row['deltaMonthlyUsd']) if row['deltaMonthlyUsd'] is not None else 'UNPRICED'} |")
        lines += ["", "</details>", ""]
    if d.cost_head and d.cost_head.unpriced:
        lines += ["UNPRICED (not counted): " + ", ".join(sorted({f"`{r.type}`" for r in d.cost_head.unpriced})), ""]
    if d.policy is not None:
        lines += ["Policy: " + ("no violations." if not d.policy else f"{len(d.policy)} violation(s)"), ""]
        for v in sorted(d.policy, key=lambda v: (v.severity != "mandatory", v.rule, v.urn)):
            lines.append(f"- **{v.severity}** `{v.rule}` `{v.urn.rsplit('::', 1)[-1]}`: {v.message}")
        if d.policy:
            lines.append("")
    if d.graph and len(d.graph) < budget - sum(len(line) + 1 for line in lines):
        lines += ["<details><summary>Graph of the changed resources and one hop around them</summary>", "",
                  "```mermaid", d.graph, "```", "", "</details>", ""]
    elif d.graph:
        lines += ["Graph left out to keep this comment short; see report.json.", ""]
    return lines
