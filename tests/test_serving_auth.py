"""A public serving endpoint requires a bearer token: generated, kept in a Secret, read by the server."""

from __future__ import annotations

from typing import Any

import pytest

from offline.engine import MOCK_RANDOM_PASSWORD, Recording
from offline.values import is_secret
from tests.manifests import container, manifest

# What the mock engine makes of a 48-character RandomPassword.
MOCK_TOKEN = (MOCK_RANDOM_PASSWORD * 2)[:48]
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


def server_env(run: Recording) -> list[dict[str, Any]]:
    return container(manifest(run, "Deployment", "iris-server"))["env"]


def test_a_public_endpoint_gets_a_generated_token_of_letters_and_digits(prod_public: Recording) -> None:
    # Letters and digits only: a `$` or `!` in the token would break the README's curl line in a shell.
    token = prod_public.get(RANDOM_PASSWORD, "serving-iris-token")
    assert token.inputs == {"length": 48, "special": False}
    assert token.parent == prod_public.get("mlops:serving:ModelServing", "serving-iris").urn


def test_a_public_endpoint_keeps_the_token_in_a_secret(prod_public: Recording) -> None:
    secret = manifest(prod_public, "Secret", "iris-server-token")
    assert secret["metadata"]["namespace"] == "mlops-prod"
    # The workload's labels: `kubectl delete -l app.kubernetes.io/instance=...` cleans it up with the rest.
    assert secret["metadata"]["labels"] == {
        "app.kubernetes.io/name": "model-server", "app.kubernetes.io/instance": "mlops-prod", "app.kubernetes.io/part-of": "mlops",
        "mlops/project": "iris",
    }
    assert secret["type"] == "Opaque"
    assert secret["stringData"] == {"token": MOCK_TOKEN}
    # Marked secret, so the state encrypts it and `pulumi preview` never prints it.
    assert is_secret(prod_public.get("kubernetes:core/v1:Secret", "serving-iris-token").inputs["stringData"])


def test_a_public_endpoint_server_reads_the_token_from_the_secret(prod_public: Recording) -> None:
    # By reference: the value never lands in the Deployment's spec (readable by anyone who can get Deployments).
    [auth] = [e for e in server_env(prod_public) if e["name"] == "MLOPS_AUTH_TOKEN"]
    assert auth == {"name": "MLOPS_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {"name": "iris-server-token", "key": "token"}}}


def test_a_public_endpoint_exports_the_token_as_a_secret_output(prod_public: Recording) -> None:
    assert prod_public.outputs["servingTokens"]["iris"] == MOCK_TOKEN
    assert "servingTokens" in prod_public.secret_outputs, "`pulumi stack output` shows it only with --show-secrets"


@pytest.mark.parametrize("run", ["prod", "dev"])  # an internal load balancer; a ClusterIP Service
def test_an_endpoint_that_is_not_public_has_no_token(request: pytest.FixtureRequest, run: str) -> None:
    # Inside the VPC (or through a port-forward) the probes, the pipeline and users call without one.
    recording: Recording = request.getfixturevalue(run)
    assert [r.name for r in recording.of_type(RANDOM_PASSWORD) if r.name.startswith("serving-")] == []  # Airflow's are its own
    assert [e["name"] for e in server_env(recording) if e["name"] == "MLOPS_AUTH_TOKEN"] == []
    assert "servingToken" not in recording.outputs
    with pytest.raises(LookupError):
        manifest(recording, "Secret", "iris-server-token")
