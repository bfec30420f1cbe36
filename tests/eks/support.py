"""What the EKS tests share: the resource types, and finders for the cluster's parts in a recording."""

from __future__ import annotations

import json
from typing import Any

from offline.engine import Recording, Registration
from offline.values import reveal

CLUSTER = "aws:eks/cluster:Cluster"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
K8S_PROVIDER = "pulumi:providers:kubernetes"
SUBNET = "aws:ec2/subnet:Subnet"
NETWORK = "mlops:network:TrainingNetwork"
CLUSTER_NAME = "mlops-prod-aws"


def cluster(recording: Recording) -> Registration:
    return recording.one(CLUSTER)


def inputs(resource: Registration) -> dict[str, Any]:
    """A resource's inputs with secrets unwrapped, as the engine would send them."""
    return reveal(resource.inputs)


def document(resource: Registration, key: str) -> dict[str, Any]:
    """A JSON policy input (a role's trust, a role policy's document), decoded."""
    return json.loads(inputs(resource)[key])


def attached_policies(recording: Recording, role: Registration) -> list[str]:
    """The managed policies' names attached to `role`, sorted."""
    return sorted(
        str(a.inputs["policyArn"]).rsplit("/", 1)[-1]
        for a in recording.of_type(ATTACHMENT)
        if a.inputs["role"] == role.state["name"]
    )
