"""Who the GKE nodes are: a dedicated minimal service account that writes logs and metrics and pulls images."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.gke.args import GkeClusterArgs

NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
"""Project roles of the node service account: the one Google documents as the nodes' minimum (logs,
metrics, autoscaler metrics; it supersedes logging.logWriter and monitoring.metricWriter). The
account also reads the release image repository (below), which this role does not grant."""
REGISTRY_READER_ROLE = "roles/artifactregistry.reader"
NODE_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
"""IAM, not scopes, limits what the nodes may do; Google recommends this one scope with a minimal SA."""


def node_service_account(name: str, args: GkeClusterArgs, *, child: pulumi.ResourceOptions) -> gcp.serviceaccount.Account:
    """The nodes' account, with the node role on the project and read access to the image repositories."""
    nodes = gcp.serviceaccount.Account(
        f"{name}-nodes",
        # IAM takes 6-30 characters that do not end in a hyphen; a long stack name is cut to fit.
        account_id=f"{args.name}-nodes"[:30].rstrip("-"),
        display_name=f"GKE nodes of {args.name}: logs, metrics, image pulls",
        project=args.project,
        opts=child,
    )
    member = pulumi.Output.concat("serviceAccount:", nodes.email)
    for role in NODE_ROLES:
        gcp.projects.IAMMember(
            f"{name}-nodes-{role.split('/')[-1].replace('.', '-')}",
            project=args.project,
            role=role,
            member=member,
            opts=child,
        )
    for image, repository in args.image_repositories.items():
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-nodes-pull-{image}",
            project=args.project,
            location=args.region,
            repository=repository,
            role=REGISTRY_READER_ROLE,
            member=member,
            opts=child,
        )
    return nodes
