"""offline/cost_text.py: the text of `make cost`, and money as a reader writes it."""

from __future__ import annotations

from offline.cost_text import money, render_text
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
        "",
        "Stack empty: $0.00/month while idle",
        "       $0.00  0 free resources (IAM, network plumbing, bucket settings, providers)",
        "  one training run: no priced training compute in this stack",
    ]
    assert lines[0] == ("Idle monthly cost per stack: list prices, us-east-1, 730 h/month, price table of "
                        f"{price_table()['as_of']} (offline/data/prices.json)")
