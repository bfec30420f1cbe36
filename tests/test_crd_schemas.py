"""The custom-resource check itself: it passes a valid object and names each fault of a wrong one."""

from __future__ import annotations

from tests.crd_schemas import custom_resource_problems, known_kinds


def service_monitor(**endpoint: object) -> dict[str, object]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "iris-server", "namespace": "mlops-dev"},
        "spec": {"selector": {"matchLabels": {"mlops/project": "iris"}}, "endpoints": [{"port": "http", **endpoint}]},
    }


def test_every_kind_the_program_creates_has_a_schema() -> None:
    assert known_kinds() == {
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"),
        ("monitoring.googleapis.com/v1", "PodMonitoring"),
        ("karpenter.sh/v1", "NodePool"),
    }


def test_a_valid_service_monitor_passes() -> None:
    assert custom_resource_problems(service_monitor(path="/metrics", interval="30s")) == []


def test_a_misspelt_field_and_a_wrong_type_are_each_named() -> None:
    assert custom_resource_problems(service_monitor(pth="/metrics", honorLabels="yes")) == [
        "spec.endpoints.0.honorLabels: 'yes' is not of type 'boolean'",
        "spec.endpoints.0: Additional properties are not allowed ('pth' was unexpected)",
    ]


def test_an_int_or_string_port_takes_either() -> None:
    assert custom_resource_problems(service_monitor(targetPort=8080)) == []
    assert custom_resource_problems(service_monitor(targetPort="http")) == []
