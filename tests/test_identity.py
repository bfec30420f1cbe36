"""The workload identity is an input: serving takes any implementation without changing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import ServingConfig
from components.identity import PodAccess
from components.serving import ModelServing, ModelServingArgs
from components.pods import Placement
from offline.engine import Recording, RecordingMocks, RecordingMonitor
from tests.manifests import container, manifest, manifests, pod_spec

ROLE = "arn:aws:iam::123456789012:role/model-server"


class WebIdentities:
    """Shaped like the cloud identities to come (IRSA, GKE federation): no Secret, a role."""

    def __init__(self) -> None:
        self.policies: list[Mapping[str, Any]] = []

    def grant(
        self, name: str, *, namespace: pulumi.Input[str], service_account: str, policy: Mapping[str, Any], parent: pulumi.Resource
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
                serving=ServingConfig(),
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
    account = manifest(run, "ServiceAccount", "model-server")
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE}
    assert account["automountServiceAccountToken"] is True
    assert pod_spec(manifest(run, "Deployment", "model-server"))["automountServiceAccountToken"] is True
    assert {"name": "AWS_ROLE_ARN", "value": ROLE} in container(manifest(run, "Deployment", "model-server"))["env"]
    assert [m for m in manifests(run) if m["kind"] == "Secret"] == []
    assert len(identities.policies) == 1, "serving asks for one identity, with its read-only policy"
