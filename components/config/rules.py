"""The rules that span sections: what prod needs, what GKE and Artifact Registry need
together, what EKS needs, and the projects' rules (components/config/project_rules.py).

Each broken rule names its key relative to the whole namespace (`serving.minReplicas`),
so the message points at the line of the stack file to change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.config.eks import ROLLOUT_SURGE, gpus_per_node
from components.config.errors import BrokenRule
from components.config.project_rules import project_rules

if TYPE_CHECKING:
    from components.config.stack import StackConfig


def broken_rules(stack: StackConfig) -> list[BrokenRule]:
    """Every cross-section rule `stack` breaks, in the order they are reported."""
    return [
        *_google_cloud_rules(stack),
        *_eks_rules(stack),
        *_backup_rules(stack),
        *project_rules(stack),
        *_monitoring_rules(stack),
        *_pipeline_rules(stack),
        *_rds_rules(stack),
    ]


def _eks_rules(stack: StackConfig) -> list[BrokenRule]:
    """EKS serves and Batch trains: the cluster shares the training network's private subnets."""
    if stack.serving.cluster != "eks" or stack.compute.kind == "gke":  # gke: _cluster_rules says it
        return []
    if stack.compute.kind != "ec2":
        return [
            BrokenRule(
                "serving.cluster",
                "eks",
                f"needs compute.kind: ec2, not {stack.compute.kind}: an EKS stack trains on AWS Batch GPU instances "
                "(training on the cluster itself is built for GKE and kubeconfig clusters only)",
            )
        ]
    if stack.subnets != "private":
        return [
            BrokenRule(
                "compute.subnets",
                stack.subnets,
                "must be private with serving.cluster: eks: the cluster's nodes and API server interfaces run in "
                "the private subnets, behind the NAT gateway",
            )
        ]
    return _gpu_pool_rule(stack)


