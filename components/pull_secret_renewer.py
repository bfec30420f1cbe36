"""Keeps dev's image pull Secret fresh on the cluster: an ECR token lasts 12 hours.

`pulumi up` writes the Secret once; this CronJob replaces its token every 6 hours, so a pod
placed on a new node can still pull a day after the last `up`. Its traps, and how each is met:
- its own image can't come from the private ECR, whose token may be the expired one: a
  public Python image, pinned by digest, running components/renew_pull_secret.py (stdlib);
- it may patch that one Secret and nothing else (a Role with resourceNames);
- its AWS identity may call `ecr:GetAuthorizationToken` and nothing else;
- Pulumi leaves the Secret's data alone (components/namespace.py), so neither `up` nor the
  drift check fights it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.pods import Placement, RestrictedContainer, labels, restricted_pod_spec, workload_identity
from components.identity import PodAccess, projected_token_volume
from components.network_policy import one_port_policy
from components.renew_pull_secret import TOKEN_DIR

NAME = "renew-pull-secret"
SCHEDULE = "23 */6 * * *"  # every 6 hours: a token is never more than 6 of its 12 hours old
# A run missed while the cluster was down (a laptop asleep) still runs within 5 hours of its
# slot, while the token it replaces may still be valid; later, the next slot comes sooner.
STARTING_DEADLINE_SECONDS = 5 * 60 * 60
RUN_DEADLINE_SECONDS = 10 * 60
# Docker Hub's python:3.11.14-slim-bookworm (the base of images/*), multi-architecture index
# digest as published; not from ECR, whose token is what may have expired.
IMAGE = "docker.io/library/python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d"
SCRIPT = Path(__file__).with_name("renew_pull_secret.py")
# kind's API server listens on 6443 behind the `kubernetes` Service's 443; the namespace
# already lets every pod out on 443 (components/namespace.py).
API_SERVER_PORT = 6443
KUBERNETES_API_VOLUME = "kubernetes-api"
TOKEN_SECONDS = 600  # the shortest a projected ServiceAccount token may live
CPU = "100m"  # a stdlib script's HTTP calls, four times a day
MEMORY = "128Mi"


def token_policy() -> dict[str, Any]:
    """GetAuthorizationToken only; it takes no resource (the token then reads what the key may)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "GetRegistryToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}],
    }


@dataclass(frozen=True)
class PullSecretRenewerArgs:
    placement: Placement
    secret_name: pulumi.Input[str]
    """The namespace's image pull Secret (`registry-pull`)."""
    registry_address: pulumi.Input[str]
    """The registry host pods pull from, as the Secret names it."""
    name: str = NAME
    """Its ServiceAccount, CronJob, Role and NetworkPolicy, and its IAM user's name after the stack's
    prefix: a second renewer (another namespace's) needs another, as IAM user names are per account."""


class PullSecretRenewer(pulumi.ComponentResource):
    """A CronJob with its own ServiceAccount, Role and AWS key that renews the pull Secret."""

    def __init__(self, name: str, args: PullSecretRenewerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:kubernetes:PullSecretRenewer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args.placement.namespace
        selector = labels(args.name, instance=args.placement.instance)
        metadata = k8s.meta.v1.ObjectMetaArgs(name=args.name, namespace=namespace, labels=selector)

        key, account = workload_identity(
            name, placement=args.placement, service_account=args.name, policy=token_policy(), selector=selector, parent=self
        )
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=metadata,
            # `patch` is all the script does; resourceNames pins it to the one Secret.
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""], resources=["secrets"], resource_names=[args.secret_name], verbs=["patch"]
                )
            ],
            opts=child,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=metadata,
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=account.metadata.name, namespace=namespace)],
            opts=child,
        )
        one_port_policy(
            f"{name}-api-egress",
            name=f"{args.name}-api-egress",
            namespace=namespace,
            selector=selector,
            direction="Egress",
            port=API_SERVER_PORT,
            opts=child,
        )
        container = RestrictedContainer(
            name="renew",
            image=IMAGE,
            cpu=CPU,
            memory=MEMORY,
            args=["python3", "-c", SCRIPT.read_text()],
            env=[
                k8s.core.v1.EnvVarArgs(name="NAMESPACE", value=namespace),
                k8s.core.v1.EnvVarArgs(name="PULL_SECRET", value=args.secret_name),
                k8s.core.v1.EnvVarArgs(name="REGISTRY", value=args.registry_address),
            ],
        )
        k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=metadata,
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=SCHEDULE,
                time_zone="Etc/UTC",
                concurrency_policy="Forbid",
                starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
                successful_jobs_history_limit=1,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=selector),
                    spec=k8s.batch.v1.JobSpecArgs(
                        backoff_limit=3,  # ECR or the API server briefly unreachable
                        active_deadline_seconds=RUN_DEADLINE_SECONDS,
                        template=k8s.core.v1.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(labels=selector),
                            spec=restricted_pod_spec(
                                container,
                                service_account_name=account.metadata.name,
                                access=with_kubernetes_api(key),
                                image_pull_secret=None,  # a public image
                                restart_policy="Never",
                            ),
                        ),
                    ),
                ),
            ),
            opts=child,
        )
        self.register_outputs({})


def with_kubernetes_api(access: PodAccess) -> PodAccess:
    """`access` plus a short-lived ServiceAccount token and the cluster CA, as a projected volume.

    The pod keeps `automountServiceAccountToken: false`: only this container gets a token,
    one that expires in 10 minutes (the kubelet renews it while the pod runs).
    """
    api = projected_token_volume(
        KUBERNETES_API_VOLUME,
        expiration_seconds=TOKEN_SECONDS,
        also=[
            k8s.core.v1.VolumeProjectionArgs(
                config_map=k8s.core.v1.ConfigMapProjectionArgs(
                    name="kube-root-ca.crt", items=[k8s.core.v1.KeyToPathArgs(key="ca.crt", path="ca.crt")]
                )
            )
        ],
    )
    mount = k8s.core.v1.VolumeMountArgs(name=KUBERNETES_API_VOLUME, mount_path=TOKEN_DIR, read_only=True)
    return PodAccess(
        service_account_annotations=access.service_account_annotations,
        env=access.env,
        volumes=[*access.volumes, api],
        volume_mounts=[*access.volume_mounts, mount],
        mount_service_account_token=False,
    )
