"""The mlops stack: config -> components -> outputs. See README.md and stacks/."""

from pathlib import Path

import pulumi

from components.batch import BatchTraining, BatchTrainingArgs
from components.clusters import Cluster, gke_cluster, kubeconfig_cluster
from components.config import StackConfig
from components.gke import GkeCluster, GkeClusterArgs
from components.images import ContainerImages
from components.namespace import WorkloadNamespace, WorkloadNamespaceArgs
from components.pods import Placement
from components.providers import aws_provider, default_tags, gcp_provider
from components.pull_secret_renewer import PullSecretRenewer, PullSecretRenewerArgs
from components.registry import ContainerRegistry, build_registry
from components.serving import ModelServing, ModelServingArgs
from components.storage import DataBucket, DataBucketArgs
from components.training_cronjob import TrainingCronJob, TrainingCronJobArgs
from components.web_identity import WebIdentityIdentities, WebIdentityProvider

IMAGES_DIR = Path(__file__).parent / "images"


def build_gke(cfg: StackConfig, *, name_prefix: str, registry: ContainerRegistry, opts: pulumi.ResourceOptions) -> GkeCluster:
    """The GKE cluster (`compute.kind: gke`): serving and GPU training run there."""
    if cfg.gke.project is None:  # the config model already requires it with compute.kind gke
        raise ValueError("a GKE cluster needs mlops:gke.project")
    return GkeCluster(
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
            serving_cpu_millicores=cfg.serving.cpu * 1000,
            # Release images only; the nodes never read the build cache.
            image_repositories={"images": next(iter(registry.repository_arns.values()))},
            labels=default_tags(cfg),
        ),
        opts=opts,
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
        training = BatchTraining(
            "training",
            BatchTrainingArgs(
                compute=cfg.compute,
                training=cfg.training,
                spot=cfg.spot,
                subnets=cfg.subnets,
                name_prefix=name_prefix,
                model_name=cfg.serving.model,
                bucket_name=storage.bucket_name,
                bucket_arn=storage.bucket_arn,
                bucket_kms_key_arn=storage.kms_key_arn,
                train_image_ref=images.refs["train"],
                train_repository_arn=registry.repository_arns["train"],
                log_retention_days=90 if cfg.is_prod else 14,
            ),
            opts=in_region,
        )
        pulumi.export("jobQueue", training.job_queue)
        pulumi.export("jobDefinition", training.job_definition)
        pulumi.export("trainingLogGroup", training.log_group)
        pulumi.export("trainNowCommand", training.submit_command)
        pulumi.export("describeJobCommand", training.describe_command)
        pulumi.export("logsCommand", training.logs_command)

    # The cluster `serving.cluster` names: serving runs there, and training when the
    # cluster trains (compute.kind gke on its GPU pool, or none on the CPUs).
    cluster: Cluster
    web_identities: WebIdentityIdentities | None = None
    if cfg.compute.kind == "gke":  # the config model requires serving.cluster gke with it
        gke = build_gke(cfg, name_prefix=name_prefix, registry=registry, opts=on_gcp)
        oidc = WebIdentityProvider("gke-identity", issuer_url=gke.issuer_url, opts=in_region)
        web_identities = WebIdentityIdentities(provider=oidc, name_prefix=name_prefix, region=cfg.aws_region)
        cluster = gke_cluster(cfg, gke, web_identities)
        pulumi.export("kubeconfig", gke.kubeconfig)
        pulumi.export("clusterName", gke.name)
        pulumi.export("clusterEndpoint", gke.endpoint)
        pulumi.export("clusterIssuer", gke.issuer_url)
    else:
        cluster = kubeconfig_cluster("cluster", cfg)

    on_cluster = pulumi.ResourceOptions(providers={"aws": provider, "kubernetes": cluster.provider})
    namespace = WorkloadNamespace(
        "workloads",
        WorkloadNamespaceArgs(
            name=name_prefix,
            registry=None if cluster.nodes_pull_images else registry.credentials,
            pull_secret_renewed=cfg.registry.kind == "ecr",
        ),
        opts=on_cluster,
    )
    placement = Placement(
        namespace=namespace.name,
        instance=name_prefix,
        image_pull_secret=namespace.pull_secret_name,
        identities=cluster.identities,
        kubectl=cluster.kubectl,
        region=cfg.aws_region,
        bucket_name=storage.bucket_name,
        bucket_arn=storage.bucket_arn,
        bucket_kms_key_arn=storage.kms_key_arn,
    )
    if namespace.pull_secret_name is not None and cfg.registry.kind == "ecr":
        # ECR's token lasts 12 hours: renewed on the cluster, not only at each `up`.
        PullSecretRenewer(
            "pull-secret-renewer",
            PullSecretRenewerArgs(
                placement=placement,
                secret_name=namespace.pull_secret_name,
                registry_address=registry.credentials.address,
            ),
            opts=on_cluster,
        )
    serving = ModelServing(
        "serving",
        ModelServingArgs(
            serving=cfg.serving,
            image_ref=images.refs["serve"],
            highly_available=cfg.is_prod,
            placement=placement,
            exposure=cluster.exposure,
        ),
        opts=on_cluster,
    )
    pulumi.export("servingNamespace", namespace.name)
    pulumi.export("servingService", serving.service_name)
    pulumi.export("servingEndpoint", serving.endpoint)
    pulumi.export("portForwardCommand", serving.port_forward_command)
    if serving.auth_token is not None:
        pulumi.export("servingToken", serving.auth_token)

    if cfg.compute.kind in ("gke", "none"):
        cronjob = TrainingCronJob(
            "training",
            TrainingCronJobArgs(
                training=cfg.training,
                model=cfg.serving.model,
                image_ref=images.refs["train"],
                placement=placement,
                gpu_nodes_start_from_zero=cluster.gpu_nodes_start_from_zero,
            ),
            opts=on_cluster,
        )
        pulumi.export("trainNowCommand", cronjob.run_now_command)
        if web_identities is not None:
            pulumi.export("trainingRoleArn", web_identities.role_arns[cronjob.service_account])
    if web_identities is not None:
        pulumi.export("servingRoleArn", web_identities.role_arns[serving.service_account])


if __name__ == "__main__":
    main()
