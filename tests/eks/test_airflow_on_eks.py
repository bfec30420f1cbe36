"""Airflow on the prod-aws stack's EKS cluster: its database on RDS in the nodes' VPC, open to the nodes'
security group, no Postgres on the cluster, and the egress Auto Mode's pods need (the Pod Identity Agent,
DNS answered on each node)."""

from __future__ import annotations

from typing import Any

from offline.engine import MOCK_RANDOM_PASSWORD, Recording
from offline.values import reveal
from tests.eks.support import POD_IDENTITY, SUBNET, cluster, inputs
from tests.manifests import manifest, of_kind
from tests.pipeline.airflow_support import values
from tests.test_pod_identity import static_keys

NAMESPACE = "mlops-prod-aws-airflow"
AIRFLOW_PODS = {"tier": "airflow", "release": "airflow"}
INSTANCE = "aws:rds/instance:Instance"
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def policy(run: Recording, name: str) -> dict[str, Any]:
    return manifest(run, "NetworkPolicy", name, namespace=NAMESPACE)


def test_airflows_database_is_one_private_rds_instance(prod_aws: Recording) -> None:
    db = inputs(prod_aws.one(INSTANCE))
    assert (db["identifier"], db["engine"], db["instanceClass"]) == ("mlops-prod-aws-airflow-db", "postgres", "db.t4g.micro")
    assert (db["publiclyAccessible"], db["storageEncrypted"], db["deletionProtection"]) == (False, True, True)
    assert db["backupRetentionPeriod"] == 7
    assert prod_aws.one(INSTANCE).protect is True


def test_its_subnet_group_is_the_private_subnets_the_nodes_run_in(prod_aws: Recording) -> None:
    private = [s.id for s in prod_aws.of_type(SUBNET) if s.name.startswith("network-private-")]
    assert len(private) == 2
    assert inputs(prod_aws.one("aws:rds/subnetGroup:SubnetGroup"))["subnetIds"] == private
    assert inputs(cluster(prod_aws))["vpcConfig"]["subnetIds"] == private


def test_only_the_cluster_security_group_reaches_it_and_only_on_5432(prod_aws: Recording) -> None:
    # Auto Mode's nodes carry the cluster security group EKS makes; their pods use the nodes' interfaces.
    cluster_group = cluster(prod_aws).state["vpcConfig"]["clusterSecurityGroupId"]
    firewall = inputs(prod_aws.get("aws:ec2/securityGroup:SecurityGroup", "airflow-database-sg"))
    assert [(r["protocol"], r["fromPort"], r["toPort"], r["securityGroups"]) for r in firewall["ingress"]] == [
        ("tcp", 5432, 5432, [cluster_group])
    ]
    assert firewall["egress"] == []
    assert firewall["vpcId"] == prod_aws.one("aws:ec2/vpc:Vpc").id


def test_the_chart_reads_the_rds_connection_from_its_secret(prod_aws: Recording) -> None:
    assert values(prod_aws)["postgresql"] == {"enabled": False}
    assert values(prod_aws)["data"] == {"metadataSecretName": "airflow-metadata"}
    secret = manifest(prod_aws, "Secret", "airflow-metadata", namespace=NAMESPACE)
    address = prod_aws.one(INSTANCE).state["address"]
    password = (MOCK_RANDOM_PASSWORD * 8)[:32]
    assert reveal(secret["stringData"]) == {
        "connection": f"postgresql://airflow:{password}@{address}:5432/airflow?sslmode=require"
    }


def test_no_postgres_runs_on_the_cluster(prod_aws: Recording) -> None:
    assert [r.name for r in prod_aws.resources if r.type == "mlops:pipeline:InClusterPostgres"] == []
    assert [s["metadata"]["name"] for s in of_kind(prod_aws, "Secret") if "postgresql" in s["metadata"]["name"]] == []
    names = {p["metadata"]["name"] for p in of_kind(prod_aws, "NetworkPolicy", namespace=NAMESPACE)}
    assert "allow-database-ingress" not in names


def test_airflow_reaches_the_database_anywhere_in_the_vpc_on_5432(prod_aws: Recording) -> None:
    # A failover moves the instance's address within the VPC.
    assert policy(prod_aws, "allow-database-egress")["spec"] == {
        "podSelector": {"matchLabels": AIRFLOW_PODS},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.40.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 5432}]}],
    }


def test_every_airflow_pod_reaches_the_pod_identity_agent(prod_aws: Recording) -> None:
    assert policy(prod_aws, "allow-cluster-egress")["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}], "ports": [{"protocol": "TCP", "port": 80}]}],
    }


def test_clusters_without_an_agent_get_no_such_policy(dev: Recording, prod: Recording) -> None:
    for run in (dev, prod):
        names = {p["metadata"]["name"] for p in of_kind(run, "NetworkPolicy", namespace=run.outputs["airflowNamespace"])}
        assert "allow-cluster-egress" not in names


def test_dns_goes_to_any_address_on_53_as_auto_mode_answers_on_each_node(prod_aws: Recording) -> None:
    # No kube-dns pods to select on Auto Mode: CoreDNS runs on the node, behind the kube-dns address.
    assert policy(prod_aws, "allow-dns-egress")["spec"] == {
        "podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": DNS_PORTS}],
    }


def test_the_serving_namespace_admits_dns_to_any_address_too(prod_aws: Recording) -> None:
    egress = manifest(prod_aws, "NetworkPolicy", "allow-dns-and-https-egress", namespace="mlops-prod-aws")["spec"]["egress"]
    assert egress[0] == {"ports": DNS_PORTS}


def test_airflows_service_account_waits_for_its_pod_identity_association(prod_aws: Recording) -> None:
    association = prod_aws.get(POD_IDENTITY, "airflow-identity-association")
    assert association.inputs["serviceAccount"] == "airflow"
    assert association.urn in prod_aws.get("kubernetes:core/v1:ServiceAccount", "airflow-sa").dependencies


def test_no_static_aws_key_anywhere_with_airflow(prod_aws: Recording) -> None:
    assert [r.name for r in prod_aws.resources if r.type == "mlops:pipeline:AirflowPipeline"] == ["airflow"]
    assert static_keys(prod_aws) == []
    env = {entry["name"] for entry in values(prod_aws)["env"]}
    assert not env & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SHARED_CREDENTIALS_FILE"}
