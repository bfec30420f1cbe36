"""Keyless S3 access from pods on EKS: EKS Pod Identity.

Per workload, `PodIdentityIdentities.grant(...)` makes:

- an IAM role that only EKS Pod Identity (`pods.eks.amazonaws.com`) may assume, and only for that
  cluster, namespace and ServiceAccount: Pod Identity tags each session with them, and the trust
  policy requires those tags (`aws:RequestTag/...`, StringEquals), so no other association in the
  account can hand out this role;
- a `PodIdentityAssociation` that ties the ServiceAccount to the role.

The pods reach the node's Pod Identity Agent (169.254.170.23, port 80): `agent_egress()` is the rule
the cluster hands the namespaces (components/clusters.py), which deny all other egress but DNS and
HTTPS; EKS enforces NetworkPolicies on link-local addresses too.

The pod itself carries nothing: EKS's admission webhook adds the token volume and the two
`AWS_CONTAINER_*` variables the AWS SDKs read, to every pod of an associated ServiceAccount. No
annotation, no key, no mounted API token. The SDK then gets short-lived credentials from the agent
and refreshes them by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import assumable_role
from components.identity import PodAccess

SERVICE = "pods.eks.amazonaws.com"
AGENT_ADDRESS = "169.254.170.23/32"
"""The Pod Identity Agent on every node (IPv4); the SDKs call it at http://169.254.170.23/v1/credentials."""
AGENT_PORT = 80


def pod_identity_trust(*, cluster_arn: str, namespace: str, service_account: str) -> dict[str, Any]:
    """A trust policy for Pod Identity acting for one ServiceAccount of one cluster only (EKS User Guide,
    "Create IAM role with trust policy required by EKS Pod Identity"): TagSession, because Pod Identity
    tags the session with the cluster, namespace and ServiceAccount the conditions check."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThisServiceAccount",
                "Effect": "Allow",
                "Principal": {"Service": SERVICE},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": cluster_arn,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    }
                },
            }
        ],
    }


def agent_egress() -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """The egress a pod needs to get its credentials from the agent on its node."""
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
        to=[k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=AGENT_ADDRESS))],
        ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=AGENT_PORT)],
    )


class PodIdentityRole(pulumi.ComponentResource):
    """One workload's IAM role and its association with the ServiceAccount."""

    role_arn: pulumi.Output[str]
    association: aws.eks.PodIdentityAssociation

    def __init__(
        self,
        name: str,
        *,
        role_name: str,
        cluster_name: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        namespace: pulumi.Input[str],
        service_account: str,
        policy: Mapping[str, Any],
        tags: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:identity:PodIdentityRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.all(pulumi.Output.from_input(cluster_arn), pulumi.Output.from_input(namespace)).apply(
            lambda values: pod_identity_trust(cluster_arn=values[0], namespace=values[1], service_account=service_account)
        )
        role = assumable_role(
            f"{name}-role",
            role_name=role_name,
            description=f"Assumed through EKS Pod Identity by the {service_account} ServiceAccount only",
            trust=trust,
            max_session_duration=3600,
            policy=policy,
            policy_name=f"{name}-policy",
            parent=self,
            tags=tags,
        )
        self.association = aws.eks.PodIdentityAssociation(
            f"{name}-association",
            cluster_name=cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=role.arn,
            tags=dict(tags) if tags else None,
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"roleArn": self.role_arn})


class PodIdentityIdentities:
    """Workload identities on an EKS cluster: one role per ServiceAccount through Pod Identity, no key.

    `grant` has the signature of `WorkloadIdentities`, so serving, training and the pipeline take it
    as they take the others. A ServiceAccount in a namespace the program does not make (Alertmanager's)
    works too: the association names it, and nothing in its pods changes.
    """

    def __init__(self, *, cluster_name: pulumi.Input[str], cluster_arn: pulumi.Input[str], name_prefix: str, region: str) -> None:
        self.cluster_name = cluster_name
        self.cluster_arn = cluster_arn
        self.name_prefix = name_prefix
        self.region = region
        self.role_arns: dict[str, pulumi.Output[str]] = {}
        """ServiceAccount name -> the role it acts as, for the stack outputs."""

    def grant(
        self,
        name: str,
        *,
        namespace: pulumi.Input[str],
        service_account: str,
        policy: Mapping[str, Any],
        parent: pulumi.Resource,
        tags: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> PodAccess:
        del labels  # nothing is made in the cluster to label
        role = PodIdentityRole(
            name,
            role_name=f"{self.name_prefix}-{service_account}",
            cluster_name=self.cluster_name,
            cluster_arn=self.cluster_arn,
            namespace=namespace,
            service_account=service_account,
            policy=policy,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        self.role_arns[service_account] = role.role_arn
        return PodAccess(
            service_account_annotations={},
            # Only the region: the credentials come from the agent. botocore takes the client region
            # from AWS_DEFAULT_REGION; without it S3 calls go to us-east-1 and are redirected (through
            # the NAT gateway, not the VPC's S3 endpoint).
            env=[k8s.core.v1.EnvVarArgs(name="AWS_DEFAULT_REGION", value=self.region)],
            volumes=[],
            volume_mounts=[],
            mount_service_account_token=False,
            ready=[role.association],
        )
