"""`make graph` on an EKS stack: the cluster, its access entries and pod identities, and the RDS database
are drawn with their types and tied to what they name (offline/graph.py)."""

from __future__ import annotations

import pytest

from offline.engine import Recording
from offline.graph import edges, mermaid, node_id
from tests.pipeline.test_rds import PROD, database_alone
from tests.test_graph import reg

ROLE_ARN = "arn:aws:iam::123456789012:role/mlops/mlops-prod-aws-iris-server"
CLUSTER = reg("aws:eks/cluster:Cluster", "eks", id_="mlops-prod-aws", state={"name": "mlops-prod-aws", "arn": "arn:aws:eks:us-east-1:123456789012:cluster/mlops-prod-aws"})
ENTRY = reg("aws:eks/accessEntry:AccessEntry", "eks-deployer-entry", clusterName="mlops-prod-aws", principalArn="arn:aws:iam::123456789012:role/deployer")
POLICY = reg("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "eks-deployer-policy", clusterName="mlops-prod-aws")
ROLE = reg("aws:iam/role:Role", "serving-iris-role", id_="mlops-prod-aws-iris-server", state={"arn": ROLE_ARN, "name": "mlops-prod-aws-iris-server"})
POD_IDENTITY = reg("aws:eks/podIdentityAssociation:PodIdentityAssociation", "serving-iris-identity",
                   clusterName="mlops-prod-aws", roleArn=ROLE_ARN, namespace="mlops-prod-aws", serviceAccount="iris-server")
EKS = [CLUSTER, ENTRY, POLICY, ROLE, POD_IDENTITY]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return database_alone(tmp_path_factory.mktemp("graph-db"), PROD)


def test_eks_types_are_labelled_by_service_and_kind() -> None:
    drawn = mermaid(EKS)
    for resource, label in ((CLUSTER, "eks.Cluster"), (ENTRY, "eks.AccessEntry"), (POLICY, "eks.AccessPolicyAssociation"),
                            (POD_IDENTITY, "eks.PodIdentityAssociation")):
        assert f'  {node_id(resource.urn)}["{label}<br/>{resource.name}"]' in drawn.splitlines()


def test_access_and_pod_identities_point_at_their_cluster_and_role() -> None:
    assert edges(EKS) == {
        (ENTRY.urn, CLUSTER.urn, "ref"),
        (POLICY.urn, CLUSTER.urn, "ref"),
        (POD_IDENTITY.urn, CLUSTER.urn, "ref"),
        (POD_IDENTITY.urn, ROLE.urn, "ref"),
    }


def test_the_database_points_at_its_key_subnets_firewall_and_parameters(database: Recording) -> None:
    by_type = {r.type: r for r in database.resources}
    instance = by_type["aws:rds/instance:Instance"]
    refs = {target for source, target, kind in edges(database.resources) if source == instance.urn and kind == "ref"}
    assert refs == {by_type[t].urn for t in ("aws:kms/key:Key", "aws:rds/subnetGroup:SubnetGroup",
                                               "aws:ec2/securityGroup:SecurityGroup", "aws:rds/parameterGroup:ParameterGroup")}


def test_nothing_else_is_tied_to_the_database_by_a_shared_name(database: Recording) -> None:
    # Its identifier is not Airflow's namespace name, which every Airflow object carries.
    group = next(r for r in database.resources if r.type == "aws:rds/subnetGroup:SubnetGroup")
    assert {source for source, target, kind in edges(database.resources) if target == group.urn and kind == "ref"} == {
        next(r.urn for r in database.resources if r.type == "aws:rds/instance:Instance")}


def test_the_database_component_is_drawn_as_one_with_its_parts(database: Recording) -> None:
    component = next(r for r in database.resources if r.type == "mlops:pipeline:RdsDatabase")
    drawn = mermaid(database.resources).splitlines()
    assert f'  {node_id(component.urn)}(["RdsDatabase<br/>airflow-db"])' in drawn
    assert sum(line.startswith(f"  {node_id(component.urn)} --> ") for line in drawn) == 7
