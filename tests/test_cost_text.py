"""offline/cost_text.py: the text of `make cost`, and money as a reader writes it."""

from __future__ import annotations

from offline.cost_by_project import OneMoreProject, ProjectCost, ServingNodes
from offline.cost_text import budget_line, money, project_lines, render_text
from offline.prices import ResourceCost, price_table
from offline.stack_cost import StackCost
from offline.training_cost import TrainingRun


def test_money_shows_cents_with_thousands_a_saving_and_unpriced() -> None:
    assert (money(1234.5), money(0.0), money(-32.85), money(None)) == ("$1,234.50", "$0.00", "-$32.85", "UNPRICED")


def test_the_text_report_lists_billed_resources_and_summarises_the_rest() -> None:
    run = TrainingRun("ce", "g4dn.xlarge", False, 0.526, 1.0, None, "n")
    spot_run = TrainingRun("gpu", "g2-standard-4", True, 0.25, 1.0, 2.5, "m")
    cost = StackCost("s", [
        ResourceCost("u1", "aws:kms/key:Key", "key", "monthly", 1.0, ""),
        ResourceCost("u2", "aws:s3/bucket:Bucket", "data", "usage", 0.0, ""),
        ResourceCost("u3", "aws:iam/role:Role", "role", "free", 0.0, ""),
        ResourceCost("u4", "aws:sqs/queue:Queue", "q", "unpriced", None, "UNPRICED: x"),
    ], [run, spot_run])
    lines = render_text([cost, StackCost("empty", [], [])]).splitlines()
    assert lines[2:] == [
        "Stack s: $1.00/month while idle",
        "       $1.00  aws:kms/key:Key  key  ()",
        "    UNPRICED  aws:sqs/queue:Queue  q  (UNPRICED: x)",
        "       $0.00  usage-priced, $0 while idle: aws:s3/bucket:Bucket",
        "       $0.00  1 free resources (IAM, network plumbing, bucket settings, providers)",
        "  UNPRICED: aws:sqs/queue:Queue  q: not counted in the total above",
        "  one training run: $0.53 (g4dn.xlarge on-demand, typical 1 h; no timeout is configured, so no upper bound); n",
        "  one training run: $0.25 (g2-standard-4 spot estimate, typical 1 h; upper bound $0.62 (2.5 h, every attempt at its deadline)); m",
        "  no budget: monitoring.budget.monthlyUsd is unset; set it to at least a month's estimate $1.00 "
        "(idle $1.00 + 0 scheduled training runs $0.00, the busiest month's)",
        "",
        "Stack empty: $0.00/month while idle",
        "       $0.00  0 free resources (IAM, network plumbing, bucket settings, providers)",
        "  one training run: no priced training compute in this stack",
        "  no budget: monitoring.budget.monthlyUsd is unset; set it to at least a month's estimate $0.00 "
        "(idle $0.00 + 0 scheduled training runs $0.00, the busiest month's)",
    ]
    assert lines[0] == ("Idle monthly cost per stack: list prices, us-east-1, 730 h/month, price table of "
                        f"{price_table()['as_of']} (offline/data/prices.json)")


def test_the_project_lines_split_the_total_and_name_what_one_more_adds() -> None:
    lb = ResourceCost("u1", "kubernetes:core/v1:Service", "a-service", "hourly", 18.25, "")
    run = TrainingRun("gpu", "g2-standard-4", False, 0.7, 1.0, 3.0, "m")
    a = ProjectCost("a", [lb], ServingNodes(2, "e2-standard-2", 109.87), [run])
    b = ProjectCost("b", [], None, [])
    one_more = OneMoreProject("a", {"cpu": "250m", "memory": "256Mi", "minReplicas": 2, "gpus": 0}, 73.19, a)
    pool = ResourceCost("u3", "gcp:container/nodePool:NodePool", "gke-cpu", "node-pool", 109.87, "")
    cluster = ResourceCost("u2", "gcp:container/cluster:Cluster", "gke", "hourly", 73.0, "")
    cost = StackCost("s", [lb, cluster, pool], [], projects=[a, b], shared=[("gke", 73.0)], one_more=one_more)
    assert project_lines(cost) == [
        "  by project (mlops/project label, ml-project tag, job definition name):",
        "     $128.12  a: 2 x e2-standard-2 serving node(s) $109.87 (disks and Cloud NAT VM fee included); "
        "a-service $18.25; one training run $0.70 (upper bound $2.10)",
        "       $0.00  b: nothing billed while idle; one training run no compute of its own (CPU on the cluster, or no training)",
        "      $73.00  shared: gke $73.00",
        "  one more served project like a (cpu 250m, memory 256Mi, minReplicas 2) adds $73.19/month while idle",
    ]


def test_one_more_project_on_a_kubeconfig_cluster_says_the_stack_does_not_bill_its_pods() -> None:
    share = ProjectCost("one-more", [], None, [])
    cost = StackCost("dev", [], [], projects=[share], one_more=OneMoreProject("iris", {"cpu": 1}, 0.0, share))
    assert project_lines(cost)[-1] == ("  one more served project like iris (cpu 1) adds $0.00/month while idle "
                                       "(it serves on the kubeconfig cluster, which the stack does not bill)")


def test_a_stack_without_projects_has_no_project_lines() -> None:
    assert project_lines(StackCost("s", [], [])) == []


def budgeted(budget: float | None, *, runs: int = 31, typical: float | None = 0.2) -> StackCost:
    """A stack idling at $2.00 whose one project runs `runs` times in its busiest month."""
    run = TrainingRun("ce", "g4dn.xlarge", True, typical, 1.0, None, "n")
    project = ProjectCost("iris", [], None, [run], runs_per_month=runs)
    return StackCost("s", [ResourceCost("u1", "aws:kms/key:Key", "key", "monthly", 2.0, "")], [run], projects=[project],
                     budget_monthly=budget)


def test_the_budget_line_sets_the_budget_against_idle_plus_the_busiest_months_runs() -> None:
    assert budget_line(budgeted(10.0)) == (
        "  budget: $10.00/month (monitoring.budget.monthlyUsd); a month's estimate $8.20 "
        "(idle $2.00 + 31 scheduled training runs $6.20, the busiest month's)"
    )


def test_a_budget_below_the_estimate_is_told_to_rise() -> None:
    # Its forecast passes 100% every month: an alert that always fires is one nobody reads.
    assert budget_line(budgeted(8.0)) == (
        "  budget: $8.00/month (monitoring.budget.monthlyUsd); a month's estimate $8.20 "
        "(idle $2.00 + 31 scheduled training runs $6.20, the busiest month's); below the estimate, so its "
        "forecast alert fires every month: raise monthlyUsd to at least the estimate"
    )


def test_an_unpriced_run_leaves_the_estimate_unpriced_rather_than_low() -> None:
    assert budget_line(budgeted(10.0, typical=None)) == (
        "  budget: $10.00/month (monitoring.budget.monthlyUsd); a month's estimate UNPRICED "
        "(idle $2.00 + 31 scheduled training runs UNPRICED, the busiest month's)"
    )
