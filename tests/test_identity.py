"""The workload identity is an input: serving takes any implementation without changing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.config import ServeConfig
from components.identity import PodAccess, projected_token_volume
from components.serving import ModelServing, ModelServingArgs
from components.pods import Placement
from offline.engine import MOCK_SECRET_ACCESS_KEY, Recording, RecordingMocks, RecordingMonitor
from tests.manifests import container, manifest, manifests, pod_spec

ROLE = "arn:aws:iam::123456789012:role/model-server"


class WebIdentities:
    """Shaped like the cloud identities to come (IRSA, GKE federation): no Secret, a role."""

    def __init__(self) -> None:
        self.policies: list[Mapping[str, Any]] = []

    def grant(
        self,
        name: str,
        *,
        namespace: pulumi.Input[str],
        service_account: str,
        policy: Mapping[str, Any],
        parent: pulumi.Resource,
        tags: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> PodAccess:
        self.policies.append(policy)
        return PodAccess(
            service_account_annotations={"eks.amazonaws.com/role-arn": ROLE},
            env=[k8s.core.v1.EnvVarArgs(name="AWS_ROLE_ARN", value=ROLE)],
            volumes=[],
            volume_mounts=[],
            mount_service_account_token=True,
        )


def serve_with(identities: WebIdentities) -> Recording:
    pulumi.runtime.settings.ROOT.set(None)
    mocks = RecordingMocks(region="us-east-1")
    pulumi.runtime.set_mocks(mocks, project="mlops", stack="test", preview=False, monitor=RecordingMonitor(mocks))

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        serving = ModelServing(
            "serving",
            ModelServingArgs(
                project="iris",
                serve=ServeConfig(),
                image_ref="registry.example/serve@sha256:" + "0" * 64,
                highly_available=False,
                placement=Placement(
                    namespace="mlops-test",
                    instance="mlops-test",
                    image_pull_secret="registry-pull",
                    identities=identities,
                    kubectl="kubectl",
                    region="us-east-1",
                    bucket_name="bucket",
                    bucket_arn="arn:aws:s3:::bucket",
                    bucket_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
                ),
            ),
        )
        return serving.endpoint

    program()
    return mocks.recording


def test_serving_takes_a_cloud_identity_without_a_secret() -> None:
    identities = WebIdentities()
    run = serve_with(identities)
    account = manifest(run, "ServiceAccount", "iris-server")
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    assert account["automountServiceAccountToken"] is True
    assert pod_spec(manifest(run, "Deployment", "iris-server"))["automountServiceAccountToken"] is True
    assert {"name": "AWS_ROLE_ARN", "value": ROLE} in container(manifest(run, "Deployment", "iris-server"))["env"]
    assert [m for m in manifests(run) if m["kind"] == "Secret"] == []
    assert len(identities.policies) == 1, "serving asks for one identity, with its read-only policy"


# --- AccessKeyIdentities, as the dev stack registers them -------------------------------------

USER = "aws:iam/user:User"
BOUNDARY = "arn:aws:iam::123456789012:policy/mlops/mlops-workload-boundary"


def test_each_workload_user_is_under_the_mlops_path_with_the_workload_boundary(dev: Recording) -> None:
    # The deployer policy may create users only under /mlops/ and only with this boundary: without
    # either, `pulumi up` is refused on the real account.
    user = dev.get(USER, "serving-iris-identity-user").inputs
    assert (user["name"], user["path"], user["permissionsBoundary"]) == ("mlops-dev-iris-server", "/mlops/", BOUNDARY)


def test_a_workload_user_is_destroyed_even_with_a_key_made_by_hand(dev: Recording) -> None:
    # Without force_destroy, `pulumi destroy` fails with DeleteConflict once someone adds a key in the console.
    assert dev.get(USER, "serving-iris-identity-user").inputs["forceDestroy"] is True


@pytest.mark.parametrize(
    ("stack", "users"),
    [
        # Airflow's own, and the renewer of its namespace's pull secret, beside the workloads'.
        ("dev", ["mlops-dev-renew-pull-secret", "mlops-dev-iris-server", "mlops-dev-alertmanager-sns", "mlops-dev-airflow",
                 "mlops-dev-renew-airflow-pull-secret"]),
        (
            "dev_cluster_training",
            ["mlops-dev-renew-pull-secret", "mlops-dev-iris-server", "mlops-dev-iris-train", "mlops-dev-alertmanager-sns",
             "mlops-dev-airflow", "mlops-dev-renew-airflow-pull-secret"],
        ),
        ("prod_on_aws", ["mlops-prod-renew-pull-secret", "mlops-prod-iris-server", "mlops-prod-alertmanager-sns",
                         "mlops-prod-airflow", "mlops-prod-renew-airflow-pull-secret"]),
    ],
)
def test_workload_user_names_are_unique_per_stack(request: pytest.FixtureRequest, stack: str, users: list[str]) -> None:
    # IAM user names are account-wide: dev and prod in one account must not claim the same user.
    run: Recording = request.getfixturevalue(stack)
    assert sorted(r.inputs["name"] for r in run.of_type(USER)) == sorted(users)


def test_the_policy_and_the_key_belong_to_the_workloads_own_user(dev: Recording) -> None:
    # A key or policy on another user would give the pod that user's rights.
    assert dev.named("serving-iris-identity-policy").inputs["user"] == "mlops-dev-iris-server"
    assert dev.named("serving-iris-identity-key").inputs["user"] == "mlops-dev-iris-server"


def test_the_credentials_secret_holds_a_boto3_credentials_file(dev: Recording) -> None:
    # The exact INI form boto3 reads from AWS_SHARED_CREDENTIALS_FILE; another layout is no credentials.
    key = dev.named("serving-iris-identity-key")
    secret = manifest(dev, "Secret", "serving-iris-identity-aws")
    assert (secret["metadata"]["namespace"], secret["type"]) == ("mlops-dev", "Opaque")
    assert secret["stringData"] == {
        "credentials": f"[default]\naws_access_key_id = {key.id}\naws_secret_access_key = {MOCK_SECRET_ACCESS_KEY}\n"
    }


def test_identity_resources_are_children_of_their_identity_component(dev: Recording) -> None:
    # A parent change is a URN change: Pulumi would replace the user, and with it the key pods use.
    component = dev.get("mlops:identity:AccessKeyIdentity", "serving-iris-identity")
    assert component.parent == dev.get("mlops:serving:ModelServing", "serving-iris").urn
    assert {(r.type, r.name) for r in dev.children_of(component)} == {
        (USER, "serving-iris-identity-user"),
        ("aws:iam/userPolicy:UserPolicy", "serving-iris-identity-policy"),
        ("aws:iam/accessKey:AccessKey", "serving-iris-identity-key"),
        ("kubernetes:core/v1:Secret", "serving-iris-identity-credentials"),
    }


def test_an_access_key_reaches_the_pod_as_a_0440_read_only_file_boto3_finds(dev: Recording) -> None:
    # What AccessKeyIdentities hands a pod: the Secret as a file (not env, which leaks into
    # `kubectl describe`), readable by the image's group only, and the two variables boto3 needs.
    spec = pod_spec(manifest(dev, "Deployment", "iris-server"))
    assert spec["volumes"][1:] == [{"name": "aws-credentials", "secret": {"secretName": "serving-iris-identity-aws", "defaultMode": 0o440}}]
    server = container(manifest(dev, "Deployment", "iris-server"))
    assert server["volumeMounts"][1:] == [{"name": "aws-credentials", "mountPath": "/var/run/secrets/mlops/aws", "readOnly": True}]
    assert server["env"][-2:] == [
        {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/var/run/secrets/mlops/aws/credentials"},
        {"name": "AWS_DEFAULT_REGION", "value": "us-east-1"},
    ]
    assert spec["automountServiceAccountToken"] is False
    assert "annotations" not in manifest(dev, "ServiceAccount", "iris-server")["metadata"]


# --- projected_token_volume: a ServiceAccount token as a file -------------------------------


def test_a_projected_token_is_a_0440_file_named_token_for_the_audience_asked() -> None:
    volume = projected_token_volume("sts-token", expiration_seconds=3600, audience="sts.amazonaws.com")
    projected = pulumi.get(volume, "projected")
    [source] = pulumi.get(projected, "sources")
    token = pulumi.get(source, "service_account_token")
    assert (pulumi.get(volume, "name"), pulumi.get(projected, "default_mode")) == ("sts-token", 0o440)
    assert (pulumi.get(token, "path"), pulumi.get(token, "expiration_seconds"), pulumi.get(token, "audience")) == (
        "token",
        3600,
        "sts.amazonaws.com",
    )


def test_a_projected_token_without_an_audience_is_the_api_servers_with_its_other_sources_after_it() -> None:
    ca = k8s.core.v1.VolumeProjectionArgs(config_map=k8s.core.v1.ConfigMapProjectionArgs(name="kube-root-ca.crt"))
    volume = projected_token_volume("api", expiration_seconds=600, also=[ca])
    [token, other] = pulumi.get(pulumi.get(volume, "projected"), "sources")
    assert pulumi.get(pulumi.get(token, "service_account_token"), "audience") is None
    assert other is ca
