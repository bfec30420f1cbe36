"""The Grafana dashboard (grafana-dashboard.json) as a Cloud Monitoring dashboard: the same panels and
PromQL, one collapsible group per project, with the dashboard's `$namespace` and `$project` filled in.

Cloud Monitoring's dashboard JSON (projects.dashboards): a `mosaicLayout` of `tiles` on a 48-column
grid; a tile holding a `collapsibleGroup` widget groups the tiles inside its rows; an `xyChart`
widget plots `dataSets`, each a `timeSeriesQuery.prometheusQuery`. The `${datasource}` variable has no
counterpart: Cloud Monitoring is the data source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

GRAFANA_DASHBOARD = Path(__file__).parent / "grafana-dashboard.json"
GRAFANA_COLUMNS = 24
COLUMNS = 48
SCALE = COLUMNS // GRAFANA_COLUMNS
"""Grafana's grid positions and sizes, doubled, are the mosaic's (its rows are half as tall too)."""

UNITS = {"reqps": "1/s", "percentunit": "1", "s": "s", "short": "1"}
"""Grafana's panel units as the UCUM units Cloud Monitoring's `unitOverride` takes."""

_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
_LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def grafana_dashboard() -> dict[str, Any]:
    return json.loads(GRAFANA_DASHBOARD.read_text())


def cloud_monitoring_dashboard(
    grafana: Mapping[str, Any], *, display_name: str, namespace: str, projects: Sequence[str]
) -> dict[str, Any]:
    """The dashboard JSON: one group of `grafana`'s panels per project, stacked in `projects`' order."""
    tiles: list[dict[str, Any]] = []
    top = 0
    for project in projects:
        section = _section(grafana["panels"], {"namespace": namespace, "project": project}, top=top)
        tiles += section
        top += section[0]["height"]
    return {"displayName": display_name, "mosaicLayout": {"columns": COLUMNS, "tiles": tiles}}


def _section(panels: Sequence[Mapping[str, Any]], variables: Mapping[str, str], *, top: int) -> list[dict[str, Any]]:
    """The project's group tile, then its panels' tiles inside the group's rows."""
    height = SCALE * max(panel["gridPos"]["y"] + panel["gridPos"]["h"] for panel in panels)
    group = {
        **_place(x=0, y=top, width=COLUMNS, height=height),
        # Expanded: `collapsed` left at its default, false.
        "widget": {"title": variables["project"], "collapsibleGroup": {}},
    }
    return [group, *(_chart(panel, variables, top=top) for panel in panels)]


def _place(*, x: int, y: int, width: int, height: int) -> dict[str, int]:
    """A tile's position and size. Cloud Monitoring leaves a zero xPos or yPos out of the dashboard
    it returns (protobuf JSON omits defaults), so it is left out here too, or the provider, which
    compares the two documents as they are, would see a difference on every refresh."""
    return {key: value for key, value in (("xPos", x), ("yPos", y)) if value} | {"width": width, "height": height}


def _chart(panel: Mapping[str, Any], variables: Mapping[str, str], *, top: int) -> dict[str, Any]:
    position = panel["gridPos"]
    unit = UNITS[panel["fieldConfig"]["defaults"]["unit"]]
    return {
        **_place(x=SCALE * position["x"], y=top + SCALE * position["y"], width=SCALE * position["w"], height=SCALE * position["h"]),
        "widget": {
            "title": panel["title"],
            "xyChart": {
                "dataSets": [_data_set(target, variables, unit=unit) for target in panel["targets"]],
                "chartOptions": {"mode": "COLOR"},
            },
        },
    }


def _data_set(target: Mapping[str, Any], variables: Mapping[str, str], *, unit: str) -> dict[str, Any]:
    return {
        "timeSeriesQuery": {"prometheusQuery": substitute(target["expr"], variables), "unitOverride": unit},
        "plotType": "LINE",
        "targetAxis": "Y1",
        # Grafana's `{{code}}` is Cloud Monitoring's `${metric.labels.code}`.
        "legendTemplate": _LEGEND_LABEL.sub(r"${metric.labels.\1}", target["legendFormat"]),
    }


def substitute(expr: str, variables: Mapping[str, str]) -> str:
    """`expr` with each `$name` (or `${name}`) replaced; ValueError for a variable not in `variables`,
    which would otherwise reach Cloud Monitoring as a query it cannot parse."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) not in variables:
            raise ValueError(f"the dashboard query {expr!r} uses ${match.group(1)}, which has no value here")
        return variables[match.group(1)]

    return _VARIABLE.sub(value, expr)
