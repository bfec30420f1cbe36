"""Keyless S3 access from EKS pods: EKS Pod Identity, one role per ServiceAccount, nothing in the pod
but the region, and no static key anywhere in the prod-aws stack."""

from __future__ import annotations

import json
from typing import Any

from components.pod_identity import AGENT_ADDRESS, AGENT_PORT, pod_identity_trust
from offline.engine import ACCOUNT_ID, Recording, Registration
from offline.values import reveal
from tests.manifests import container, manifest, manifests, pod_spec

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:cluster/mlops-prod-aws"
NAMESPACE = "mlops-prod-aws"


def serving_role(recording: Recording) -> Registration:
    return recording.get(ROLE, "serving-iris-identity-role")


def statements(recording: Recording, name: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(recording.get(ROLE_POLICY, name).inputs["policy"])["Statement"]}


def test_the_role_is_assumable_by_pod_identity_for_its_service_account_only(prod_aws: Recording) -> None:
    assert json.loads(serving_role(prod_aws).inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThisServiceAccount",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
                        "aws:RequestTag/kubernetes-namespace": NAMESPACE,
                        "aws:RequestTag/kubernetes-service-account": "iris-server",
                    }
                },
            }
        ],
    }


def test_each_condition_follows_its_argument() -> None:
    condition = pod_identity_trust(cluster_arn="arn:c", namespace="ns", service_account="sa")["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {
        "aws:RequestTag/eks-cluster-arn": "arn:c", "aws:RequestTag/kubernetes-namespace": "ns",
        "aws:RequestTag/kubernetes-service-account": "sa",
    }}


def test_the_association_ties_the_service_account_to_its_role(prod_aws: Recording) -> None:
    association = prod_aws.get(ASSOCIATION, "serving-iris-identity-association")
    assert {k: association.inputs[k] for k in ("clusterName", "namespace", "serviceAccount", "roleArn")} == {
        "clusterName": "mlops-prod-aws", "namespace": NAMESPACE, "serviceAccount": "iris-server",
        "roleArn": serving_role(prod_aws).state["arn"],
    }
    assert "disableSessionTags" not in association.inputs, "the trust's conditions read the session tags"


def test_the_role_is_under_the_project_path_with_the_boundary_and_reads_its_model_only(prod_aws: Recording) -> None:
    role = serving_role(prod_aws)
    assert (role.inputs["name"], role.inputs["path"], role.inputs["maxSessionDuration"]) == ("mlops-prod-aws-iris-server", "/mlops/", 3600)
    found = statements(prod_aws, "serving-iris-identity-policy")
    assert set(found) == {"ListModelPrefix", "ReadModel", "UseBucketKeyThroughS3"}
    assert found["ReadModel"]["Resource"] == f"{prod_aws.outputs['bucketArn']}/models/iris/*"


def test_the_serving_pod_carries_only_the_region(prod_aws: Recording) -> None:
    deployment = manifest(prod_aws, "Deployment", "iris-server")
    env = {e["name"]: e.get("value") for e in container(deployment)["env"]}
    assert {k: v for k, v in env.items() if k.startswith("AWS_")} == {"AWS_DEFAULT_REGION": "us-east-1"}
    pod = pod_spec(deployment)
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]
    assert pod["automountServiceAccountToken"] is False


def test_the_service_account_has_no_annotation_and_waits_for_the_association(prod_aws: Recording) -> None:
    account = prod_aws.get("kubernetes:core/v1:ServiceAccount", "serving-iris-sa")
    assert "annotations" not in reveal(account.inputs)["metadata"]
    assert reveal(account.inputs)["automountServiceAccountToken"] is False
    # EKS adds the credentials only to pods admitted after the association exists.
    assert prod_aws.get(ASSOCIATION, "serving-iris-identity-association").urn in account.dependencies


def test_the_namespace_admits_egress_to_the_pod_identity_agent(prod_aws: Recording) -> None:
    policy = manifest(prod_aws, "NetworkPolicy", "allow-dns-and-https-egress")
    assert policy["spec"]["egress"][-1] == {"to": [{"ipBlock": {"cidr": AGENT_ADDRESS}}], "ports": [{"protocol": "TCP", "port": AGENT_PORT}]}
    assert (AGENT_ADDRESS, AGENT_PORT) == ("169.254.170.23/32", 80)


def test_other_stacks_admit_no_agent_egress(dev: Recording, prod: Recording) -> None:
    for recording in (dev, prod):
        policy = manifest(recording, "NetworkPolicy", "allow-dns-and-https-egress")
        assert all("to" not in rule for rule in policy["spec"]["egress"])


def test_role_arns_are_outputs(prod_aws: Recording) -> None:
    assert prod_aws.outputs["projects"]["iris"]["servingRoleArn"] == (
        f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/mlops-prod-aws-iris-server"
    )


def test_alertmanager_publishes_as_its_service_accounts_role(prod_aws: Recording) -> None:
    association = prod_aws.get(ASSOCIATION, "monitoring-sns-publisher-association")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("monitoring", "alertmanager")
    found = statements(prod_aws, "monitoring-sns-publisher-policy")
    assert found["PublishToTopic"] == {
        "Sid": "PublishToTopic", "Effect": "Allow", "Action": "sns:Publish", "Resource": prod_aws.outputs["notificationTopicArn"]
    }
    [config] = [m for m in manifests(prod_aws) if m["kind"] == "AlertmanagerConfig"]
    # No key to sign with: Alertmanager's pod has Pod Identity's credentials.
    assert config["spec"]["receivers"][0]["snsConfigs"][0]["sigv4"] == {"region": "us-east-1"}


KEY_ITEMS = {"credentials", "access-key-id", "secret-access-key"}
"""The Secret keys a static AWS key is kept under (components/identity.py, the Alertmanager's sigv4 layout)."""


def static_keys(recording: Recording) -> list[str]:
    """Every static AWS key a run makes: IAM access keys and users, and Secrets that hold one."""
    found = [r.name for r in recording.of_type("aws:iam/accessKey:AccessKey") + recording.of_type("aws:iam/user:User")]
    found += [
        f"Secret/{m['metadata']['name']}"
        for m in manifests(recording)
        if m["kind"] == "Secret" and set(m.get("stringData", {}) | m.get("data", {})) & KEY_ITEMS
    ]
    return sorted(found)


def test_no_static_aws_key_anywhere_in_prod_aws(prod_aws: Recording) -> None:
    assert static_keys(prod_aws) == []


def test_the_key_check_finds_devs_keys(dev: Recording) -> None:
    # dev's kubeconfig cluster has no identity AWS can trust: its workloads hold keys, which the check must see.
    assert "Secret/monitoring-sns-publisher-aws" in static_keys(dev)
    assert any(name.endswith("-key") for name in static_keys(dev))
