"""The mlops stack: config -> components -> outputs. See README.md and stacks/."""

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.compute import GpuTrainingInstance, TrainingInstanceArgs
from components.config import StackConfig
from components.gke import GkeCluster, GkeClusterArgs, load_balancer_annotations
from components.iam import model_reader_policy, model_writer_policy
from components.images import ContainerImages
from components.providers import aws_provider, default_tags, gcp_provider
from components.registry import ContainerRegistry, build_registry
from components.storage import DataBucket, DataBucketArgs
from components.web_identity import WebIdentityIdentities, WebIdentityProvider, data_object_arn

IMAGES_DIR = Path(__file__).parent / "images"
# The serving branch's ServiceAccount names (components/serving.py, training_cronjob.py).
SERVING_SERVICE_ACCOUNT = "model-server"
TRAINING_SERVICE_ACCOUNT = "train"
SERVING_CPU_MILLICORES = 1000
"""One serving pod's CPU request (the serving branch's `serving.cpu` default, 1 core)."""


@dataclass(frozen=True)
class GkeTarget:
    """What the serving Deployment and the training CronJob need from the GKE cluster."""

    cluster: GkeCluster
    provider: k8s.Provider
    identities: WebIdentityIdentities
    service_annotations: dict[str, str]
    """For the serving Service (type LoadBalancer): internal unless `gke.publicEndpoint`."""
    kubectl: str
    """`kubectl` with the cluster's context, for the commands in the outputs."""


def gke_cluster_for(
    cfg: StackConfig,
    *,
    name_prefix: str,
    registry: ContainerRegistry,
    on_gcp: pulumi.ResourceOptions,
    on_aws: pulumi.ResourceOptions,
) -> GkeTarget:
    """The GKE cluster, and the keyless AWS identities its pods get: the seam serving plugs into."""
    if cfg.gke.project is None:  # the config model already requires it with compute.kind gke
        raise ValueError("a GKE cluster needs mlops:gke.project")
    cluster = GkeCluster(
        "gke",
        GkeClusterArgs(
            project=cfg.gke.project,
            region=cfg.gke.region,
            zones=cfg.gke.zones,
            name=name_prefix,
            release_channel=cfg.gke.release_channel,
            authorized_networks=cfg.gke.authorized_networks,
            deletion_protection=cfg.protect_data,
            compute=cfg.compute,
            spot=cfg.spot,
            serving_min_replicas=cfg.serving.min_replicas,
            serving_max_replicas=cfg.serving.max_replicas,
            serving_cpu_millicores=SERVING_CPU_MILLICORES,
            # Release images only; the nodes never read the build cache.
            image_repositories={"images": next(iter(registry.repository_arns.values()))},
            labels=default_tags(cfg),
        ),
        opts=on_gcp,
    )
    oidc = WebIdentityProvider("gke-identity", issuer_url=cluster.issuer_url, opts=on_aws)
    return GkeTarget(
        cluster=cluster,
        provider=cluster.provider,
        identities=WebIdentityIdentities(provider=oidc, name_prefix=name_prefix, region=cfg.aws_region),
        service_annotations=load_balancer_annotations(public=cfg.gke.public_endpoint),
        kubectl=f"kubectl --context {cluster.context}",
    )


