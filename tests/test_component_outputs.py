"""What each component registers as its own outputs (kept in the state, shown by `pulumi stack export`):
the mock engine does not record them, so this run captures them from the monitor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime import rpc

from offline import engine
from offline.engine import run_program, stack_config_with
from offline.values import reveal


@pytest.fixture(scope="module")
def component_outputs() -> Iterator[dict[str, dict[str, Any]]]:
    """dev with cluster training: every component's registered outputs, by resource name."""
    captured: dict[str, dict[str, Any]] = {}

    def capture(monitor: engine.RecordingMonitor, request: Any) -> Any:
        captured[request.urn.rsplit("::", 1)[-1]] = reveal(rpc.deserialize_properties(request.outputs))
        return original(monitor, request)

    original = engine.RecordingMonitor.RegisterResourceOutputs
    engine.RecordingMonitor.RegisterResourceOutputs = capture  # type: ignore[method-assign]
    try:
        run_program("dev", stack_config_with("dev", {"mlops:compute": {"kind": "none"}}))
    finally:
        engine.RecordingMonitor.RegisterResourceOutputs = original  # type: ignore[method-assign]
    yield captured


def test_serving_records_its_service_endpoint_and_port_forward(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["serving"] == {
        "serviceName": "model-server",
        "endpoint": "http://model-server.mlops-dev.svc.cluster.local:8080/v2/models/iris/infer",
        "portForwardCommand": "kubectl port-forward -n mlops-dev service/model-server 8080:8080",
    }


def test_training_records_its_run_now_command(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["training"] == {
        "runNowCommand": "kubectl create job -n mlops-dev --from=cronjob/train train-manual-$(date +%s)"
    }


def test_the_namespace_records_its_name_and_pull_secret(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["workloads"] == {"name": "mlops-dev", "pullSecretName": "registry-pull"}


def test_an_identity_records_its_credentials_secret(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["serving-identity"] == {"secretName": "serving-identity-aws"}


def test_images_record_their_digest_refs(component_outputs: dict[str, dict[str, Any]]) -> None:
    refs = component_outputs["images"]["refs"]
    assert set(refs) == {"train", "serve"}
    assert all("@sha256:" in ref for ref in refs.values())
