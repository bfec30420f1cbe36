"""The mlops stack, top to bottom: config; providers; storage, registry and images; the cluster and
the training backend, each chosen once (components/clusters.py, components/training_backends.py);
each project's serving and training on them, and its monitoring (components/monitoring_backends.py);
the pipeline that runs them (components/pipeline_backends.py); the exports. See README.md and stacks/."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.clusters import Cluster, cluster_for, runs_on_eks, runs_on_gke
from components.config import StackConfig
from components.images import ContainerImages
from components.migration import renamed
from components.monitoring_backends import served_projects, serving_monitor_for
from components.monitoring.notifications import NotificationTopic, NotificationTopicArgs
from components import pull_secret_renewer, training_cronjob
from components.namespace import PodBudget, WorkloadNamespace, WorkloadNamespaceArgs
from components.network import NetworkArgs, TrainingNetwork
from components.pipeline.dag_image import IMAGE as DAG_IMAGE, dag_image_build
from components.pipeline_backends import Pipeline, pipeline_for
from components.pods import Placement
from components.project_names import name_prefix as stack_name_prefix
from components.monitoring.budget import CostAllocationTag, StackBudget, StackBudgetArgs
from components.providers import STACK_TAG, aws_provider, default_tags, gcp_provider
from components.pull_secret_renewer import PullSecretRenewer, PullSecretRenewerArgs
from components.registry import ContainerRegistry, build_registry
from components.serving import ModelServing, ModelServingArgs, most_pods
from components.storage import DataBucket, DataBucketArgs
from components.training_backends import TrainingBackend, training_backend_for, trainings_of
from components.training_images import project_build_contexts, training_image_ref

IMAGES_DIR = Path(__file__).parent / "images"


@dataclass(frozen=True)
class Providers:
    """The stack's explicit providers, as the resource options each kind of resource takes."""

    aws: aws.Provider
    backup: aws.Provider | None
    """The backup region's, where the stack replicates its data."""
    in_region: pulumi.ResourceOptions
    on_gcp: pulumi.ResourceOptions
    both: pulumi.ResourceOptions
    """AWS and, where the stack uses it, Google Cloud: the registry may be on either."""


def providers_for(cfg: StackConfig) -> Providers:
    provider = aws_provider("aws", cfg, region=cfg.aws_region)
    backup = aws_provider("aws-backup", cfg, region=cfg.storage.backup_region) if cfg.storage.backup_region else None
    # Google Cloud only when something lives there: the GKE cluster or Artifact Registry.
    google = (
        gcp_provider("gcp", cfg, project=cfg.gke.project, region=cfg.gke.region)
        if cfg.gke.project and (runs_on_gke(cfg) or cfg.registry.kind == "artifact-registry")
        else None
    )
    return Providers(
        aws=provider,
        backup=backup,
        in_region=pulumi.ResourceOptions(providers={"aws": provider}),
        on_gcp=pulumi.ResourceOptions(providers={"gcp": google} if google else {}),
        both=pulumi.ResourceOptions(providers={"aws": provider, **({"gcp": google} if google else {})}),
    )


def shared_network(cfg: StackConfig, *, providers: Providers) -> TrainingNetwork | None:
    """One VPC for the EKS cluster and Batch (its private subnets, tagged for the cluster's load
    balancers); None elsewhere, where Batch keeps its own as before."""
    if not runs_on_eks(cfg):
        return None
    return TrainingNetwork(
        "network", NetworkArgs(subnets=cfg.subnets, load_balancer_tags=True), opts=providers.in_region
    )


def data_bucket(cfg: StackConfig, *, name_prefix: str, providers: Providers) -> DataBucket:
    return DataBucket(
        "data",
        DataBucketArgs(
            storage=cfg.storage,
            name_prefix=name_prefix,
            protect_data=cfg.protect_data,
            key_deletion_window_days=cfg.key_deletion_window_days,
            log_access=cfg.is_prod,
            backup_provider=providers.backup,
        ),
        opts=providers.in_region,
    )


def notification_topic(cfg: StackConfig, *, name_prefix: str, providers: Providers) -> NotificationTopic:
    """The stack's one SNS topic: Batch failures, dead-letter alarms and the budget publish to it."""
    return NotificationTopic(
        "notifications",
        NotificationTopicArgs(
            name_prefix=name_prefix, notify=cfg.monitoring.notify, key_deletion_window_days=cfg.key_deletion_window_days
        ),
        opts=providers.in_region,
    )


def registry_for(cfg: StackConfig, *, name_prefix: str, providers: Providers) -> ContainerRegistry:
    return build_registry(
        "registry",
        cfg.registry,
        repositories=("train", "serve", *((DAG_IMAGE,) if cfg.pipeline.kind == "airflow" else ())),
        name_prefix=name_prefix,
        keep_through_destroy=cfg.protect_data,
        key_deletion_window_days=cfg.key_deletion_window_days,
        gcp_project=cfg.gke.project,
        gcp_region=cfg.gke.region,
        labels=default_tags(cfg),
        opts=providers.both,
    )


