"""How a pod on Kubernetes reaches AWS: one identity per workload, with only what it needs.

Workloads take a `WorkloadIdentities` and ask it for a grant; what they get back
(`PodAccess`) is all a pod needs: ServiceAccount annotations, env, volumes and mounts, and
whether the ServiceAccount token is mounted. Which implementation a stack gets is decided
once, with the cluster (components/clusters.py):

- `AccessKeyIdentities` (a kubeconfig cluster, dev only): a least-privilege IAM user per
  workload, its access key in a Kubernetes Secret mounted as an AWS credentials file;
- `PodIdentityIdentities` on EKS (components/pod_identity.py) and `WebIdentityIdentities` from
  GKE (components/web_identity.py) come with those clusters: a role trusted by the
  ServiceAccount, no Secret. Callers do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import IAM_PATH, workload_boundary_arn

CREDENTIALS_DIR = "/var/run/secrets/mlops/aws"
CREDENTIALS_FILE = f"{CREDENTIALS_DIR}/credentials"


@dataclass(frozen=True)
class PodAccess:
    """What a pod needs to act as its workload's cloud identity."""

    service_account_annotations: Mapping[str, pulumi.Input[str]]
    env: Sequence[k8s.core.v1.EnvVarArgs]
    volumes: Sequence[k8s.core.v1.VolumeArgs]
    volume_mounts: Sequence[k8s.core.v1.VolumeMountArgs]
    mount_service_account_token: bool
    """Only an identity that trades the ServiceAccount token for cloud credentials needs it."""
    ready: Sequence[pulumi.Resource] = ()
    """What must exist before a pod of the ServiceAccount starts (EKS adds Pod Identity's credentials
    to a pod only if its association exists when the pod is admitted)."""


def projected_token_volume(
    name: str,
    *,
    expiration_seconds: int,
    audience: str | None = None,
    also: Sequence[k8s.core.v1.VolumeProjectionArgs] = (),
) -> k8s.core.v1.VolumeArgs:
    """A ServiceAccount token as the file `token`, expiring in `expiration_seconds`, for `audience`
    (the API server's when None), with `also` beside it.

    0440: readable by the image's user through fsGroup, by no one else.
    """
    token = k8s.core.v1.ServiceAccountTokenProjectionArgs(
        path="token", expiration_seconds=expiration_seconds, audience=audience
    )
    return k8s.core.v1.VolumeArgs(
        name=name,
        projected=k8s.core.v1.ProjectedVolumeSourceArgs(
            default_mode=0o440,
            sources=[k8s.core.v1.VolumeProjectionArgs(service_account_token=token), *also],
        ),
    )


class WorkloadIdentities(Protocol):
    """Makes a cloud identity for one workload's ServiceAccount, allowed exactly `policy`.

    `tags` go on the cloud resources it makes, `labels` on any Kubernetes object it makes; they are
    the workload's pod selector, so an identity may also admit those pods' traffic to a credentials
    agent on the node (Pod Identity's).
    """

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
    ) -> PodAccess: ...


class AccessKeyIdentities:
    """kubeconfig clusters (dev only): an IAM user and a static access key per workload.

    A cluster that is not ours has no identity AWS can trust, so the key is the credential.
    It is a Pulumi secret in state, and it reaches the pod as a file from a Kubernetes
    Secret (AWS_SHARED_CREDENTIALS_FILE), not as env values: env leaks into `kubectl
    describe`, crash dumps and child processes, and the file is what boto3 reads anyway.
    """

    def __init__(self, *, name_prefix: str, region: str) -> None:
        self.name_prefix = name_prefix
        self.region = region

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
        identity = AccessKeyIdentity(
            name,
            user_name=f"{self.name_prefix}-{service_account}",
            namespace=namespace,
            policy=policy,
            tags=tags,
            labels=labels,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return PodAccess(
            service_account_annotations={},
            env=[
                k8s.core.v1.EnvVarArgs(name="AWS_SHARED_CREDENTIALS_FILE", value=CREDENTIALS_FILE),
                # botocore takes the client region from AWS_DEFAULT_REGION (not AWS_REGION).
                k8s.core.v1.EnvVarArgs(name="AWS_DEFAULT_REGION", value=self.region),
            ],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="aws-credentials",
                    secret=k8s.core.v1.SecretVolumeSourceArgs(
                        secret_name=identity.secret_name,
                        default_mode=0o440,  # owner root, group fsGroup (the image's uid)
                    ),
                )
            ],
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="aws-credentials", mount_path=CREDENTIALS_DIR, read_only=True)
            ],
            mount_service_account_token=False,
        )


SecretLayout = Callable[[pulumi.Output[str], pulumi.Output[str]], Mapping[str, pulumi.Output[str]]]
"""How an access key (its id, its secret) is laid out in the Secret's keys, for whoever reads it."""


def credentials_file(key_id: pulumi.Output[str], secret: pulumi.Output[str]) -> Mapping[str, pulumi.Output[str]]:
    """One key, `credentials`: the INI file boto3 reads from AWS_SHARED_CREDENTIALS_FILE (a pod mounts it)."""
    return {
        "credentials": pulumi.Output.format(
            "[default]\naws_access_key_id = {0}\naws_secret_access_key = {1}\n", key_id, secret
        )
    }


class AccessKeyIdentity(pulumi.ComponentResource):
    """One workload's IAM user, its inline policy, its access key, and the Secret holding it
    (laid out as `layout` says: a credentials file by default)."""

    secret_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        user_name: str,
        namespace: pulumi.Input[str],
        policy: Mapping[str, Any],
        tags: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        layout: SecretLayout = credentials_file,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:identity:AccessKeyIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        user = aws.iam.User(
            f"{name}-user",
            name=user_name,
            path=IAM_PATH,
            permissions_boundary=workload_boundary_arn(pulumi.InvokeOutputOptions(parent=self)),
            # `pulumi destroy` removes the user even if it holds a key made outside Pulumi.
            force_destroy=True,
            tags=dict(tags) if tags else None,
            opts=child,
        )
        aws.iam.UserPolicy(
            f"{name}-policy",
            user=user.name,
            policy=pulumi.Output.json_dumps(policy),
            opts=child,
        )
        key = aws.iam.AccessKey(
            f"{name}-key",
            user=user.name,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret"]),
        )
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{name}-aws", namespace=namespace, labels=dict(labels) if labels else None),
            type="Opaque",
            string_data={item: pulumi.Output.secret(value) for item, value in layout(key.id, key.secret).items()},
            opts=child,
        )
        self.secret_name = secret.metadata.name
        self.register_outputs({"secretName": self.secret_name})
