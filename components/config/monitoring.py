"""The `monitoring` section: how the serving pods are scraped, who is told when something
breaks, the alert thresholds (which a project may override under `projects.<name>.serve.alerts`)
and the stack's monthly budget.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from components.config.section import Section

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
_HTTPS = re.compile(r"^https://[^\s/]+(/\S*)?$")
_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")

Scraping = Literal["auto", "managed-prometheus", "prometheus-operator", "none"]


class NotifyConfig(Section):
    emails: list[str] = Field(
        default_factory=list,
        description="Addresses subscribed to the stack's notification topic (each confirms once, by the mail SNS sends).",
    )
    https: list[str] = Field(
        default_factory=list,
        description="https:// endpoints subscribed to the topic (a chat or paging webhook; SNS confirms each once).",
    )

    @field_validator("emails")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not _EMAIL.match(address):
                raise ValueError(f"'{address}' is not an e-mail address")
        return _unique(value)

    @field_validator("https")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        for url in value:
            if not _HTTPS.match(url):
                raise ValueError(f"'{url}' is not an https:// URL (plain http would carry alerts in the clear)")
        return _unique(value)


def _unique(values: list[str]) -> list[str]:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise ValueError(f"lists {', '.join(repeated)} more than once")
    return values


# Each threshold's bounds, shared by the stack's defaults and a project's overrides.
AvailabilityMinutes = Annotated[int, Field(ge=1, le=60)]
ErrorRatio = Annotated[float, Field(gt=0, le=1)]
ErrorMinutes = Annotated[int, Field(ge=1, le=60)]
LatencySeconds = Annotated[float, Field(gt=0, le=60)]
LatencyMinutes = Annotated[int, Field(ge=1, le=120)]
SaturationMinutes = Annotated[int, Field(ge=5, le=720)]
FreshnessRuns = Annotated[int, Field(ge=1, le=100)]


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class AlertThresholds(Section):
    """When a served project's alerts fire; the defaults suit a small CPU model server."""

    availability_minutes: AvailabilityMinutes = Field(
        default=5, description="Minutes with no ready replica, or fewer than minReplicas, before alerting."
    )
    error_ratio: ErrorRatio = Field(default=0.05, description="Share of infer requests answered 5xx that alerts (0.05 = 5%).")
    error_minutes: ErrorMinutes = Field(default=5, description="Minutes the error ratio must hold before alerting.")
    latency_p99_seconds: LatencySeconds = Field(
        default=0.5, description="p99 infer latency, in seconds, above which latency alerts."
    )
    latency_minutes: LatencyMinutes = Field(default=10, description="Minutes the p99 must stay above the bound.")
    saturation_minutes: SaturationMinutes = Field(
        default=30, description="Minutes the autoscaler may sit at maxReplicas before alerting."
    )
    freshness_runs: FreshnessRuns = Field(
        default=3, description="The served version may be this many scheduled training runs old before alerting."
    )

    @field_validator("error_ratio", "latency_p99_seconds", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return _float(value)


def _own(key: str) -> Any:
    return Field(default=None, description=f"This project's {key}; left out, monitoring.alerts.{key} applies.")


class AlertOverrides(Section):
    """A project's own thresholds (`projects.<name>.serve.alerts`): each key left out takes `monitoring.alerts`'s."""

    availability_minutes: AvailabilityMinutes | None = _own("availabilityMinutes")
    error_ratio: ErrorRatio | None = _own("errorRatio")
    error_minutes: ErrorMinutes | None = _own("errorMinutes")
    latency_p99_seconds: LatencySeconds | None = _own("latencyP99Seconds")
    latency_minutes: LatencyMinutes | None = _own("latencyMinutes")
    saturation_minutes: SaturationMinutes | None = _own("saturationMinutes")
    freshness_runs: FreshnessRuns | None = _own("freshnessRuns")

    @field_validator("error_ratio", "latency_p99_seconds", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return _float(value)

    def over(self, stack: AlertThresholds) -> AlertThresholds:
        """The stack's thresholds with this project's own in their place."""
        own = {name: value for name, value in self.model_dump().items() if value is not None}
        return stack.model_copy(update=own)


class BudgetConfig(Section):
    monthly_usd: float | None = Field(
        default=None,
        gt=0,
        description="The stack's monthly budget in USD (required): set it near `make cost`'s estimate for the stack, "
        "which prints the figure to use, so that a runaway GPU node or a stuck instance shows within a day.",
    )
    forecast_percent: int = Field(
        default=100, ge=1, le=1000, description="Alert when the month's forecast passes this % of the budget."
    )
    actual_percent: int = Field(
        default=100, ge=1, le=1000, description="Alert when the month's actual spend passes this % of the budget."
    )
    gcp_billing_account: str | None = Field(
        default=None,
        description="On a GKE stack, the Cloud Billing account (XXXXXX-XXXXXX-XXXXXX) for a Google Cloud budget "
        "on the project beside the AWS one; unset, only AWS spend is budgeted.",
    )

    @field_validator("monthly_usd", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return _float(value)

    @field_validator("gcp_billing_account")
    @classmethod
    def _billing_account(cls, value: str | None) -> str | None:
        if value is not None and not _BILLING_ACCOUNT.match(value):
            raise ValueError(f"'{value}' is not a Cloud Billing account id (XXXXXX-XXXXXX-XXXXXX, hex upper case)")
        return value


class MonitoringConfig(Section):
    scraping: Scraping = Field(
        default="auto",
        description="How the serving pods' /metrics are scraped and the alert rules evaluated: managed-prometheus "
        "(GKE's Managed Service for Prometheus: PodMonitoring and Cloud Monitoring alert policies), "
        "prometheus-operator (ServiceMonitor and PrometheusRule, e.g. kube-prometheus-stack), or none. "
        "auto picks managed-prometheus on GKE and prometheus-operator elsewhere.",
    )
    notify: NotifyConfig = Field(
        default_factory=NotifyConfig, description="Who the stack's notification topic and alerts reach."
    )
    alerts: AlertThresholds = Field(
        default_factory=AlertThresholds,
        description="Each served project's alert thresholds; projects.<name>.serve.alerts overrides any of them.",
    )
    budget: BudgetConfig = Field(
        default_factory=BudgetConfig, description="The stack's monthly budget, alerting at the forecast and the actual."
    )

    def scraping_on(self, cluster: str) -> Literal["managed-prometheus", "prometheus-operator", "none"]:
        """`scraping` with auto resolved for the serving cluster kind."""
        if self.scraping != "auto":
            return self.scraping
        return "managed-prometheus" if cluster == "gke" else "prometheus-operator"