def main() -> None:
    cfg = StackConfig.from_pulumi()

    provider = aws_provider("aws", cfg, region=cfg.aws_region)
    backup_provider = (
        aws_provider("aws-backup", cfg, region=cfg.storage.backup_region)
        if cfg.storage.backup_region
        else None
    )
    in_region = pulumi.ResourceOptions(providers={"aws": provider})
    # Google Cloud only when something lives there: the GKE cluster or Artifact Registry.
    google = (
        gcp_provider("gcp", cfg, project=cfg.gke.project, region=cfg.gke.region)
        if cfg.gke.project and (cfg.compute.kind == "gke" or cfg.registry.kind == "artifact-registry")
        else None
    )
    on_gcp = pulumi.ResourceOptions(providers={"gcp": google} if google else {})
    both = pulumi.ResourceOptions(providers={"aws": provider, **({"gcp": google} if google else {})})

    name_prefix = f"{cfg.project}-{cfg.stack}"
    storage = DataBucket(
        "data",
        DataBucketArgs(
            storage=cfg.storage,
            name_prefix=name_prefix,
            protect_data=cfg.protect_data,
            key_deletion_window_days=cfg.key_deletion_window_days,
            log_access=cfg.is_prod,
            backup_provider=backup_provider,
        ),
        opts=in_region,
    )
    registry = build_registry(
        "registry",
        cfg.registry,
        repositories=("train", "serve"),
        name_prefix=name_prefix,
        keep_through_destroy=cfg.protect_data,
        key_deletion_window_days=cfg.key_deletion_window_days,
        gcp_project=cfg.gke.project,
        gcp_region=cfg.gke.region,
        labels=default_tags(cfg),
        opts=both,
    )
    images = ContainerImages(
        "images",
        contexts={"train": IMAGES_DIR / "train", "serve": IMAGES_DIR / "serve"},
        registry=registry,
        opts=in_region,
    )

    pulumi.export("bucketName", storage.bucket_name)
    pulumi.export("bucketArn", storage.bucket_arn)
    if storage.backup_bucket_name is not None:
        pulumi.export("backupBucketName", storage.backup_bucket_name)
    pulumi.export("registryUrls", registry.repository_urls)
    pulumi.export("imageRefs", images.refs)

    if cfg.compute.kind == "ec2":
        training = GpuTrainingInstance(
            "training",
            TrainingInstanceArgs(
                compute=cfg.compute,
                training=cfg.training,
                spot=cfg.spot,
                single_nat_gateway=not cfg.is_prod,
                model_name=cfg.serving.model,
                bucket_name=storage.bucket_name,
                bucket_arn=storage.bucket_arn,
                bucket_kms_key_arn=storage.kms_key_arn,
                train_image_ref=images.refs["train"],
                train_repository_arn=registry.repository_arns["train"],
            ),
            opts=in_region,
        )
        pulumi.export("trainingInstanceId", training.instance_id)
        pulumi.export("trainNowCommand", training.run_now_command)

    if cfg.compute.kind == "gke":
        gke = gke_cluster_for(cfg, name_prefix=name_prefix, registry=registry, on_gcp=on_gcp, on_aws=in_region)
        # The workloads' AWS roles. The serving Deployment and the training CronJob ask for
        # these themselves through `gke.identities.grant` once they run here; until then the
        # roles are made here, under the OIDC provider, with the same names and policies.
        grants_parent = gke.identities.provider
        gke.identities.grant(
            "serving-identity",
            namespace=name_prefix,
            service_account=SERVING_SERVICE_ACCOUNT,
            policy=model_reader_policy(
                bucket_arn=storage.bucket_arn,
                kms_key_arn=storage.kms_key_arn,
                region=cfg.aws_region,
                model=cfg.serving.model,
            ),
            parent=grants_parent,
        )
        data_arn = storage.bucket_arn.apply(lambda arn: data_object_arn(cfg.training.data, arn) or "")
        gke.identities.grant(
            "training-identity",
            namespace=name_prefix,
            service_account=TRAINING_SERVICE_ACCOUNT,
            policy=model_writer_policy(
                bucket_arn=storage.bucket_arn,
                kms_key_arn=storage.kms_key_arn,
                region=cfg.aws_region,
                model=cfg.serving.model,
                data_object_arn=None if cfg.training.data.startswith("builtin:") else data_arn,
            ),
            parent=grants_parent,
        )
        pulumi.export("kubeconfig", gke.cluster.kubeconfig)
        pulumi.export("clusterName", gke.cluster.name)
        pulumi.export("clusterEndpoint", gke.cluster.endpoint)
        pulumi.export("clusterIssuer", gke.cluster.issuer_url)
        pulumi.export("servingRoleArn", gke.identities.role_arns[SERVING_SERVICE_ACCOUNT])
        pulumi.export("trainingRoleArn", gke.identities.role_arns[TRAINING_SERVICE_ACCOUNT])


if __name__ == "__main__":
    main()
