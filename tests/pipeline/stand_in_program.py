"""The stack's program, with the pipeline's database and training targets used as the Airflow
component uses them: a test seam for the parts that component consumes.

It runs `__main__.py` with two of its factories wrapped (the program imports them by name, so
patching the modules first is enough):

- `cluster_for`: on a cluster with a private network (GKE), Cloud SQL for a stand-in Airflow
  namespace, and a NetworkPolicy with the database's egress rules, as Airflow's would carry;
- `training_backend_for`: a stand-in Airflow identity granted the backend's policy statements
  where it has any (serialised as every workload's policy is), the runner grant for its
  ServiceAccount, and the targets exported as `standInPipelineTargets` and
  `standInPipelineStatements`.

Names start with `stand-in-` so they never meet the real Airflow component's.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

import components.clusters as clusters
import components.training_backends as backends
from components.config import StackConfig
from components.pipeline.cloud_sql import cloud_sql_database
from components.project_names import name_prefix
from components.providers import default_tags

PROGRAM = Path(__file__).resolve().parents[2] / "__main__.py"
SERVICE_ACCOUNT = "airflow"

original_cluster_for = clusters.cluster_for
original_backend_for = backends.training_backend_for


def airflow_namespace(cfg: StackConfig) -> str:
    return f"{name_prefix(cfg.project, cfg.stack)}-airflow"


def cluster_for(cfg: StackConfig, **kwargs: Any) -> clusters.Cluster:
    cluster = original_cluster_for(cfg, **kwargs)
    if cluster.private_network is not None and cfg.gke.project is not None:
        on_cluster = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})
        database = cloud_sql_database(
            "stand-in-database",
            database=cfg.pipeline.database,
            gcp_project=cfg.gke.project,
            region=cfg.gke.region,
            network=cluster.private_network,
            namespace=airflow_namespace(cfg),
            name_prefix=name_prefix(cfg.project, cfg.stack),
            protect=cfg.protect_data,
            labels=default_tags(cfg),
            on_gcp=kwargs["on_gcp"],
            on_cluster=on_cluster,
        )
        k8s.networking.v1.NetworkPolicy(
            "stand-in-airflow-database-egress",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="airflow-database-egress", namespace=airflow_namespace(cfg)),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Egress"], egress=list(database.egress)
            ),
            opts=on_cluster,
        )
        pulumi.export("standInChartValues", database.chart_values)
    return cluster


class StandInAirflow(pulumi.ComponentResource):
    def __init__(self, opts: pulumi.ResourceOptions) -> None:
        super().__init__("mlops:test:StandInAirflow", "stand-in-airflow", None, opts)


def training_backend_for(cfg: StackConfig, **kwargs: Any) -> backends.TrainingBackend:
    backend = original_backend_for(cfg, **kwargs)
    targets = backend.pipeline
    on_cluster: pulumi.ResourceOptions = kwargs["on_cluster"]
    parent = StandInAirflow(on_cluster)
    if targets.policy_statements:  # IAM refuses a policy without statements
        kwargs["cluster"].identities.grant(
            "stand-in-airflow-identity",
            namespace=airflow_namespace(cfg),
            service_account=SERVICE_ACCOUNT,
            policy={"Version": "2012-10-17", "Statement": list(targets.policy_statements)},
            parent=parent,
        )
    targets.allow_runner(airflow_namespace(cfg), SERVICE_ACCOUNT, pulumi.ResourceOptions(parent=parent))
    pulumi.export("standInPipelineTargets", {"projects": targets.projects, "jobQueue": targets.job_queue})
    pulumi.export("standInPipelineStatements", list(targets.policy_statements))
    return backend


clusters.cluster_for = cluster_for
backends.training_backend_for = training_backend_for
try:
    runpy.run_path(str(PROGRAM), run_name="__main__")
finally:
    # The modules outlive this run: the next program run in the session must see the real ones.
    clusters.cluster_for = original_cluster_for
    backends.training_backend_for = original_backend_for
