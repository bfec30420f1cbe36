"""StackBudget: the stack's monthly budget, alerting at the month's forecast and at its actual spend.

On AWS, a COST budget over the resources that carry the stack's cost-allocation tag, which
notifies the stack's SNS topic. The tag must be activated as a cost allocation tag in Billing
(once per account, by the management account): until then the budget sees none of the stack's
spend. On a GKE stack with `monitoring.budget.gcpBillingAccount`, a Cloud Billing budget on the
stack's Google Cloud project too, which mails the billing account's administrators and users
(Cloud Billing's default recipients).

Replacements: the AWS budget's `name` (and account) are ForceNew, and so is the Google Cloud
budget's `billing_account` (hashicorp/terraform-provider-aws internal/service/budgets/budget.go,
hashicorp/terraform-provider-google google/services/billing/resource_billing_budget.go); the
amounts, thresholds and subscribers change in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components.config.monitoring import BudgetConfig

BUDGETS_API = "billingbudgets.googleapis.com"


@dataclass(frozen=True)
class CostAllocationTag:
    """The tag (key and value) every AWS resource of the stack carries, by which the budget finds its spend."""

    key: str
    value: str

    @property
    def budget_filter_value(self) -> str:
        """A Budgets `TagKeyValue` filter value: `user:` marks a user-defined tag, `$` parts key and value."""
        return f"user:{self.key}${self.value}"


@dataclass(frozen=True)
class StackBudgetArgs:
    name_prefix: str
    """The stack's name prefix (`mlops-dev`): the budgets are named after it."""
    budget: BudgetConfig
    topic_arn: pulumi.Input[str]
    """The stack's notification topic; its policy must let budgets.amazonaws.com publish."""
    cost_allocation_tag: CostAllocationTag
    gcp_project: str | None = None
    """The stack's Google Cloud project, budgeted where `budget.gcp_billing_account` is set."""


class StackBudget(pulumi.ComponentResource):
    """An AWS Budget on the stack's tagged resources and, where configured, a Cloud Billing budget on its project."""

    def __init__(self, name: str, args: StackBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        budget = args.budget
        if budget.monthly_usd is None:
            raise ValueError("a stack budget needs monitoring.budget.monthlyUsd")
        if budget.gcp_billing_account is not None and args.gcp_project is None:
            raise ValueError("a Google Cloud budget needs the stack's Google Cloud project")
        super().__init__("mlops:monitoring:StackBudget", name, None, opts)
        monthly_usd = budget.monthly_usd
        child = pulumi.ResourceOptions(parent=self)

        def alert(kind: str, percent: int) -> aws.budgets.BudgetNotificationArgs:
            return aws.budgets.BudgetNotificationArgs(
                notification_type=kind,
                comparison_operator="GREATER_THAN",
                threshold=percent,
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[args.topic_arn],
            )

        self.aws_budget = aws.budgets.Budget(
            name,
            name=f"{args.name_prefix}-monthly",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{monthly_usd:.2f}",
            limit_unit="USD",
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[args.cost_allocation_tag.budget_filter_value])
            ],
            notifications=[alert("FORECASTED", budget.forecast_percent), alert("ACTUAL", budget.actual_percent)],
            opts=child,
        )
        self.gcp_budget: gcp.billing.Budget | None = None
        if budget.gcp_billing_account is not None and args.gcp_project is not None:
            self.gcp_budget = self._google_cloud_budget(
                name, args, billing_account=budget.gcp_billing_account, project=args.gcp_project, monthly_usd=monthly_usd
            )
        self.register_outputs({"awsBudgetName": self.aws_budget.name})

    def _google_cloud_budget(
        self, name: str, args: StackBudgetArgs, *, billing_account: str, project: str, monthly_usd: float
    ) -> gcp.billing.Budget:
        """The Cloud Billing budget on `project`: the same amount and thresholds as the AWS one."""
        child = pulumi.ResourceOptions(parent=self)
        api = gcp.projects.Service(
            f"{name}-gcp-api",
            project=project,
            service=BUDGETS_API,
            # Other stacks of the project may budget too; destroying this one leaves the API on.
            disable_on_destroy=False,
            opts=child,
        )
        # A budget filters by project number (projects/{number}); an id would be rewritten to it, a diff each `up`.
        number = gcp.organizations.get_project_output(project_id=project, opts=pulumi.InvokeOutputOptions(parent=self)).number
        cents = round(monthly_usd * 100)
        return gcp.billing.Budget(
            f"{name}-gcp",
            billing_account=billing_account,
            display_name=f"{args.name_prefix}-monthly",
            budget_filter=gcp.billing.BudgetBudgetFilterArgs(
                projects=[number.apply(lambda n: f"projects/{n}")], calendar_period="MONTH"
            ),
            amount=gcp.billing.BudgetAmountArgs(
                specified_amount=gcp.billing.BudgetAmountSpecifiedAmountArgs(
                    # USD, or the API refuses the budget: a billing account in another currency is told, not misread.
                    currency_code="USD", units=str(cents // 100), nanos=(cents % 100) * 10_000_000
                )
            ),
            threshold_rules=[
                gcp.billing.BudgetThresholdRuleArgs(
                    threshold_percent=args.budget.forecast_percent / 100, spend_basis="FORECASTED_SPEND"
                ),
                gcp.billing.BudgetThresholdRuleArgs(threshold_percent=args.budget.actual_percent / 100, spend_basis="CURRENT_SPEND"),
            ],
            # No all_updates_rule: it needs a Pub/Sub topic or Monitoring channels; without one, Cloud Billing
            # mails each threshold to the billing account's administrators and users.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[api]),
        )