def _gpu_pool_rule(stack: StackConfig) -> list[BrokenRule]:
    """The GPU NodePool holds every GPU-served project at its maxReplicas, and a rollout's extra pod:
    a pod past the pool's limit would stay Pending, and a rollout (maxUnavailable 0) with it."""
    served = {name: p.serve for name, p in stack.projects.items() if p.serve is not None and p.serve.gpus > 0}
    if not served:
        return []
    per_node = gpus_per_node(max(serve.gpus for serve in served.values()))
    needed = sum((serve.max_replicas + ROLLOUT_SURGE) * serve.gpus for serve in served.values())
    nodes = -(-needed // per_node)
    if stack.eks.gpu_nodes >= nodes:
        return []
    pods = ", ".join(f"{name} ({serve.max_replicas} + 1 pods of {serve.gpus})" for name, serve in sorted(served.items()))
    return [
        BrokenRule(
            "eks.gpuNodes",
            stack.eks.gpu_nodes,
            f"GPU nodes of {per_node} GPU(s) hold {stack.eks.gpu_nodes * per_node} GPUs; the served GPU pods need "
            f"{needed} at their most ({pods}): set it to {nodes} or more, or lower maxReplicas",
        )
    ]


def _pipeline_rules(stack: StackConfig) -> list[BrokenRule]:
    if stack.pipeline.kind == "airflow" and stack.pipeline.public_api and stack.serving.cluster != "gke":
        return [
            BrokenRule(
                "pipeline.publicApi", True, "needs serving.cluster gke (a kubeconfig cluster has no load balancer the program makes)"
            )
        ]
    return []


RDS_MAX_BACKUP_RETENTION_DAYS = 35
"""The longest automated backup retention RDS allows (Cloud SQL allows 365)."""


def _rds_rules(stack: StackConfig) -> list[BrokenRule]:
    """Where Airflow's database is RDS (an EKS stack), what RDS allows of the shared database settings."""
    database = stack.pipeline.database
    on_rds = stack.serving.cluster == "eks" and stack.pipeline.kind == "airflow"
    if on_rds and database.backup_retention_days > RDS_MAX_BACKUP_RETENTION_DAYS:
        return [
            BrokenRule(
                "pipeline.database.backupRetentionDays",
                database.backup_retention_days,
                f"must be at most {RDS_MAX_BACKUP_RETENTION_DAYS} on RDS (serving.cluster eks)",
            )
        ]
    return []


def _monitoring_rules(stack: StackConfig) -> list[BrokenRule]:
    broken: list[BrokenRule] = []
    monitoring = stack.monitoring
    if monitoring.scraping == "managed-prometheus" and stack.serving.cluster != "gke":
        broken.append(
            BrokenRule(
                "monitoring.scraping",
                "managed-prometheus",
                f"is GKE's; serving.cluster {stack.serving.cluster} needs prometheus-operator, none or auto",
            )
        )
    if monitoring.budget.monthly_usd is None:
        broken.append(
            BrokenRule(
                "monitoring.budget.monthlyUsd",
                None,
                "is required: the stack's monthly budget in USD; `make cost` prints the figure to set for this stack",
            )
        )
    if monitoring.budget.gcp_billing_account is not None and stack.compute.kind != "gke":
        broken.append(
            BrokenRule(
                "monitoring.budget.gcpBillingAccount",
                monitoring.budget.gcp_billing_account,
                "budgets the stack's Google Cloud project, which only compute.kind: gke has",
            )
        )
    return broken


def _backup_rules(stack: StackConfig) -> list[BrokenRule]:
    broken: list[BrokenRule] = []
    if stack.storage.backup_region == stack.aws_region:
        broken.append(
            BrokenRule("storage.backupRegion", stack.aws_region, "must differ from aws:region, or the backup shares its fate")
        )
    if stack.is_prod and stack.storage.backup_region is None:
        broken.append(
            BrokenRule("storage.backupRegion", None, "is required in prod (an AWS region other than aws:region)")
        )
    return broken


def _google_cloud_rules(stack: StackConfig) -> list[BrokenRule]:
    """The combinations GKE and Artifact Registry need, each naming its key."""
    return [*_cluster_rules(stack), *_registry_rules(stack), *_gke_network_rules(stack)]


def _cluster_rules(stack: StackConfig) -> list[BrokenRule]:
    on_gke = stack.compute.kind == "gke"
    if stack.serving.cluster == "gke" and not on_gke:
        return [
            BrokenRule("serving.cluster", "gke", f"needs compute.kind: gke (the program's GKE cluster), not {stack.compute.kind}")
        ]
    if on_gke and stack.serving.cluster != "gke":
        return [
            BrokenRule(
                "serving.cluster",
                stack.serving.cluster,
                "must be gke with compute.kind: gke: training runs as a CronJob on the cluster's GPU pool, beside serving",
            )
        ]
    return []


def _registry_rules(stack: StackConfig) -> list[BrokenRule]:
    broken: list[BrokenRule] = []
    on_gke = stack.compute.kind == "gke"
    if (on_gke or stack.registry.kind == "artifact-registry") and stack.gke.project is None:
        needs = "compute.kind: gke" if on_gke else "registry.kind: artifact-registry"
        broken.append(BrokenRule("gke.project", None, f"is required with {needs} (the Google Cloud project id)"))
    if on_gke and stack.registry.kind != "artifact-registry":
        broken.append(
            BrokenRule(
                "registry.kind",
                stack.registry.kind,
                "must be artifact-registry with compute.kind: gke: the nodes pull with their own service "
                "account, where ECR would need a static pull token",
            )
        )
    if stack.compute.kind == "ec2" and stack.registry.kind != "ecr":
        broken.append(
            BrokenRule(
                "registry.kind", stack.registry.kind, "must be ecr with compute.kind: ec2: the instance pulls with its IAM role"
            )
        )
    return broken


def _gke_network_rules(stack: StackConfig) -> list[BrokenRule]:
    if stack.compute.kind != "gke":
        return []
    broken: list[BrokenRule] = []
    if not stack.gke.zones:
        broken.append(
            BrokenRule("gke.zones", None, f"is required with compute.kind: gke (for example [{stack.gke.region}-a])")
        )
    if not stack.gke.authorized_networks:
        broken.append(
            BrokenRule(
                "gke.authorizedNetworks",
                None,
                "is required with compute.kind: gke: the CIDRs that run kubectl and pulumi (the control plane "
                "admits no one else)",
            )
        )
    return broken
