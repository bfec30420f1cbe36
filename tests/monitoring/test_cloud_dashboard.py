"""The Grafana dashboard as Cloud Monitoring's dashboard JSON (components/monitoring/cloud_dashboard.py)."""

from __future__ import annotations

from typing import Any

import pytest

from components.monitoring.cloud_dashboard import cloud_monitoring_dashboard, grafana_dashboard, substitute

TWO_PANELS: dict[str, Any] = {
    "panels": [
        {
            "title": "Request rate",
            "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
            "fieldConfig": {"defaults": {"unit": "reqps"}},
            "targets": [
                {
                    "expr": 'sum by (code) (rate(inference_requests_total{namespace="$namespace", model="$project"}[5m]))',
                    "legendFormat": "{{code}}",
                }
            ],
        },
        {
            "title": "Replicas",
            "gridPos": {"h": 8, "w": 24, "x": 0, "y": 8},
            "fieldConfig": {"defaults": {"unit": "short"}},
            "targets": [
                {"expr": 'max(kube_deployment_status_replicas_available{deployment="${project}-server"})', "legendFormat": "ready"}
            ],
        },
    ]
}


def group(title: str, *, y: int) -> dict[str, Any]:
    return {**({"yPos": y} if y else {}), "width": 48, "height": 32, "widget": {"title": title, "collapsibleGroup": {}}}


def requests_tile(project: str, *, y: int) -> dict[str, Any]:
    query = f'sum by (code) (rate(inference_requests_total{{namespace="mlops-prod", model="{project}"}}[5m]))'
    return {
        **({"yPos": y} if y else {}),
        "width": 24,
        "height": 16,
        "widget": {
            "title": "Request rate",
            "xyChart": {
                "dataSets": [
                    {
                        "timeSeriesQuery": {"prometheusQuery": query, "unitOverride": "1/s"},
                        "plotType": "LINE",
                        "targetAxis": "Y1",
                        "legendTemplate": "${metric.labels.code}",
                    }
                ],
                "chartOptions": {"mode": "COLOR"},
            },
        },
    }


def replicas_tile(project: str, *, y: int) -> dict[str, Any]:
    query = f'max(kube_deployment_status_replicas_available{{deployment="{project}-server"}})'
    return {
        "yPos": y,
        "width": 48,
        "height": 16,
        "widget": {
            "title": "Replicas",
            "xyChart": {
                "dataSets": [
                    {
                        "timeSeriesQuery": {"prometheusQuery": query, "unitOverride": "1"},
                        "plotType": "LINE",
                        "targetAxis": "Y1",
                        "legendTemplate": "ready",
                    }
                ],
                "chartOptions": {"mode": "COLOR"},
            },
        },
    }


def test_each_project_is_a_group_of_the_panels_stacked_in_order() -> None:
    dashboard = cloud_monitoring_dashboard(TWO_PANELS, display_name="mlops-prod", namespace="mlops-prod", projects=["iris", "digits"])
    assert dashboard == {
        "displayName": "mlops-prod",
        "mosaicLayout": {
            "columns": 48,
            "tiles": [
                group("iris", y=0),
                requests_tile("iris", y=0),
                replicas_tile("iris", y=16),
                group("digits", y=32),
                requests_tile("digits", y=32),
                replicas_tile("digits", y=48),
            ],
        },
    }


def test_a_tile_at_the_left_or_top_edge_leaves_that_position_out_as_cloud_monitoring_returns_it() -> None:
    tiles = cloud_monitoring_dashboard(TWO_PANELS, display_name="d", namespace="n", projects=["iris"])["mosaicLayout"]["tiles"]
    assert [{key: tile.get(key) for key in ("xPos", "yPos") if key in tile} for tile in tiles] == [{}, {}, {"yPos": 16}]


def test_no_project_is_an_empty_layout() -> None:
    dashboard = cloud_monitoring_dashboard(TWO_PANELS, display_name="d", namespace="n", projects=[])
    assert dashboard["mosaicLayout"] == {"columns": 48, "tiles": []}


def test_a_variable_without_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match=r"uses \$datasource, which has no value here"):
        substitute('up{job="$datasource"}', {"namespace": "n", "project": "p"})


def test_the_repository_dashboard_converts_with_its_queries_unchanged() -> None:
    grafana = grafana_dashboard()
    dashboard = cloud_monitoring_dashboard(grafana, display_name="d", namespace="mlops-prod", projects=["iris"])
    charts = [tile for tile in dashboard["mosaicLayout"]["tiles"] if "xyChart" in tile["widget"]]
    assert [tile["widget"]["title"] for tile in charts] == [panel["title"] for panel in grafana["panels"]]
    expected = [
        target["expr"].replace("$namespace", "mlops-prod").replace("$project", "iris")
        for panel in grafana["panels"]
        for target in panel["targets"]
    ]
    assert [data["timeSeriesQuery"]["prometheusQuery"] for tile in charts for data in tile["widget"]["xyChart"]["dataSets"]] == expected


def test_the_repository_dashboards_tiles_fit_inside_their_group() -> None:
    # A tile below its group's last row would fall outside the group (and out of its collapse).
    tiles = cloud_monitoring_dashboard(grafana_dashboard(), display_name="d", namespace="n", projects=["iris", "digits"])[
        "mosaicLayout"
    ]["tiles"]
    groups = [tile for tile in tiles if "collapsibleGroup" in tile["widget"]]
    assert [(g.get("yPos", 0), g["height"]) for g in groups] == [(0, 64), (64, 64)]
    for tile in tiles:
        if "xyChart" in tile["widget"]:
            top = tile.get("yPos", 0)
            inside = [g for g in groups if g.get("yPos", 0) <= top and top + tile["height"] <= g.get("yPos", 0) + g["height"]]
            assert len(inside) == 1, tile["widget"]["title"]
            assert tile.get("xPos", 0) + tile["width"] <= 48
