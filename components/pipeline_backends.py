"""The pipeline, chosen once: Apache Airflow on the serving cluster (`pipeline.kind: airflow`), or none.

With Airflow: its namespace (and, where the nodes need one, its own pull secret and renewer), its
metadata database (Cloud SQL next to GKE, RDS in the VPC of an EKS cluster's nodes, else the
chart's bundled Postgres on the cluster you bring), and the chart with the DAG image. The stack then starts a project's training over
Airflow's REST API (`trainNowCommand`), and exports how to reach it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.clusters import Cluster, runs_on_gke
from components.config import StackConfig
from components.monitoring.notifications import NotificationTopic
from components.pipeline.airflow import AirflowPipeline, AirflowPipelineArgs
from components.images import ContainerImages
from components.pipeline.chart import ADMIN_USER, API_PORT, SERVICE_ACCOUNT, SERVING_PORT
from components.pipeline.cloud_sql import cloud_sql_database
from components.pipeline.dag_image import IMAGE as DAG_IMAGE
from components.pipeline.database import MetadataDatabase
from components.pipeline.in_cluster_postgres import in_cluster_postgres
from components.pipeline.namespace import AirflowNamespace, AirflowNamespaceArgs, airflow_namespace_name
from components.pipeline.rds import rds_database
from components.pipeline.spec import dag_id, runtime_json
from components.pipeline.values import DagImage
from components.pods import PART_OF, Placement, labels
from components.providers import default_tags
from components.pull_secret_renewer import PullSecretRenewer, PullSecretRenewerArgs
from components.registry import ContainerRegistry
from components.serving import ModelServing
from components.training_backends import TrainingBackend, trainings_of

RENEWER = "renew-airflow-pull-secret"
"""The Airflow namespace's pull-secret renewer (and its IAM user's name after the prefix)."""


@dataclass(frozen=True)
class Pipeline:
    """What the stack exports of the pipeline."""

    namespace: str
    admin_password: pulumi.Output[str]
    api_command: pulumi.Output[str]
    train_now_commands: Mapping[str, pulumi.Output[str]]
    """Per project: a run of its DAG now, over the REST API (with the api-server port-forwarded)."""
    service_account: str = SERVICE_ACCOUNT
    """What every Airflow component runs as: its cloud role is exported where identities are roles."""

    @property
    def exports(self) -> dict[str, Any]:
        return {"airflowNamespace": self.namespace, "airflowAdminPassword": self.admin_password, "airflowApiCommand": self.api_command}


def trigger_command(project: str, *, stack: str) -> str:
    """A run of the project's DAG over Airflow's REST API: a token from /auth/token, then POST dagRuns."""
    login = (
        f'{{"username":"{ADMIN_USER}","password":"\'"$(pulumi stack output airflowAdminPassword --show-secrets '
        f'--stack {stack})"\'"}}'
    )
    api = f"http://localhost:{API_PORT}"
    return (
        f"TOKEN=$(curl -s -X POST {api}/auth/token -H 'Content-Type: application/json' -d '{login}'"
        " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')"
        f" && curl -s -X POST {api}/api/v2/dags/{dag_id(project)}/dagRuns -H \"Authorization: Bearer $TOKEN\""
        " -H 'Content-Type: application/json' -d '{\"logical_date\": null, \"conf\": {}}'"
    )


def dag_image(registry: ContainerRegistry, images: ContainerImages) -> DagImage:
    """The DAG image as the chart takes it (container_images builds it with `pipeline.kind: airflow`)."""
    return DagImage(
        repository=registry.repository_urls[DAG_IMAGE],
        tag=images.tags[DAG_IMAGE],
        digest=images.refs[DAG_IMAGE].apply(lambda ref: ref.split("@", 1)[1]),
    )


def runtime(
    cfg: StackConfig, *, placement: Placement, training: TrainingBackend, servers: Mapping[str, ModelServing],
    image_refs: Mapping[str, pulumi.Input[str]], topic_arn: pulumi.Input[str],
) -> pulumi.Output[str]:
    """MLOPS_PIPELINE_RUNTIME: what exists only after `up` made it (components/pipeline/spec.py)."""
    targets = training.pipeline
    projects: dict[str, Any] = {}
    for name in trainings_of(cfg):
        project: dict[str, Any] = {"image": image_refs[name], **targets.projects.get(name, {})}
        if name in servers:
            # The roll-out task reads the Service's name and namespace from it (its EndpointSlices).
            project["serving_url"] = pulumi.Output.concat(
                "http://", servers[name].service_name, ".", placement.namespace, f".svc.cluster.local:{SERVING_PORT}"
            )
            if servers[name].token_secret is not None:
                project["serving_token_secret"] = servers[name].token_secret
        projects[name] = project
    document = {
        "region": cfg.aws_region,
        "bucket": placement.bucket_name,
        "topic_arn": topic_arn,
        "workloads_namespace": placement.namespace,
        "job_queue": targets.job_queue,
        "projects": projects,
    }
    return pulumi.Output.from_input(document).apply(runtime_json)


def metadata_database(
    cfg: StackConfig, *, name_prefix: str, cluster: Cluster, namespace: AirflowNamespace, labels: Mapping[str, str],
    in_region: pulumi.ResourceOptions, on_gcp: pulumi.ResourceOptions, on_cluster: pulumi.ResourceOptions,
) -> MetadataDatabase:
    """Cloud SQL on the GKE cluster's VPC; RDS in the private subnets of the VPC the cluster's nodes run
    in, open to their security group; the chart's bundled Postgres on a cluster you bring. Their
    Secrets name the namespace by its output, so they wait for it; the databases themselves need not."""
    if cluster.node_network is not None:
        nodes = cluster.node_network
        return rds_database(
            "airflow-database", database=cfg.pipeline.database, vpc_id=nodes.vpc_id, subnet_ids=nodes.private_subnet_ids,
            client_security_group_id=nodes.security_group_id, vpc_cidr=nodes.cidr, namespace=namespace.name,
            name_prefix=name_prefix, protect=cfg.protect_data, key_deletion_window_days=cfg.key_deletion_window_days,
            tags={}, in_region=in_region, on_cluster=on_cluster,
        )
    if runs_on_gke(cfg):
        if cluster.private_network is None or cfg.gke.project is None:  # the GKE cluster always has both
            raise ValueError("Cloud SQL needs the GKE cluster's network and project")
        return cloud_sql_database(
            "airflow-database", database=cfg.pipeline.database, gcp_project=cfg.gke.project, region=cfg.gke.region,
            network=cluster.private_network, namespace=namespace.name, name_prefix=name_prefix,
            protect=cfg.protect_data, labels=default_tags(cfg), on_gcp=on_gcp, on_cluster=on_cluster,
        )
    return in_cluster_postgres("airflow-database", namespace=namespace.name, labels=labels, opts=on_cluster)


def pipeline_for(
    cfg: StackConfig,
    *,
    name_prefix: str,
    cluster: Cluster,
    registry: ContainerRegistry,
    images: ContainerImages,
    training_images: Mapping[str, pulumi.Input[str]],
    placement: Placement,
    servers: Mapping[str, ModelServing],
    training: TrainingBackend,
    notifications: NotificationTopic,
    in_region: pulumi.ResourceOptions,
    on_gcp: pulumi.ResourceOptions,
    on_cluster: pulumi.ResourceOptions,
) -> Pipeline | None:
    """Airflow with `pipeline.kind: airflow`; None with `none`. `training_images` is each training
    project's image by digest, as its backend runs it."""
    if cfg.pipeline.kind != "airflow":
        return None
    name = airflow_namespace_name(name_prefix)
    marks = labels("airflow", instance=name)
    renewed = not cluster.nodes_pull_images and cfg.registry.kind == "ecr"
    namespace = AirflowNamespace(
        "airflow-namespace",
        AirflowNamespaceArgs(
            name=name, labels={"app.kubernetes.io/part-of": PART_OF}, workloads_namespace=placement.namespace,
            public_api=cfg.pipeline.public_api, registry=None if cluster.nodes_pull_images else registry.credentials,
            pull_secret_renewed=renewed, dns_servers=cluster.dns_servers, cluster_egress=cluster.pod_egress,
        ),
        opts=on_cluster,
    )
    if namespace.pull_secret_name is not None and renewed:
        PullSecretRenewer(
            "airflow-pull-secret-renewer",
            PullSecretRenewerArgs(
                placement=dataclasses.replace(placement, namespace=namespace.name, instance=name, image_pull_secret=None),
                secret_name=namespace.pull_secret_name,
                registry_address=registry.credentials.address,
                name=RENEWER,
            ),
            opts=on_cluster.merge(pulumi.ResourceOptions(depends_on=[namespace])),
        )
    database = metadata_database(
        cfg, name_prefix=name_prefix, cluster=cluster, namespace=namespace, labels=marks,
        in_region=in_region, on_gcp=on_gcp, on_cluster=on_cluster,
    )
    airflow = AirflowPipeline(
        "airflow",
        AirflowPipelineArgs(
            namespace=namespace,
            placement=placement,
            image=dag_image(registry, images),
            database=database,
            targets=training.pipeline,
            runtime=runtime(cfg, placement=placement, training=training, servers=servers, image_refs=training_images,
                            topic_arn=notifications.topic_arn),
            trainings=trainings_of(cfg),
            topic_arn=notifications.topic_arn,
            topic_key_arn=notifications.key_arn,
            public_api=cfg.pipeline.public_api,
            serving_token_secrets=sorted(s.token_secret for s in servers.values() if s.token_secret is not None),
            labels=marks,
        ),
        opts=on_cluster,
    )
    return Pipeline(
        namespace=name,
        admin_password=airflow.admin_password,
        api_command=airflow.api_command,
        train_now_commands={project: pulumi.Output.from_input(trigger_command(project, stack=cfg.stack)) for project in trainings_of(cfg)},
    )
