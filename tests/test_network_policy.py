"""The one-port NetworkPolicy a workload adds to its namespace's deny-all (components/network_policy.py)."""

from __future__ import annotations

from offline.engine import Recording
from tests.manifests import manifest

SERVING = {
    "app.kubernetes.io/name": "model-server",
    "app.kubernetes.io/instance": "mlops-dev",
    "app.kubernetes.io/part-of": "mlops",
    "mlops/project": "iris",
}
RENEWER = {"app.kubernetes.io/name": "renew-pull-secret", "app.kubernetes.io/instance": "mlops-dev", "app.kubernetes.io/part-of": "mlops"}


def test_an_ingress_policy_admits_only_its_port_inbound_to_its_pods(dev: Recording) -> None:
    policy = manifest(dev, "NetworkPolicy", "iris-server-ingress")
    assert (policy["metadata"]["namespace"], policy["metadata"]["labels"]) == ("mlops-dev", SERVING)
    assert policy["spec"] == {
        "podSelector": {"matchLabels": SERVING},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"protocol": "TCP", "port": 8080}]}],
    }


def test_an_egress_policy_admits_only_its_port_outbound_from_its_pods(dev: Recording) -> None:
    policy = manifest(dev, "NetworkPolicy", "renew-pull-secret-api-egress")
    assert (policy["metadata"]["namespace"], policy["metadata"]["labels"]) == ("mlops-dev", RENEWER)
    assert policy["spec"] == {
        "podSelector": {"matchLabels": RENEWER},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"protocol": "TCP", "port": 6443}]}],
    }
