"""Airflow's namespace (components/pipeline/namespace.py): restricted, deny-all, and exactly the traffic
Airflow needs; its own pull secret and renewer where the nodes need one."""

from __future__ import annotations

import pytest

from offline.engine import Recording, run_program, stack_config_with
from tests.manifests import manifest, of_kind

AIRFLOW_PODS = {"tier": "airflow", "release": "airflow"}
PART_OF = {"app.kubernetes.io/part-of": "mlops"}


def policy(run: Recording, name: str) -> dict:
    return manifest(run, "NetworkPolicy", name, namespace=run.outputs["airflowNamespace"])


@pytest.fixture(scope="module")
def prod_public_api() -> Recording:
    return run_program("prod", stack_config_with("prod", {"mlops:pipeline": {"publicApi": True}}))


@pytest.mark.parametrize(("stack", "name"), [("dev", "mlops-dev-airflow"), ("prod", "mlops-prod-airflow")])
def test_the_namespace_enforces_the_restricted_standard(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    assert recording.outputs["airflowNamespace"] == name
    [namespace] = of_kind(recording, "Namespace", namespace=name)
    assert namespace["metadata"] == {
        "name": name,
        "labels": {
            **PART_OF,
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
    }


OWN_POLICIES = {
    "dev": ["allow-database-ingress", "renew-airflow-pull-secret-api-egress"],  # the bundled Postgres, the renewer
    "prod": [],
    "prod_aws": ["allow-cluster-egress"],  # the Pod Identity Agent
}


@pytest.mark.parametrize("stack", ["dev", "prod", "prod_aws"])
def test_these_are_all_the_networkpolicies_of_the_namespace(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    names = sorted(p["metadata"]["name"] for p in of_kind(recording, "NetworkPolicy", namespace=recording.outputs["airflowNamespace"]))
    assert names == sorted([
        "default-deny", "allow-dns-egress", "allow-api-egress", "allow-serving-egress", "allow-airflow-traffic",
        "allow-database-egress", *OWN_POLICIES[stack],
    ])


def test_everything_is_denied_both_ways_by_default(dev: Recording) -> None:
    assert policy(dev, "default-deny")["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_dns_goes_to_kube_dns_only(dev: Recording) -> None:
    assert policy(dev, "allow-dns-egress")["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }],
    }


def test_the_kubernetes_and_cloud_apis_are_tcp_443_and_kinds_6443(prod: Recording) -> None:
    assert policy(prod, "allow-api-egress")["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]}],
    }


@pytest.mark.parametrize(("stack", "workloads"), [("dev", "mlops-dev"), ("prod", "mlops-prod")])
def test_only_task_pods_reach_the_model_servers_and_only_on_8080(request: pytest.FixtureRequest, stack: str, workloads: str) -> None:
    assert policy(request.getfixturevalue(stack), "allow-serving-egress")["spec"] == {
        "podSelector": {"matchLabels": {**AIRFLOW_PODS, "component": "worker"}},
        "policyTypes": ["Egress"],
        "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": workloads}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "model-server"}}}],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }],
    }


def test_airflows_pods_reach_each_other_on_the_api_server_and_log_ports_only(dev: Recording) -> None:
    own = [{"podSelector": {"matchLabels": AIRFLOW_PODS}}]
    ports = [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 8793}]
    assert policy(dev, "allow-airflow-traffic")["spec"] == {
        "podSelector": {"matchLabels": AIRFLOW_PODS},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": own, "ports": ports}],
        "egress": [{"to": own, "ports": ports}],
    }


def test_dev_reaches_its_bundled_postgres_and_it_admits_airflow_only(dev: Recording) -> None:
    postgres = {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "airflow"}
    assert policy(dev, "allow-database-egress")["spec"] == {
        "podSelector": {"matchLabels": AIRFLOW_PODS},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"podSelector": {"matchLabels": postgres}}], "ports": [{"protocol": "TCP", "port": 5432}]}],
    }
    assert policy(dev, "allow-database-ingress")["spec"] == {
        "podSelector": {"matchLabels": postgres},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": AIRFLOW_PODS}}], "ports": [{"protocol": "TCP", "port": 5432}]}],
    }


def test_prod_reaches_its_database_as_the_database_says(prod: Recording) -> None:
    # Cloud SQL's private address (components/pipeline/cloud_sql.py's egress), on 5432.
    [rule] = policy(prod, "allow-database-egress")["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert list(rule["to"][0]) == ["ipBlock"]


def test_nothing_comes_in_from_outside_the_namespace_unless_the_api_is_public(prod: Recording, prod_public_api: Recording) -> None:
    namespace = prod.outputs["airflowNamespace"]
    assert [p["metadata"]["name"] for p in of_kind(prod, "NetworkPolicy", namespace=namespace) if "allow-public" in p["metadata"]["name"]] == []
    assert policy(prod_public_api, "allow-public-api-ingress")["spec"] == {
        "podSelector": {"matchLabels": {**AIRFLOW_PODS, "component": "api-server"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"protocol": "TCP", "port": 8080}]}],
    }


def test_the_policies_wait_for_the_namespace(dev: Recording) -> None:
    namespace = dev.get("kubernetes:core/v1:Namespace", "airflow-namespace").urn
    for name in ("default-deny", "allow-dns-egress", "allow-api-egress", "allow-serving-egress", "allow-airflow-traffic"):
        assert namespace in dev.named(f"airflow-namespace-{name}").dependencies, name


def test_dev_has_its_own_pull_secret_renewed_by_its_own_renewer(dev: Recording) -> None:
    secret = manifest(dev, "Secret", "registry-pull", namespace="mlops-dev-airflow")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert dev.named("airflow-namespace-pull").ignore_changes == ("stringData", "data")
    [cronjob] = of_kind(dev, "CronJob", namespace="mlops-dev-airflow")
    assert cronjob["metadata"]["name"] == "renew-airflow-pull-secret"
    env = {e["name"]: e["value"] for e in cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["NAMESPACE"], env["PULL_SECRET"]) == ("mlops-dev-airflow", "registry-pull")
    # Its own IAM user: user names are per account, and the workloads' renewer has one already.
    assert dev.named("airflow-pull-secret-renewer-identity-user").inputs["name"] == "mlops-dev-renew-airflow-pull-secret"


def test_gke_nodes_pull_themselves_so_prod_has_no_pull_secret(prod: Recording) -> None:
    assert of_kind(prod, "Secret", namespace="mlops-prod-airflow") and not [
        s for s in of_kind(prod, "Secret", namespace="mlops-prod-airflow") if s["type"] == "kubernetes.io/dockerconfigjson"]
