"""`make cost` as text: each stack's idle cost by resource and by project, one training run's cost,
its budget against a month's estimate, what one more served project adds, and money as a reader writes it."""

from __future__ import annotations

from collections.abc import Sequence

from offline.cost_by_project import OneMoreProject, ProjectCost
from offline.cost_pipeline import PipelineCost
from offline.prices import price_table
from offline.stack_cost import StackCost
from offline.training_cost import CrossCloudEgress, TrainingRun


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


def _run_cost(run: TrainingRun) -> str:
    upper = f" (upper bound {money(run.upper)})" if run.upper_hours is not None else ""
    return f"{money(run.typical)}{upper}"


def _project_line(project: ProjectCost) -> str:
    """One project's idle share (its nodes, its own billed resources) and one run of its training."""
    parts = []
    if project.nodes is not None:
        nodes = project.nodes
        parts.append(f"{nodes.count} x {nodes.machine} serving node(s) {money(nodes.monthly)} (disks and Cloud NAT VM fee included)")
    own = [r for r in project.resources if r.monthly]
    if own:
        parts.append(" + ".join(f"{r.name} {money(r.monthly)}" for r in own))
    if not parts:
        parts.append("nothing billed while idle")
    runs = ", ".join(_run_cost(run) for run in project.training) or "no compute of its own (CPU on the cluster, or no training)"
    return f"  {money(project.idle_monthly):>10}  {project.project}: {'; '.join(parts)}; one training run {runs}"


def pipeline_line(pipeline: PipelineCost) -> str:
    """What the pipeline holds while idle: its always-on pods' nodes, its own billed resources."""
    parts = []
    if pipeline.nodes is not None:
        nodes = pipeline.nodes
        parts.append(
            f"{nodes.count} x {nodes.machine} node(s) {money(nodes.monthly)} for its always-on pods "
            f"({pipeline.millicores}m CPU: scheduler, api-server, dag-processor; disks and Cloud NAT VM fee included)"
        )
    elif any(r.kind == "auto-mode-nodes" for r in pipeline.resources):
        parts.append(f"its always-on pods ({pipeline.millicores}m CPU) on an Auto Mode node of their own, in its release's price")
    else:
        parts.append(
            f"its always-on pods ({pipeline.millicores}m CPU) and its database's volume are the bill of the cluster you bring"
        )
    own = [r for r in pipeline.resources if r.monthly]
    if own:
        parts.append(" + ".join(f"{r.name} {money(r.monthly)}" for r in own))
    return f"  {money(pipeline.idle_monthly):>10}  pipeline (Airflow): {'; '.join(parts)}"


def one_more_line(one_more: OneMoreProject) -> str:
    """What a copy of the first served project would add while idle, with its serving settings."""
    serve = one_more.serve
    settings = ", ".join(f"{key} {serve[key]}" for key in ("cpu", "memory", "minReplicas") if key in serve)
    billed_nodes = one_more.share.nodes or any(r.kind == "auto-mode-nodes" for r in one_more.share.resources)
    where = "" if billed_nodes else " (it serves on the kubeconfig cluster, which the stack does not bill)"
    return f"  one more served project like {one_more.like} ({settings}) adds {money(one_more.monthly)}/month while idle{where}"


def budget_line(cost: StackCost) -> str:
    """The stack's budget against a month's estimate: idle, plus the busiest month's scheduled runs."""
    estimate = cost.month_estimate
    runs = f"{cost.scheduled_runs} scheduled training runs {money(cost.scheduled_monthly)}"
    figure = f"a month's estimate {money(estimate)} (idle {money(cost.idle_monthly)} + {runs}, the busiest month's)"
    if cost.budget_monthly is None:
        return f"  no budget: monitoring.budget.monthlyUsd is unset; set it to at least {figure}"
    line = f"  budget: {money(cost.budget_monthly)}/month (monitoring.budget.monthlyUsd); {figure}"
    if estimate is not None and cost.budget_monthly < estimate:
        line += "; below the estimate, so its forecast alert fires every month: raise monthlyUsd to at least the estimate"
    return line


def project_lines(cost: StackCost) -> list[str]:
    """The idle total split by project (label, tag, job definition name), the pipeline, and the shared rest."""
    if not cost.projects:
        return []
    lines = ["  by project (mlops/project label, ml-project tag, job definition name):"]
    lines += [_project_line(project) for project in cost.projects]
    if cost.pipeline is not None:
        lines.append(pipeline_line(cost.pipeline))
    lines.append(f"  {money(cost.shared_monthly):>10}  shared: {', '.join(f'{name} {money(usd)}' for name, usd in cost.shared) or 'nothing billed while idle'}")
    if cost.one_more is not None:
        lines.append(one_more_line(cost.one_more))
    return lines


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
        lines.append(budget_line(cost))
        lines += project_lines(cost)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
