"""The nodes' service account (components/gke/node_identity.py): its roles, its image reads, its id."""

from __future__ import annotations

from offline.engine import Recording
from tests.gke.support import CLOUD_PLATFORM, PROJECT, PROJECT_MEMBER, REPOSITORY_MEMBER, cluster, node_account, pool


def test_nodes_run_as_their_dedicated_service_account(prod: Recording) -> None:
    email = node_account(prod).state["email"]
    assert email == f"mlops-prod-nodes@{PROJECT}.iam.gserviceaccount.com"
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeConfig"]["serviceAccount"] == email, name
    assert cluster(prod)["nodeConfig"]["serviceAccount"] == email, "the short-lived default pool too"


def test_node_service_account_has_the_default_node_role_on_the_project(prod: Recording) -> None:
    # Google's documented minimum for a node service account; without it nodes ship no logs
    # or metrics, and GKE flags the cluster's node identity as misconfigured.
    [grant] = prod.of_type(PROJECT_MEMBER)
    assert (grant.inputs["project"], grant.inputs["role"], grant.inputs["member"]) == (
        PROJECT,
        "roles/container.defaultNodeServiceAccount",
        f"serviceAccount:mlops-prod-nodes@{PROJECT}.iam.gserviceaccount.com",
    )


def test_node_service_account_has_exactly_the_node_role_and_image_reads(prod: Recording) -> None:
    member = f"serviceAccount:{node_account(prod).state['email']}"
    grants = [r.inputs for r in prod.resources if r.type in (PROJECT_MEMBER, REPOSITORY_MEMBER) and r.inputs["member"] == member]
    assert sorted(g["role"] for g in grants) == [
        "roles/artifactregistry.reader",
        "roles/container.defaultNodeServiceAccount",
    ]


def test_nodes_read_only_the_release_repository(prod: Recording) -> None:
    [grant] = prod.of_type(REPOSITORY_MEMBER)
    release = prod.get("gcp:artifactregistry/repository:Repository", "registry-images")
    assert grant.inputs["repository"] == release.id == f"projects/{PROJECT}/locations/us-central1/repositories/mlops-prod"


def test_nodes_have_the_one_cloud_platform_scope(prod: Recording) -> None:
    # Scopes and IAM both gate a node's calls: with the one broad scope the minimal node account alone
    # decides (Google's advice); a narrow list silently denies calls its roles allow (autoscaler metrics).
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeConfig"]["oauthScopes"] == CLOUD_PLATFORM, name
    assert cluster(prod)["nodeConfig"]["oauthScopes"] == CLOUD_PLATFORM


def test_node_service_account_is_named_for_the_stack(prod: Recording) -> None:
    assert node_account(prod).inputs == {
        "accountId": "mlops-prod-nodes",
        "displayName": "GKE nodes of mlops-prod: logs, metrics, image pulls",
        "project": PROJECT,
    }


def test_a_long_stack_name_still_makes_a_valid_service_account_id(long_stack: Recording) -> None:
    # IAM takes 6-30 characters, no trailing hyphen: cut to 30, "mlops-prod-europe-west4-abcde-" would be refused.
    assert node_account(long_stack).inputs["accountId"] == "mlops-prod-europe-west4-abcde"


def test_nodes_pull_from_the_release_repository_in_its_region(prod: Recording) -> None:
    assert prod.one(REPOSITORY_MEMBER).inputs == {
        "project": PROJECT,
        "location": "us-central1",
        "repository": f"projects/{PROJECT}/locations/us-central1/repositories/mlops-prod",
        "role": "roles/artifactregistry.reader",
        "member": f"serviceAccount:mlops-prod-nodes@{PROJECT}.iam.gserviceaccount.com",
    }
