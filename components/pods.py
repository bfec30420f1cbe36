"""What every pod the platform runs on Kubernetes shares: labels, and "restricted" pod security.

Serving and training both build their pod spec with `restricted_pod_spec`, so the security
contexts, the writable `/tmp`, the GPU limit and toleration, the credential mounts and the
image pull secret are decided here, once, and a test on one workload holds for the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from components.identity import PodAccess, WorkloadIdentities

PART_OF = "mlops"
# The images run as this uid (images/*/Dockerfile: USER 10001).
IMAGE_UID = 10001
GPU_RESOURCE = "nvidia.com/gpu"
TMP_VOLUME = "tmp"


def labels(component: str, *, instance: str) -> dict[str, str]:
    """The recommended labels of a workload: also its selector, so they never change.

    A Deployment's selector is immutable: changing any of these values replaces the
    Deployment. Nothing that changes per release (a version, an image tag) belongs here.
    """
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/part-of": PART_OF,
    }


@dataclass(frozen=True)
class Placement:
    """Where a workload runs on the cluster and what it may reach: the same for serving and training."""

    namespace: pulumi.Input[str]
    instance: str
    """The `app.kubernetes.io/instance` label: the namespace name, e.g. `mlops-dev`."""
    image_pull_secret: pulumi.Input[str] | None
    """The namespace's image pull secret; None where the nodes pull with their own identity."""
    identities: WorkloadIdentities
    """Makes each workload's own cloud identity, allowed only what its policy says."""
    kubectl: str
    """`kubectl` with any `--context`, for the commands in the outputs."""
    region: str
    """The bucket's region (its KMS key is used through S3 in this region only)."""
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    bucket_kms_key_arn: pulumi.Input[str]

    @property
    def bucket_scope(self) -> BucketScope:
        """The bucket, its key and their region, as the policies of components/iam.py take them."""
        return BucketScope(bucket_arn=self.bucket_arn, kms_key_arn=self.bucket_kms_key_arn, region=self.region)


class BucketScope(TypedDict):
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    region: str


def workload_identity(
    name: str,
    *,
    placement: Placement,
    service_account: str,
    policy: Mapping[str, Any],
    selector: Mapping[str, str],
    parent: pulumi.Resource,
    tags: Mapping[str, str] | None = None,
) -> tuple[PodAccess, k8s.core.v1.ServiceAccount]:
    """A workload's own cloud identity, allowed exactly `policy`, and the ServiceAccount it is tied to."""
    access = placement.identities.grant(
        f"{name}-identity",
        namespace=placement.namespace,
        service_account=service_account,
        policy=policy,
        parent=parent,
        tags=tags,
        labels=selector,
    )
    account = k8s.core.v1.ServiceAccount(
        f"{name}-sa",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=service_account,
            namespace=placement.namespace,
            labels=selector,
            annotations=dict(access.service_account_annotations) or None,
        ),
        automount_service_account_token=access.mount_service_account_token,
        # The workload's pods name this account: they start after what the identity needs first.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(access.ready)),
    )
    return access, account


@dataclass(frozen=True)
class RestrictedContainer:
    """The parts of the one container that differ between workloads."""

    name: str
    image: pulumi.Input[str]
    cpu: str
    """CPU request and limit, e.g. "1"; equal, so the pod is never throttled below its request."""
    memory: str
    """Memory request and limit, e.g. "1Gi"."""
    gpus: int = 0
    args: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    env: Sequence[k8s.core.v1.EnvVarArgs] = ()
    ports: Sequence[k8s.core.v1.ContainerPortArgs] | None = None
    startup_probe: k8s.core.v1.ProbeArgs | None = None
    readiness_probe: k8s.core.v1.ProbeArgs | None = None
    liveness_probe: k8s.core.v1.ProbeArgs | None = None
    lifecycle: k8s.core.v1.LifecycleArgs | None = None


def restricted_pod_spec(
    container: RestrictedContainer,
    *,
    service_account_name: pulumi.Input[str],
    access: PodAccess,
    image_pull_secret: pulumi.Input[str] | None,
    restart_policy: str | None = None,
    active_deadline_seconds: int | None = None,
    termination_grace_period_seconds: int | None = None,
    topology_spread_constraints: Sequence[k8s.core.v1.TopologySpreadConstraintArgs] | None = None,
) -> k8s.core.v1.PodSpecArgs:
    """A pod spec that meets the Pod Security Standards "restricted" profile.

    Non-root with the image's uid, no privilege escalation, every capability dropped, the
    runtime's default seccomp profile, a read-only root filesystem with an emptyDir on
    `/tmp` (the server keeps its multiprocess metrics there; libraries put temp files
    there), and no service account token unless the identity needs one. With `gpus > 0`
    the container asks for that many NVIDIA GPUs and tolerates the GPU nodes' taint.
    """
    limits: dict[str, str] = {"cpu": container.cpu, "memory": container.memory}
    tolerations: list[k8s.core.v1.TolerationArgs] | None = None
    if container.gpus > 0:
        limits[GPU_RESOURCE] = str(container.gpus)
        # GPU node pools (GKE, EKS, the NVIDIA GPU operator) taint their nodes with this key.
        tolerations = [k8s.core.v1.TolerationArgs(key=GPU_RESOURCE, operator="Exists", effect="NoSchedule")]
    main = k8s.core.v1.ContainerArgs(
        name=container.name,
        image=container.image,
        # Pinned by digest, so the node's copy is the same image; IfNotPresent also lets a
        # restarted pod start after the registry token in the pull secret has expired.
        image_pull_policy="IfNotPresent",
        args=container.args,
        env=[*container.env, *access.env] or None,
        ports=list(container.ports) if container.ports else None,
        resources=k8s.core.v1.ResourceRequirementsArgs(requests=dict(limits), limits=limits),
        startup_probe=container.startup_probe,
        readiness_probe=container.readiness_probe,
        liveness_probe=container.liveness_probe,
        lifecycle=container.lifecycle,
        security_context=k8s.core.v1.SecurityContextArgs(
            run_as_non_root=True,
            run_as_user=IMAGE_UID,
            run_as_group=IMAGE_UID,
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name=TMP_VOLUME, mount_path="/tmp"),
            *access.volume_mounts,
        ],
    )
    return k8s.core.v1.PodSpecArgs(
        service_account_name=service_account_name,
        automount_service_account_token=access.mount_service_account_token,
        image_pull_secrets=[k8s.core.v1.LocalObjectReferenceArgs(name=image_pull_secret)] if image_pull_secret else None,
        security_context=k8s.core.v1.PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=IMAGE_UID,
            run_as_group=IMAGE_UID,
            # Mounted secrets (the credentials file) are group-readable by the image's user.
            fs_group=IMAGE_UID,
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        containers=[main],
        volumes=[
            # Memory-backed would count against the memory limit; disk-backed with a cap is enough.
            k8s.core.v1.VolumeArgs(name=TMP_VOLUME, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="256Mi")),
            *access.volumes,
        ],
        tolerations=tolerations,
        restart_policy=restart_policy,
        active_deadline_seconds=active_deadline_seconds,
        termination_grace_period_seconds=termination_grace_period_seconds,
        topology_spread_constraints=list(topology_spread_constraints) if topology_spread_constraints else None,
    )