def workload_placement(
    cfg: StackConfig,
    *,
    name_prefix: str,
    cluster: Cluster,
    registry: ContainerRegistry,
    storage: DataBucket,
    opts: pulumi.ResourceOptions,
) -> tuple[WorkloadNamespace, Placement]:
    """The workloads' namespace, with its pull secret kept fresh, and where in it they run."""
    renews_pull_secret = not cluster.nodes_pull_images and cfg.registry.kind == "ecr"
    namespace = WorkloadNamespace(
        "workloads",
        WorkloadNamespaceArgs(
            name=name_prefix,
            registry=None if cluster.nodes_pull_images else registry.credentials,
            budgets=namespace_budgets(cfg, renews_pull_secret=renews_pull_secret),
            pull_secret_renewed=cfg.registry.kind == "ecr",
            extra_egress=cluster.pod_egress,
        ),
        opts=opts,
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
    if namespace.pull_secret_name is not None and renews_pull_secret:
        # ECR's token lasts 12 hours: renewed on the cluster, not only at each `up`.
        PullSecretRenewer(
            "pull-secret-renewer",
            PullSecretRenewerArgs(
                placement=placement,
                secret_name=namespace.pull_secret_name,
                registry_address=registry.credentials.address,
            ),
            opts=opts,
        )
    return namespace, placement


def namespace_budgets(cfg: StackConfig, *, renews_pull_secret: bool) -> list[PodBudget]:
    """What runs in the namespace at its most: each served project's pods (components/serving.py,
    most_pods), one training pod per project where the cluster trains (its CronJob forbids a
    second run, and a retry starts only once the failed pod has stopped), and the renewer's pod."""
    budgets = [
        PodBudget(f"{name} serving", most_pods(project.serve), project.serve.cpu_quantity, project.serve.memory, project.serve.gpus)
        for name, project in cfg.projects.items()
        if project.serve is not None
    ]
    if cfg.compute.kind != "ec2":
        budgets += [
            PodBudget(f"{name} training", 1, training_cronjob.CPU, training_cronjob.MEMORY, train.gpus)
            for name, train in trainings_of(cfg).items()
        ]
    if renews_pull_secret:
        budgets.append(PodBudget("pull-secret renewer", 1, pull_secret_renewer.CPU, pull_secret_renewer.MEMORY))
    return budgets


def stack_budget(cfg: StackConfig, *, name_prefix: str, topic_arn: pulumi.Input[str], providers: Providers) -> StackBudget:
    """The stack's monthly budget on what carries its tag (and on its Google Cloud project where configured)."""
    return StackBudget(
        "budget",
        StackBudgetArgs(
            name_prefix=name_prefix,
            budget=cfg.monitoring.budget,
            topic_arn=topic_arn,
            cost_allocation_tag=CostAllocationTag(STACK_TAG, default_tags(cfg)[STACK_TAG]),
            gcp_project=cfg.gke.project,
        ),
        opts=providers.both,
    )


def stack_outputs(
    *,
    storage: DataBucket,
    notifications: NotificationTopic,
    registry: ContainerRegistry,
    images: ContainerImages,
    cluster: Cluster,
    namespace: WorkloadNamespace,
    servers: Mapping[str, ModelServing],
    training: TrainingBackend,
    pipeline: Pipeline | None,
) -> dict[str, Any]:
    """The shared outputs flat; each project's under `projects.<name>`; public endpoints' tokens apart (secret).

    With a pipeline, a project's `trainNowCommand` starts a run of its DAG, over Airflow's REST API."""
    outputs: dict[str, Any] = {"bucketName": storage.bucket_name, "bucketArn": storage.bucket_arn}
    if storage.backup_bucket_name is not None:
        outputs["backupBucketName"] = storage.backup_bucket_name
    outputs |= {"registryUrls": registry.repository_urls, "imageRefs": images.refs, **cluster.exports}
    outputs |= {"servingNamespace": namespace.name, "notificationTopicArn": notifications.topic_arn, **training.exports}
    if pipeline is not None:
        outputs |= pipeline.exports | cluster.role_exports({"airflowRoleArn": pipeline.service_account})
    train_now = pipeline.train_now_commands if pipeline is not None else training.train_now_commands
    outputs["projects"] = {
        name: project_outputs(name, servers.get(name), train_now=train_now.get(name), training=training, cluster=cluster)
        for name in sorted({*servers, *training.train_now_commands})
    }
    tokens = {name: server.auth_token for name, server in servers.items() if server.auth_token is not None}
    if tokens:
        # A secret inside `projects` would make the whole map secret: the tokens are an output of their own.
        outputs["servingTokens"] = pulumi.Output.secret(tokens)
    return outputs


def project_outputs(
    name: str, server: ModelServing | None, *, train_now: pulumi.Output[str] | None, training: TrainingBackend, cluster: Cluster
) -> dict[str, Any]:
    """One project's outputs: how to train it now, where it is served, and its roles where they are roles."""
    outputs: dict[str, Any] = {}
    if train_now is not None:
        outputs["trainNowCommand"] = train_now
    outputs |= training.project_exports.get(name, {})
    if server is not None:
        outputs |= {
            "servingService": server.service_name,
            "servingEndpoint": server.endpoint,
            "portForwardCommand": server.port_forward_command,
        }
    return outputs | cluster.role_exports(
        {
            "servingRoleArn": server.service_account if server is not None else None,
            "trainingRoleArn": training.service_accounts.get(name),
        }
    )


def model_servers(
    cfg: StackConfig, *, image_ref: pulumi.Output[str], placement: Placement, cluster: Cluster, opts: pulumi.ResourceOptions
) -> dict[str, ModelServing]:
    """One autoscaled model server per served project, on the built-in server image or its own."""
    return {
        name: ModelServing(
            f"serving-{name}",
            ModelServingArgs(
                project=name,
                serve=project.serve,
                image_ref=project.serve.image or image_ref,
                highly_available=cfg.is_prod,
                placement=placement,
                exposure=cluster.exposure,
            ),
            opts=opts.merge(renamed(name, "serving")),
        )
        for name, project in cfg.projects.items()
        if project.serve is not None
    }


def container_images(cfg: StackConfig, *, registry: ContainerRegistry, opts: pulumi.ResourceOptions) -> ContainerImages:
    """The built-in trainer and server, each project's training image built from its own folder, and
    the pipeline's DAG image (with the stack's pipeline.json) where Airflow runs it."""
    own = project_build_contexts(trainings_of(cfg))
    dags = {DAG_IMAGE: dag_image_build(cfg)} if cfg.pipeline.kind == "airflow" else {}
    return ContainerImages(
        "images",
        contexts={"train": IMAGES_DIR / "train", "serve": IMAGES_DIR / "serve", **own, **dags},
        registry=registry,
        repositories={image: "train" for image in own},
        opts=opts,
    )


def main() -> None:
    cfg = StackConfig.from_pulumi()
    name_prefix = stack_name_prefix(cfg.project, cfg.stack)
    providers = providers_for(cfg)

    storage = data_bucket(cfg, name_prefix=name_prefix, providers=providers)
    notifications = notification_topic(cfg, name_prefix=name_prefix, providers=providers)
    registry = registry_for(cfg, name_prefix=name_prefix, providers=providers)
    images = container_images(cfg, registry=registry, opts=providers.in_region)

    # Serving runs on the cluster `serving.cluster` names, and training too where the cluster trains.
    network = shared_network(cfg, providers=providers)
    cluster = cluster_for(
        cfg, name_prefix=name_prefix, registry=registry, in_region=providers.in_region, on_gcp=providers.on_gcp,
        network=network,
    )
    on_cluster = pulumi.ResourceOptions(providers={"aws": providers.aws, "kubernetes": cluster.provider})
    namespace, placement = workload_placement(
        cfg, name_prefix=name_prefix, cluster=cluster, registry=registry, storage=storage, opts=on_cluster
    )
    servers = model_servers(cfg, image_ref=images.refs["serve"], placement=placement, cluster=cluster, opts=on_cluster)
    # Each served project scraped and its alert rules evaluated, the way the cluster kind allows.
    monitor = serving_monitor_for(
        cfg, namespace=name_prefix, placement=placement, notifications=notifications,
        on_cluster=on_cluster, on_gcp=providers.on_gcp,
    )
    if monitor is not None:
        for served in served_projects(cfg, namespace=name_prefix):
            monitor.watch(served)
    training_images = {name: training_image_ref(name, train, images.refs) for name, train in trainings_of(cfg).items()}
    training = training_backend_for(
        cfg, name_prefix=name_prefix, storage=storage, registry=registry, image_refs=training_images,
        cluster=cluster, placement=placement, notification_topic_arn=notifications.topic_arn,
        in_region=providers.in_region, on_cluster=on_cluster, network=network,
    )
    # Airflow runs each project's DAG: on its schedule, or started over its REST API.
    pipeline = pipeline_for(
        cfg, name_prefix=name_prefix, cluster=cluster, registry=registry, images=images, training_images=training_images,
        placement=placement, servers=servers, training=training, notifications=notifications,
        in_region=providers.in_region, on_gcp=providers.on_gcp, on_cluster=on_cluster,
    )

    stack_budget(cfg, name_prefix=name_prefix, topic_arn=notifications.topic_arn, providers=providers)

    outputs = stack_outputs(
        storage=storage, notifications=notifications, registry=registry, images=images, cluster=cluster, namespace=namespace,
        servers=servers, training=training, pipeline=pipeline,
    )
    for name, value in outputs.items():
        pulumi.export(name, value)


if __name__ == "__main__":
    main()
