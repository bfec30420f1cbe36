"""Every metric name the alert rules and the dashboard read is a real one: in a running
model server's /metrics, or one of kube-state-metrics' (metrics.KUBE_STATE_METRICS), and
every name components/monitoring/metrics.py gives the server is in its scrape."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from components.monitoring import metrics
from tests.images.conftest import Server, launch_server, run_train, scrape
from tests.loopback import base_env
from tests.monitoring.promql_names import metric_names
from tests.monitoring.stack_rules import STACKS, stack_rules

DASHBOARD = Path(metrics.__file__).with_name("grafana-dashboard.json")
# Grafana's query variables: label_values(<series selector>, <label>) is Grafana's, not PromQL.
LABEL_VALUES = re.compile(r"label_values\((?P<selector>.+),\s*\w+\)")


def unknown(names: list[str], scraped: set[str]) -> list[str]:
    """The names that are neither in the server's scrape nor kube-state-metrics'."""
    return [name for name in names if name not in scraped and name not in metrics.KUBE_STATE_METRICS]


# --- the extractor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        pytest.param(
            'sum by (namespace, model) (rate(inference_requests_total{namespace="ns", model="iris", code=~"5.."}[5m]))',
            ["inference_requests_total"],
            id="aggregation-by-before",
        ),
        pytest.param("max(up) by (job) / ignoring(le) count without (instance) (other)", ["up", "other"], id="by-after-and-without"),
        pytest.param("a * on (namespace) group_left (version) b", ["a", "b"], id="group-left-with-labels"),
        pytest.param("a / on(pod) group_right b", ["a", "b"], id="group-right-without-labels"),
        pytest.param("histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m:30s] offset 1h30m)))", ["x_bucket"], id="subquery-offset"),
        pytest.param('label_replace(kube_pod_info, "dst", "$1", "pod", "(.*)-server")', ["kube_pod_info"], id="strings"),
        pytest.param('{__name__="mlops_model_info", version!=""} == bool 1', ["mlops_model_info"], id="name-matcher"),
        pytest.param("time() - max(t{namespace=\"$namespace\"}[$__rate_interval]) > 1e3 and Inf < NaN", ["t"], id="numbers-variables"),
        pytest.param("job:requests:rate5m > 0.5 unless absent(up)", ["job:requests:rate5m", "up"], id="recording-rule-name"),
        pytest.param("topk(5, a) or count_values(\"v\", b) # a comment: c", ["a", "b"], id="parameters-and-comments"),
    ],
)
def test_metric_names_are_the_metrics_only(expr: str, names: list[str]) -> None:
    assert metric_names(expr) == names


def test_a_misspelt_metric_is_reported() -> None:
    names = metric_names('sum(rate(inference_request_total{model="iris"}[5m])) / sum(rate(inference_requests_total[5m]))')
    assert unknown(names, {"inference_requests_total"}) == ["inference_request_total"]


def test_an_unknown_character_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="unexpected '§' at 4"):
        metric_names("up {§}")


# --- the rules and the dashboard against a real server ------------------------------------


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """The series names of a real server that has loaded a model and answered one good and one
    bad infer request, so its counters and histograms have series."""
    models = tmp_path_factory.mktemp("models")
    trained = run_train("--data", "builtin:iris", "--model", "iris", "--output", models.as_uri())
    assert trained.returncode == 0, trained.stderr
    server: Server = launch_server(f"{models.as_uri()}/iris/LATEST", tmp_path_factory.mktemp("server") / "server.log", env=base_env())
    try:
        good = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [[5.1, 3.5, 1.4, 0.2]]}]}
        assert server.post("/v2/models/iris/infer", content=orjson.dumps(good)).status_code == 200
        assert server.post("/v2/models/iris/infer", content=b"{").status_code == 400
        yield set(scrape(server))
    finally:
        assert server.stop() == 0


def dashboard_queries() -> list[str]:
    """Every panel target's expr and every query variable's series selector."""
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    queries: list[str] = []

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))  # a row's collapsed panels

    for panel in panels(dashboard["panels"]):
        queries.extend(target["expr"] for target in panel.get("targets", []))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            match = LABEL_VALUES.fullmatch(variable["definition"])
            assert match is not None, variable["definition"]
            queries.append(match["selector"])
    return queries


def rule_exprs() -> list[tuple[str, str]]:
    return [(f"{stack} {rule.project} {rule.alert}", rule.expr) for stack in STACKS for rule in stack_rules(stack)]


@pytest.mark.parametrize(("where", "expr"), rule_exprs())
def test_each_rules_metrics_are_real(scraped: set[str], where: str, expr: str) -> None:
    names = metric_names(expr)
    assert names, f"{where} reads no metric: {expr}"
    assert unknown(names, scraped) == [], f"{where}: {expr}"


@pytest.mark.parametrize("expr", dashboard_queries())
def test_each_dashboard_querys_metrics_are_real(scraped: set[str], expr: str) -> None:
    names = metric_names(expr)
    assert names, f"reads no metric: {expr}"
    assert unknown(names, scraped) == []


def test_the_programs_server_metric_names_are_in_the_scrape(scraped: set[str]) -> None:
    assert [name for name in metrics.SERVER_METRICS if name not in scraped] == []


def test_every_named_metric_is_read_by_a_rule_or_the_dashboard() -> None:
    """No dead names: each of metrics.py's is read somewhere, so the checks above cover them all."""
    read = {name for _, expr in rule_exprs() for name in metric_names(expr)}
    read |= {name for expr in dashboard_queries() for name in metric_names(expr)}
    assert set(metrics.SERVER_METRICS) | set(metrics.KUBE_STATE_METRICS) == read
