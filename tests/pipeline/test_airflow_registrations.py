"""What the Airflow components register, where, and in what order: on dev (a kubeconfig cluster) and
prod (GKE), through the cluster's provider, each object under its component."""

from __future__ import annotations

import pytest

from offline.engine import Recording
from tests.manifests import manifests
from tests.pipeline.airflow_support import RELEASE, release

COMPONENTS = {
    "mlops:pipeline:AirflowNamespace": "airflow-namespace",
    "mlops:pipeline:AirflowPipeline": "airflow",
    "mlops:pipeline:AirflowSecrets": "airflow-secrets",
}


def children(recording: Recording, type_: str, name: str) -> list[str]:
    return sorted(f"{r.type.rsplit(':', 1)[-1]} {r.name}" for r in recording.children_of(recording.get(type_, name)))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_components_are_registered_once_each_at_the_stacks_root(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    for type_, name in COMPONENTS.items():
        assert [r.name for r in recording.of_type(type_)] == [name]
    root = {r.parent for r in recording.resources if r.type == "mlops:storage:DataBucket"}
    assert {recording.get(t, n).parent for t, n in COMPONENTS.items() if t != "mlops:pipeline:AirflowSecrets"} == root


def test_the_pipeline_component_holds_the_identity_account_secrets_rollout_egress_and_release(dev: Recording, prod: Recording) -> None:
    shared = ["NetworkPolicy airflow-database-egress", "Release airflow-release", "Role airflow-rollout",
              "RoleBinding airflow-rollout", "ServiceAccount airflow-sa", "AirflowSecrets airflow-secrets"]
    assert children(dev, "mlops:pipeline:AirflowPipeline", "airflow") == sorted([*shared, "AccessKeyIdentity airflow-identity"])
    # On the cluster, the training backend's runner Role (components/training_runner.py) is granted under it.
    assert children(prod, "mlops:pipeline:AirflowPipeline", "airflow") == sorted([
        *shared, "WebIdentityRole airflow-identity", "Role training-runner-role", "RoleBinding training-runner-binding"])


def test_the_namespace_component_holds_the_namespace_its_policies_and_its_pull_secret(dev: Recording) -> None:
    assert children(dev, "mlops:pipeline:AirflowNamespace", "airflow-namespace") == [
        "Namespace airflow-namespace", "NetworkPolicy airflow-namespace-allow-airflow-traffic",
        "NetworkPolicy airflow-namespace-allow-api-egress", "NetworkPolicy airflow-namespace-allow-dns-egress",
        "NetworkPolicy airflow-namespace-allow-serving-egress", "NetworkPolicy airflow-namespace-default-deny",
        "Secret airflow-namespace-pull",
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_release_goes_through_the_clusters_provider_after_the_namespace_and_its_account(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    registered = release(recording)
    serving = recording.get("kubernetes:apps/v1:Deployment", "serving-iris-deployment")
    assert registered.provider == serving.provider
    # A pod started before the NetworkPolicies has no DNS and no database; depending on the namespace's
    # component is depending on each of its objects.
    namespace = recording.children_of(recording.get("mlops:pipeline:AirflowNamespace", "airflow-namespace"))
    first = {r.urn for r in namespace} | {recording.named("airflow-sa").urn, recording.named("airflow-database-egress").urn}
    assert first <= set(registered.dependencies)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_databases_objects_in_the_namespace_wait_for_it(request: pytest.FixtureRequest, stack: str) -> None:
    # Their namespace is the Namespace's output; Cloud SQL's own resources need not wait for it.
    recording: Recording = request.getfixturevalue(stack)
    namespace = recording.get("kubernetes:core/v1:Namespace", "airflow-namespace").urn
    database = next(r for r in recording.resources if r.name == "airflow-database" and not r.custom)
    children = recording.children_of(database)
    kubernetes = [r for r in children if r.type.startswith("kubernetes:")]
    assert kubernetes and all(namespace in r.dependencies for r in kubernetes)
    assert [r.name for r in children if r.type.startswith("gcp:") and namespace in r.dependencies] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_airflows_own_objects_are_among_those_the_schema_and_checkov_checks_read(request: pytest.FixtureRequest, stack: str) -> None:
    # tests/test_kubernetes_checks.py validates and scans every object manifests() returns; the release is Helm's.
    recording: Recording = request.getfixturevalue(stack)
    namespace = recording.outputs["airflowNamespace"]
    found = {(m["kind"], m["metadata"]["name"]) for m in manifests(recording) if m["metadata"].get("namespace") == namespace}
    assert {("ServiceAccount", "airflow"), ("NetworkPolicy", "default-deny"), ("Secret", "airflow-jwt-secret")} <= found
    # The release is no Kubernetes object: it is left out, not checked as one missing its apiVersion and kind.
    assert all({"apiVersion", "kind"} <= set(m) for m in manifests(recording))
    assert release(recording).type == RELEASE


def test_the_components_record_their_outputs(dev: Recording) -> None:
    assert dev.outputs_of("mlops:pipeline:AirflowPipeline", "airflow") == {"apiCommand": dev.outputs["airflowApiCommand"]}
    assert dev.outputs_of("mlops:pipeline:AirflowNamespace", "airflow-namespace") == {"name": "mlops-dev-airflow"}
