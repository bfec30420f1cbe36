"""The mlops stack: config -> components -> outputs. See README.md and stacks/."""

from pathlib import Path

import pulumi

from components.batch import BatchTraining, BatchTrainingArgs
from components.clusters import build_cluster
from components.config import StackConfig
from components.images import ContainerImages
from components.providers import aws_provider
from components.namespace import WorkloadNamespace, WorkloadNamespaceArgs
from components.registry import build_registry
from components.serving import ModelServing, ModelServingArgs
from components.storage import DataBucket, DataBucketArgs
from components.training_cronjob import TrainingCronJob, TrainingCronJobArgs

IMAGES_DIR = Path(__file__).parent / "images"


def main() -> None:
    cfg = StackConfig.from_pulumi()

    provider = aws_provider("aws", cfg, region=cfg.aws_region)
    backup_provider = (
        aws_provider("aws-backup", cfg, region=cfg.storage.backup_region)
        if cfg.storage.backup_region
        else None
    )
    in_region = pulumi.ResourceOptions(providers={"aws": provider})

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
        opts=in_region,
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

    # Serving, and training when the cluster trains, on the cluster `serving.cluster` names.
    cluster = build_cluster("cluster", cfg)
    on_cluster = pulumi.ResourceOptions(providers={"aws": provider, "kubernetes": cluster.provider})
    namespace = WorkloadNamespace(
        "workloads",
        WorkloadNamespaceArgs(name=name_prefix, registry=registry.credentials),
        opts=on_cluster,
    )
    serving = ModelServing(
        "serving",
        ModelServingArgs(
            serving=cfg.serving,
            namespace=namespace.name,
            instance=name_prefix,
            image_ref=images.refs["serve"],
            image_pull_secret=namespace.pull_secret_name,
            identities=cluster.identities,
            region=cfg.aws_region,
            highly_available=cfg.is_prod,
            kubectl=cluster.kubectl,
            bucket_name=storage.bucket_name,
            bucket_arn=storage.bucket_arn,
            bucket_kms_key_arn=storage.kms_key_arn,
        ),
        opts=on_cluster,
    )
    pulumi.export("servingNamespace", namespace.name)
    pulumi.export("servingService", serving.service_name)
    pulumi.export("servingEndpoint", serving.endpoint)
    pulumi.export("portForwardCommand", serving.port_forward_command)

    if cfg.compute.kind == "none":
        # No training compute of its own: CPU training on the serving cluster.
        cronjob = TrainingCronJob(
            "training",
            TrainingCronJobArgs(
                training=cfg.training,
                model=cfg.serving.model,
                namespace=namespace.name,
                instance=name_prefix,
                image_ref=images.refs["train"],
                image_pull_secret=namespace.pull_secret_name,
                identities=cluster.identities,
                region=cfg.aws_region,
                kubectl=cluster.kubectl,
                bucket_name=storage.bucket_name,
            bucket_arn=storage.bucket_arn,
            bucket_kms_key_arn=storage.kms_key_arn,
            ),
            opts=on_cluster,
        )
        pulumi.export("trainNowCommand", cronjob.run_now_command)


if __name__ == "__main__":
    main()
