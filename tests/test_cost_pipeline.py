"""offline/cost_pipeline.py: what Airflow adds to the idle cost, apart from the projects and the shared rest."""

from __future__ import annotations

from dataclasses import replace

import pytest

from offline.cost_pipeline import always_on_millicores, of_pipeline, pipeline_cost
from offline.cost_text import pipeline_line
from offline.engine import Recording
from offline.managed_prices import release_nodes
from offline.stack_cost import stack_cost
from tests.registrations import reg
from tests.support import RunWith


def test_prod_airflow_holds_one_cpu_node_for_its_always_on_pods(prod: Recording) -> None:
    cost = stack_cost("prod", prod.resources)
    assert cost.pipeline is not None and cost.pipeline.nodes is not None
    assert (cost.pipeline.nodes.count, cost.pipeline.nodes.machine, round(cost.pipeline.nodes.monthly, 2)) == (1, "e2-standard-2", 54.94)
    assert (cost.pipeline.millicores, cost.pipeline.idle_monthly) == (1350, round(54.94 + 51.01, 2))
    # Its own billed resource: the Cloud SQL instance (offline/prices.py prices it by tier and SSD).
    assert [(r.name, r.monthly) for r in cost.pipeline.resources if r.monthly] == [("airflow-database-instance", 51.01)]


def test_dev_airflow_bills_nothing_the_stack_pays_for(dev: Recording) -> None:
    cost = stack_cost("dev", dev.resources)
    assert cost.pipeline is not None
    assert (cost.pipeline.nodes, cost.pipeline.idle_monthly, cost.pipeline.millicores) == (None, 0.0, 1350)
    assert pipeline_line(cost.pipeline) == (
        "       $0.00  pipeline (Airflow): its always-on pods (1350m CPU) and its database's volume are the bill of the "
        "cluster you bring")


def test_a_public_api_adds_its_load_balancer_to_airflows_share(run_with: RunWith) -> None:
    cost = stack_cost("prod", run_with("prod", **{"mlops:pipeline": {"publicApi": True}}).resources)
    assert cost.pipeline is not None
    assert sorted((r.name, r.monthly) for r in cost.pipeline.resources if r.monthly) == [
        ("airflow-database-instance", 51.01), ("airflow-release", 18.25)]
    assert cost.pipeline.idle_monthly == round(54.94 + 51.01 + 18.25, 2)


def test_a_stack_without_airflow_has_no_pipeline_share(dev_scheduled: Recording) -> None:
    assert stack_cost("dev", dev_scheduled.resources).pipeline is None


def test_the_pipelines_resources_are_those_of_its_components() -> None:
    ours = replace(reg("kubernetes:core/v1:Secret", "s"), urn="urn:pulumi:dev::mlops::mlops:pipeline:AirflowSecrets$kubernetes:core/v1:Secret::s")
    theirs = reg("kubernetes:core/v1:Secret", "t")
    assert (of_pipeline(ours), of_pipeline(theirs)) == (True, False)


def test_the_always_on_cpu_is_read_from_the_release_values() -> None:
    sized = {"resources": {"requests": {"cpu": "500m"}}}
    groomed = {**sized, "logGroomerSidecar": {"resources": {"requests": {"cpu": "50m"}}}}
    values = {"scheduler": groomed, "apiServer": sized, "dagProcessor": {**groomed, "logGroomerSidecar": {"enabled": False}}}
    assert always_on_millicores(values) == 500 + 50 + 500 + 500
    release = replace(reg("kubernetes:helm.sh/v3:Release", "airflow-release", chart="airflow", values=values),
                      urn="urn:pulumi:dev::mlops::mlops:pipeline:AirflowPipeline$kubernetes:helm.sh/v3:Release::r")
    cost = pipeline_cost([release], [])
    assert cost is not None and (cost.millicores, cost.nodes) == (1550, None)


def test_on_auto_mode_airflow_keeps_a_node_of_its_own_priced_on_its_release(prod_aws: Recording) -> None:
    # No node pool to size: Auto Mode starts the cheapest node its always-on pods fit together (1350m, 2944Mi).
    cost = stack_cost("prod-aws", prod_aws.resources)
    assert cost.pipeline is not None and cost.pipeline.nodes is None
    release = next(r for r in cost.pipeline.resources if r.name == "airflow-release")
    assert (release.kind, release.monthly) == ("auto-mode-nodes", 68.95)
    assert release.note.startswith("its always-on pods (1350m CPU, 2944Mi: scheduler, api-server, dag-processor) on 1 x c6a.large")
    assert [(r.name, r.monthly) for r in cost.pipeline.resources if r.monthly] == [
        ("airflow-release", 68.95), ("airflow-database-key", 1.0), ("airflow-database", 13.98)]
    assert pipeline_line(cost.pipeline) == (
        "      $83.93  pipeline (Airflow): its always-on pods (1350m CPU) on an Auto Mode node of their own, in its "
        "release's price; airflow-release $68.95 + airflow-database-key $1.00 + airflow-database $13.98")


def test_bigger_always_on_pods_get_a_bigger_node() -> None:
    # The node follows the release's values: three pods of 1 CPU and 2 GiB (3000m, 6144Mi) fit a c6a.xlarge.
    big = {"resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}
    kind, monthly, note = release_nodes({"scheduler": big, "apiServer": big, "dagProcessor": big}, ("free", 0.0, "ClusterIP"))
    assert kind == "auto-mode-nodes" and monthly == pytest.approx((0.153 + 0.01836) * 730 + 80 * 0.08)
    assert note.startswith("its always-on pods (3000m CPU, 6144Mi: scheduler, api-server, dag-processor) on 1 x c6a.xlarge")
