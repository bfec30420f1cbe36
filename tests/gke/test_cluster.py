"""prod's GKE cluster as one component (components/gke/cluster.py): its children, labels, outputs and API rules."""

from __future__ import annotations

import json

import pytest

from offline.engine import Recording
from tests import gke_api_rules
from tests.manifests import manifests
from tests.gke.support import DEV_LABELS, GKE_COMPONENT, KUBECONFIG_CONTEXT, PROJECT, STACK_LABELS, cluster, pool


@pytest.fixture(scope="module")
def component_outputs(prod: Recording) -> dict[tuple[str, str], list[str]]:
    """The output names each of prod's components registers (shown in its state)."""
    by_urn = {r.urn: r for r in prod.resources}
    return {(by_urn[urn].type, by_urn[urn].name): sorted(outputs) for urn, outputs in prod.component_outputs.items()}


def test_cluster_outputs_name_and_issuer(prod: Recording) -> None:
    assert prod.outputs["clusterName"] == "mlops-prod"
    assert prod.outputs["clusterIssuer"] == (
        f"https://container.googleapis.com/v1/projects/{PROJECT}/locations/us-central1-a/clusters/mlops-prod"
    )


def test_google_cloud_resources_carry_the_stack_labels(prod: Recording) -> None:
    [provider] = prod.of_type("pulumi:providers:gcp")
    labels = json.loads(provider.inputs["defaultLabels"]) if isinstance(provider.inputs["defaultLabels"], str) else provider.inputs["defaultLabels"]
    assert labels == {"project": "mlops", "stack": "prod", "environment": "prod", "managed-by": "pulumi"}
    assert provider.inputs["project"] == PROJECT
    gcp = [r.name for r in prod.resources if r.type.startswith("gcp:") and not r.provider.startswith(provider.urn)]
    assert gcp == [], "every Google Cloud resource goes through the labelling provider"


def test_dev_stays_on_aws(dev: Recording) -> None:
    assert not [r.type for r in dev.resources if r.type.startswith(("gcp:", "pulumi:providers:gcp"))]


def test_gke_resources_belong_to_the_cluster_component(prod: Recording) -> None:
    # Outside the component their URNs change: pulumi would delete and recreate the network and cluster.
    component = prod.get(GKE_COMPONENT, "gke")
    children = sorted(r.name for r in prod.children_of(component))
    assert children == [
        "gke", "gke-cpu", "gke-gpu", "gke-k8s", "gke-nat", "gke-network", "gke-nodes",
        "gke-nodes-container-defaultNodeServiceAccount", "gke-nodes-pull-images", "gke-router", "gke-subnet",
    ]


def test_nodes_and_cluster_carry_the_stack_labels(prod: Recording, dev_on_gke: Recording) -> None:
    # Billing exports group the GKE cost by these labels.
    for recording, labels in ((prod, STACK_LABELS), (dev_on_gke, DEV_LABELS)):
        assert cluster(recording)["resourceLabels"] == labels
        for name in ("cpu", "gpu"):
            assert pool(recording, name).inputs["nodeConfig"]["resourceLabels"] == labels, name


def test_prod_is_accepted_by_the_gke_api_rules(prod: Recording) -> None:
    assert gke_api_rules.problems(prod) == []


def test_other_configs_are_accepted_by_the_gke_api_rules(prod_variant: Recording, dev_on_gke: Recording, long_stack: Recording) -> None:
    assert gke_api_rules.problems(prod_variant) + gke_api_rules.problems(dev_on_gke) + gke_api_rules.problems(long_stack) == []


def test_components_keep_their_type_tokens(prod: Recording) -> None:
    # The type is part of every child's URN: a new token replaces the cluster, the network and the roles.
    names = {(r.type, r.name) for r in prod.resources if r.type.startswith("mlops:") and not r.custom}
    assert {
        ("mlops:gke:GkeCluster", "gke"),
        ("mlops:identity:WebIdentityProvider", "gke-identity"),
        ("mlops:identity:WebIdentityRole", "serving-iris-identity"),
        ("mlops:identity:WebIdentityRole", "training-iris-identity"),
    } <= names


def test_components_register_their_outputs(component_outputs: dict[tuple[str, str], list[str]]) -> None:
    # What `pulumi stack export` and the console show under each component: a rename changes the state.
    assert component_outputs[("mlops:gke:GkeCluster", "gke")] == ["dnsEndpoint", "endpoint", "issuerUrl", "kubeconfig", "name", "network"]
    assert component_outputs[("mlops:identity:WebIdentityProvider", "gke-identity")] == ["arn"]
    assert component_outputs[("mlops:identity:WebIdentityRole", "serving-iris-identity")] == ["roleArn"]


def test_the_clusters_network_is_what_a_managed_database_peers_with(prod: Recording) -> None:
    network = prod.get("gcp:compute/network:Network", "gke-network")
    assert prod.outputs_of("mlops:gke:GkeCluster", "gke")["network"] == network.id == f"projects/{PROJECT}/global/networks/mlops-prod"


def test_google_cloud_provider_defaults_to_the_gke_project_and_region(prod: Recording) -> None:
    # A Google Cloud resource that names no project or region falls back to these.
    [provider] = prod.of_type("pulumi:providers:gcp")
    assert (provider.inputs["project"], provider.inputs["region"]) == (PROJECT, "us-central1")


def cronjob_pod_deadline(recording: Recording) -> int:
    [cronjob] = [m for m in manifests(recording) if m["kind"] == "CronJob"]
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["activeDeadlineSeconds"]


def test_a_training_attempt_waits_for_a_gpu_node_only_when_the_pool_starts_at_zero(prod: Recording, prod_variant: Recording) -> None:
    # minNodes 0: the first 15 minutes go to starting a GPU node, so the 120-minute run gets them on
    # top; with a node always there (minNodes 1) a hung run would hold the GPU 15 minutes longer.
    assert cronjob_pod_deadline(prod) == 120 * 60 + 15 * 60
    assert cronjob_pod_deadline(prod_variant) == 120 * 60


def test_commands_in_the_outputs_name_the_gke_context(prod: Recording) -> None:
    # Without --context they act on whatever cluster the laptop last used.
    assert prod.outputs["airflowApiCommand"] == (
        f"kubectl --context {KUBECONFIG_CONTEXT} port-forward -n mlops-prod-airflow service/airflow-api-server 8080:8080"
    )
