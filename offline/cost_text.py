"""`make cost` as text: each stack's idle cost by resource, one training run's cost, and money as a reader writes it."""

from __future__ import annotations

from collections.abc import Sequence

from offline.prices import price_table
from offline.stack_cost import StackCost
from offline.training_cost import CrossCloudEgress


def egress_line(egress: CrossCloudEgress) -> str:
    """One line: the cost per GB a training run reads across clouds, and what bills it."""
    parts = " + ".join(f"{what} ${usd}/GB" for what, usd in egress.parts)
    return (f"cross-cloud data: each GB a training run reads from S3 costs ${egress.per_gb:g} ({parts}); "
            "the stack does not know the data set's size, so multiply by the GB each run reads")


def money(value: float | None) -> str:
    """$1,234.50; a saving as -$32.85 (the sign before the currency, as a reader writes it)."""
    if value is None:
        return "UNPRICED"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def render_text(costs: Sequence[StackCost]) -> str:
    table = price_table()
    lines = [
        f"Idle monthly cost per stack: list prices, {table['region']}, {table['hours_per_month']} h/month, "
        f"price table of {table['as_of']} (offline/data/prices.json)",
        "",
    ]
    for cost in costs:
        lines.append(f"Stack {cost.stack}: {money(cost.idle_monthly)}/month while idle")
        for resource in cost.resources:
            if resource.kind not in ("usage", "free"):
                lines.append(f"  {money(resource.monthly):>10}  {resource.type}  {resource.name}  ({resource.note})")
        usage = sorted({r.type for r in cost.resources if r.kind == "usage"})
        if usage:
            lines.append(f"  {'$0.00':>10}  usage-priced, $0 while idle: {', '.join(usage)}")
        free = len([r for r in cost.resources if r.kind == "free"])
        lines.append(f"  {'$0.00':>10}  {free} free resources (IAM, network plumbing, bucket settings, providers)")
        for unpriced in cost.unpriced:
            lines.append(f"  UNPRICED: {unpriced.type}  {unpriced.name}: not counted in the total above")
        for run in cost.training:
            market = "spot estimate" if run.spot else "on-demand"
            upper = (
                f"; upper bound {money(run.upper)} ({run.upper_hours:g} h, every attempt at its deadline)"
                if run.upper_hours is not None
                else "; no timeout is configured, so no upper bound"
            )
            lines.append(
                f"  one training run: {money(run.typical)} ({run.instance_type} {market}, "
                f"typical {run.typical_hours:g} h{upper}); {run.note}"
            )
        if not cost.training:
            lines.append("  one training run: no priced training compute in this stack")
        if cost.egress is not None:
            lines.append(f"  {egress_line(cost.egress)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
