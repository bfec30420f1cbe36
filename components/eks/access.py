"""Who may use the cluster's Kubernetes API: access entries, each with the one access policy it needs.

- The identity that runs `pulumi up` (the caller; for an assumed role, the role itself) is cluster
  admin: it creates the namespaces, the GPU NodePool and every workload.
- CI's preview role, where one is configured, may read every object, Secrets included: `pulumi
  preview --refresh` reads each object the stack manages (a serving token's Secret too), and the
  dry runs it cannot make as a reader fall back to a client-side diff. It can change nothing.

The nodes need no entry here: Auto Mode makes theirs when it starts them.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

CLUSTER_ADMIN = "AmazonEKSClusterAdminPolicy"
READ_EVERYTHING = "AmazonEKSAdminViewPolicy"
"""get, list and watch on every resource, Secrets and custom resources included (AmazonEKSViewPolicy
leaves out both, and a refresh of the stack's Secrets and NodePool would fail)."""


def deploying_identity(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The IAM principal running this deployment: a user's ARN, or the role behind an assumed-role session."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    caller = aws.get_caller_identity_output(opts=invoke)
    return aws.iam.get_session_context_output(arn=caller.arn, opts=invoke).issuer_arn


def cluster_access(
    name: str,
    *,
    cluster: aws.eks.Cluster,
    principal_arn: pulumi.Input[str],
    policy: str,
    parent: pulumi.Resource,
) -> aws.eks.AccessPolicyAssociation:
    """An access entry for `principal_arn` with the AWS access policy `policy`, on the whole cluster."""
    child = pulumi.ResourceOptions(parent=parent)
    entry = aws.eks.AccessEntry(f"{name}-entry", cluster_name=cluster.name, principal_arn=principal_arn, type="STANDARD", opts=child)
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
    return aws.eks.AccessPolicyAssociation(
        f"{name}-policy",
        cluster_name=cluster.name,
        principal_arn=entry.principal_arn,
        policy_arn=pulumi.Output.concat("arn:", partition, f":eks::aws:cluster-access-policy/{policy}"),
        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
        opts=child,
    )
