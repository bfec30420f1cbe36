"""The EKS control plane of prod-aws: Auto Mode, access entries only, encrypted Secrets, logs with a
retention, a private API server reached publicly only from the listed networks, and prod's protection."""

from __future__ import annotations

import json

from offline.engine import Recording
from tests.eks.support import CLUSTER, cluster, inputs
from tests.support import RunWith


def test_the_cluster_runs_in_auto_mode_with_its_two_built_in_pools(prod_aws: Recording) -> None:
    spec = inputs(cluster(prod_aws))
    node_role = prod_aws.get("aws:iam/role:Role", "eks-node-role")
    assert spec["computeConfig"] == {
        "enabled": True, "nodePools": ["general-purpose", "system"], "nodeRoleArn": node_role.state["arn"]
    }
    assert spec["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert spec["kubernetesNetworkConfig"] == {"elasticLoadBalancing": {"enabled": True}}
    # Auto Mode runs the VPC CNI, kube-proxy and CoreDNS; self-managed copies would clash with them.
    assert spec["bootstrapSelfManagedAddons"] is False


def test_access_is_by_access_entries_only_with_no_hidden_creator_admin(prod_aws: Recording) -> None:
    assert inputs(cluster(prod_aws))["accessConfig"] == {
        "authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False
    }


def test_secrets_are_encrypted_with_the_stacks_own_rotated_key(prod_aws: Recording) -> None:
    key = prod_aws.get("aws:kms/key:Key", "eks-secrets-key")
    assert inputs(cluster(prod_aws))["encryptionConfig"] == {"provider": {"keyArn": key.state["arn"]}, "resources": ["secrets"]}
    assert (key.inputs["enableKeyRotation"], key.inputs["deletionWindowInDays"]) == (True, 30)


def test_the_cluster_role_may_use_the_secrets_key_and_nothing_else_of_kms(prod_aws: Recording) -> None:
    key = prod_aws.get("aws:kms/key:Key", "eks-secrets-key")
    policy = prod_aws.get("aws:iam/rolePolicy:RolePolicy", "eks-cluster-secrets-key")
    assert policy.inputs["role"] == "mlops-prod-aws-eks-cluster"
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Sid": "EncryptSecrets", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"],
         "Resource": key.state["arn"]}
    ]


def test_api_audit_and_authenticator_logs_go_to_a_group_made_first_with_its_retention(prod_aws: Recording) -> None:
    group = prod_aws.get("aws:cloudwatch/logGroup:LogGroup", "eks-logs")
    assert (group.inputs["name"], group.inputs["retentionInDays"]) == ("/aws/eks/mlops-prod-aws/cluster", 90)
    assert inputs(cluster(prod_aws))["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    # Made after the cluster, EKS would have created the group itself, keeping the logs for ever.
    assert group.urn in cluster(prod_aws).dependencies


def test_the_retention_follows_config(run_with: RunWith) -> None:
    recording = run_with("prod-aws", **{"mlops:eks": {"logRetentionDays": 365}})
    assert recording.get("aws:cloudwatch/logGroup:LogGroup", "eks-logs").inputs["retentionInDays"] == 365


def test_the_api_server_is_private_and_public_only_from_the_listed_networks(prod_aws: Recording) -> None:
    vpc = inputs(cluster(prod_aws))["vpcConfig"]
    assert (vpc["endpointPrivateAccess"], vpc["endpointPublicAccess"], vpc["publicAccessCidrs"]) == (True, True, ["203.0.113.0/24"])


def test_without_networks_there_is_no_public_endpoint_at_all(run_with: RunWith) -> None:
    recording = run_with("prod-aws", **{"mlops:eks": {"publicAccessCidrs": []}})
    vpc = inputs(recording.one(CLUSTER))["vpcConfig"]
    assert (vpc["endpointPrivateAccess"], vpc["endpointPublicAccess"]) == (True, False)
    assert "publicAccessCidrs" not in vpc, "EKS would report 0.0.0.0/0 for a disabled endpoint; none is set"


def test_the_private_endpoint_admits_https_from_the_vpc(prod_aws: Recording) -> None:
    group = prod_aws.get("aws:ec2/securityGroup:SecurityGroup", "eks-api")
    assert inputs(cluster(prod_aws))["vpcConfig"]["securityGroupIds"] == [group.id]
    assert [(r["protocol"], r["fromPort"], r["toPort"], r["cidrBlocks"]) for r in group.inputs["ingress"]] == [
        ("tcp", 443, 443, ["10.40.0.0/16"])
    ]
    assert group.inputs["egress"] == []


def test_the_cluster_is_named_for_the_stack_at_the_configured_version(prod_aws: Recording, run_with: RunWith) -> None:
    spec = inputs(cluster(prod_aws))
    assert (spec["name"], spec["version"]) == ("mlops-prod-aws", "1.35")
    other = run_with("prod-aws", **{"mlops:eks": {"kubernetesVersion": "1.34"}})
    assert inputs(other.one(CLUSTER))["version"] == "1.34"


def test_the_cluster_stays_on_standard_support(prod_aws: Recording) -> None:
    # Extended support bills six times the control plane's hour.
    assert inputs(cluster(prod_aws))["upgradePolicy"] == {"supportType": "STANDARD"}


def test_prod_cannot_delete_the_cluster_until_teardown(prod_aws: Recording, run_with: RunWith) -> None:
    assert inputs(cluster(prod_aws))["deletionProtection"] is True
    torn = run_with("prod-aws", **{"mlops:teardown": "true"})
    assert inputs(torn.one(CLUSTER))["deletionProtection"] is False


def test_a_dev_eks_cluster_has_no_deletion_protection(run_with: RunWith) -> None:
    dev = run_with("dev", **{"mlops:serving": {"cluster": "eks"}, "mlops:compute": {"subnets": "private"}})
    assert inputs(dev.one(CLUSTER))["deletionProtection"] is False
    assert dev.get("aws:kms/key:Key", "eks-secrets-key").inputs["deletionWindowInDays"] == 7


def test_the_cluster_runs_in_the_private_subnets_of_the_shared_network(prod_aws: Recording) -> None:
    private = sorted(s.id for s in prod_aws.of_type("aws:ec2/subnet:Subnet") if "-private-" in s.name)
    assert len(private) == 2
    assert sorted(inputs(cluster(prod_aws))["vpcConfig"]["subnetIds"]) == private


def test_the_cluster_waits_for_its_log_group_and_every_grant_of_its_roles(prod_aws: Recording) -> None:
    grants = [r.urn for r in prod_aws.resources if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment" and r.name.startswith("eks-")]
    grants.append(prod_aws.get("aws:iam/rolePolicy:RolePolicy", "eks-cluster-secrets-key").urn)
    assert len(grants) == 8
    assert set(grants) <= set(cluster(prod_aws).dependencies)


