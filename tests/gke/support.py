"""What the GKE tests share: the resource types, the stack variants, and finders for the cluster's parts."""

from __future__ import annotations

from typing import Any

from offline.engine import Recording, Registration

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
ROUTER = "gcp:compute/router:Router"
NAT = "gcp:compute/routerNat:RouterNat"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
REPOSITORY_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
K8S_PROVIDER = "pulumi:providers:kubernetes"
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
PROJECT = "mlops-prod-123456"

# dev with GKE, to compare what only prod gets.
DEV_ON_GKE = {
    "mlops:compute": {"kind": "gke"},
    "mlops:registry": {"kind": "artifact-registry"},
    "mlops:serving": {"cluster": "gke"},
    "mlops:gke": {"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]},
}

# prod with other choices wherever the GKE settings follow from config.
PROD_VARIANT = {
    "mlops:compute": {"spot": True, "machineType": "g2-standard-24", "minNodes": 1, "maxNodes": 3},
    "mlops:projects": {"iris": {"serve": {"cpu": 2, "minReplicas": 4, "maxReplicas": 8}}},
    "mlops:gke": {
        "releaseChannel": "STABLE",
        "zones": ["us-central1-a", "us-central1-b", "us-central1-c"],
        "authorizedNetworks": ["203.0.113.0/24", "198.51.100.0/24"],
    },
}
LONG_STACK = "prod-europe-west4-abcde"
"""A stack name that makes `mlops-<stack>-nodes` longer than a service account id may be."""


def cluster(recording: Recording) -> dict[str, Any]:
    return recording.one(CLUSTER).inputs


def pool(recording: Recording, name: str) -> Registration:
    return recording.get(NODE_POOL, f"gke-{name}")


def node_account(recording: Recording) -> Registration:
    return recording.get(SERVICE_ACCOUNT, "gke-nodes")


GKE_COMPONENT = "mlops:gke:GkeCluster"
STACK_LABELS = {"project": "mlops", "stack": "prod", "environment": "prod", "managed-by": "pulumi"}
DEV_LABELS = {**STACK_LABELS, "stack": "dev", "environment": "dev"}
CLOUD_PLATFORM = ["https://www.googleapis.com/auth/cloud-platform"]

KUBECONFIG_CONTEXT = f"gke_{PROJECT}_us-central1-a_mlops-prod"
EXPECTED_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [
        {
            "name": KUBECONFIG_CONTEXT,
            "cluster": {"server": "https://gke-0f1e2d3c4b5a69788796a5b4c3d2e1f0-123456789012.us-central1.gke.goog"},
        }
    ],
    "users": [
        {
            "name": KUBECONFIG_CONTEXT,
            "user": {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "command": "gke-gcloud-auth-plugin",
                    "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin "
                    "(see README, Prod on GKE)",
                    "provideClusterInfo": True,
                    "interactiveMode": "Never",
                }
            },
        }
    ],
    "contexts": [{"name": KUBECONFIG_CONTEXT, "context": {"cluster": KUBECONFIG_CONTEXT, "user": KUBECONFIG_CONTEXT}}],
    "current-context": KUBECONFIG_CONTEXT,
    "preferences": {},
}
