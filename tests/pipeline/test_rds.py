"""components/pipeline/rds.py: Airflow's database on RDS, registered by a program of its own under the mock engine.

Private, encrypted with its own key, TLS only, open to the cluster's security group only,
backed up daily; in prod protected against deletion, with a final snapshot. The chart gets a
Secret with the connection string, and the NetworkPolicies the VPC's range on 5432.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from offline.engine import MOCK_RANDOM_PASSWORD, Recording, Registration, run_program
from offline.values import reveal
from policy.rules import evaluate, mandatory

PROGRAM = """
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.config.pipeline import DatabaseConfig
from components.pipeline.rds import rds_database

# The stack's tags, as components/providers.py puts them on every AWS resource (the deployer policy needs project).
aws_provider = aws.Provider("aws", region="us-east-1", default_tags={"tags": {"project": "mlops", "stack": "test"}})
cluster = k8s.Provider("cluster", kubeconfig="{}")
db = rds_database(
    "airflow-db",
    database=DatabaseConfig.model_validate(SETTINGS["database"]),
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=["subnet-private-a", "subnet-private-b"],
    client_security_group_id="sg-0cluster000000000",
    vpc_cidr="10.20.0.0/16",
    namespace="mlops-test-airflow",
    name_prefix="mlops-test",
    protect=SETTINGS["protect"],
    key_deletion_window_days=SETTINGS["window"],
    tags={"ml-component": "airflow"},
    in_region=pulumi.ResourceOptions(providers={"aws": aws_provider}),
    on_cluster=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": cluster}),
)
pulumi.export("chartValues", db.chart_values)
pulumi.export("egress", [
    {"to": [peer.ip_block.cidr for peer in rule.to], "ports": [[port.protocol, port.port] for port in rule.ports]}
    for rule in db.egress
])
"""

PROD = {"database": {"instanceClass": "db.t4g.small", "diskGb": 50, "backupRetentionDays": 14}, "protect": True, "window": 30}
DEV = {"database": {}, "protect": False, "window": 7}
INSTANCE = "aws:rds/instance:Instance"
IDENTIFIER = "mlops-test-airflow-db"


def database_alone(tmp_path: Path, settings: dict[str, Any]) -> Recording:
    program = tmp_path / "program.py"
    program.write_text(f"SETTINGS = {settings!r}\n{PROGRAM}")
    return run_program("test", {"aws:region": "us-east-1"}, program=program)


@pytest.fixture(scope="module")
def prod_db(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return database_alone(tmp_path_factory.mktemp("prod-db"), PROD)


@pytest.fixture(scope="module")
def dev_db(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return database_alone(tmp_path_factory.mktemp("dev-db"), DEV)


def instance(run: Recording) -> dict[str, Any]:
    return reveal(run.one(INSTANCE).inputs)


def test_the_instance_is_private_postgres_16_in_the_subnet_group(prod_db: Recording) -> None:
    db = instance(prod_db)
    assert (db["engine"], db["engineVersion"], db["autoMinorVersionUpgrade"]) == ("postgres", "16", True)
    assert (db["identifier"], db["publiclyAccessible"], db["port"]) == (IDENTIFIER, False, 5432)
    assert db["engineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    group = prod_db.one("aws:rds/subnetGroup:SubnetGroup").inputs
    assert (group["name"], group["subnetIds"]) == (IDENTIFIER, ["subnet-private-a", "subnet-private-b"])
    assert db["dbSubnetGroupName"] == IDENTIFIER


def test_storage_is_gp3_encrypted_with_the_databases_own_rotating_key(prod_db: Recording, dev_db: Recording) -> None:
    for run, window in ((prod_db, 30), (dev_db, 7)):
        key = run.one("aws:kms/key:Key")
        db = instance(run)
        assert (db["storageType"], db["storageEncrypted"], db["kmsKeyId"]) == ("gp3", True, key.state["arn"])
        assert (key.inputs["enableKeyRotation"], key.inputs["deletionWindowInDays"]) == (True, window)


def test_the_size_and_class_come_from_config_with_rds_minimum_of_20_gb(prod_db: Recording, dev_db: Recording) -> None:
    prod, dev = instance(prod_db), instance(dev_db)
    assert (prod["instanceClass"], prod["allocatedStorage"], prod["maxAllocatedStorage"]) == ("db.t4g.small", 50, 1000)
    # The default diskGb, 10, is Cloud SQL's minimum; RDS's gp3 minimum is 20.
    assert (dev["instanceClass"], dev["allocatedStorage"], dev["maxAllocatedStorage"]) == ("db.t4g.micro", 20, 1000)


def test_backups_are_kept_as_configured_and_copy_the_tags(prod_db: Recording, dev_db: Recording) -> None:
    assert (instance(prod_db)["backupRetentionPeriod"], instance(dev_db)["backupRetentionPeriod"]) == (14, 7)
    assert instance(prod_db)["copyTagsToSnapshot"] is True


def test_prod_is_protected_and_leaves_a_final_snapshot_and_its_backups(prod_db: Recording) -> None:
    db = instance(prod_db)
    assert (db["deletionProtection"], db["skipFinalSnapshot"], db["finalSnapshotIdentifier"]) == (True, False, f"{IDENTIFIER}-final")
    assert db["deleteAutomatedBackups"] is False
    assert (prod_db.one(INSTANCE).protect, prod_db.one("aws:kms/key:Key").protect) == (True, True)


def test_dev_can_be_destroyed_in_one_step(dev_db: Recording) -> None:
    db = instance(dev_db)
    assert (db["deletionProtection"], db["skipFinalSnapshot"], db["deleteAutomatedBackups"]) == (False, True, True)
    assert (dev_db.one(INSTANCE).protect, dev_db.one("aws:kms/key:Key").protect) == (False, False)


def test_the_server_refuses_connections_without_tls(prod_db: Recording) -> None:
    group = prod_db.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert (group["family"], group["namePrefix"]) == ("postgres16", f"{IDENTIFIER}-")
    assert group["parameters"] == [{"name": "rds.force_ssl", "value": "1", "applyMethod": "immediate"}]
    assert instance(prod_db)["parameterGroupName"] == prod_db.one("aws:rds/parameterGroup:ParameterGroup").state["name"]


def test_only_the_clusters_security_group_reaches_5432(prod_db: Recording) -> None:
    group = prod_db.one("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == "vpc-0123456789abcdef0"
    assert group.inputs["ingress"] == [{
        "description": "PostgreSQL from the cluster's nodes and pods", "protocol": "tcp", "fromPort": 5432, "toPort": 5432,
        "securityGroups": ["sg-0cluster000000000"],
    }]
    assert group.inputs["egress"] == []
    assert instance(prod_db)["vpcSecurityGroupIds"] == [group.id]


def test_the_password_is_generated_long_and_url_safe(prod_db: Recording) -> None:
    password = prod_db.one("random:index/randomPassword:RandomPassword")
    assert (password.inputs["length"], password.inputs["special"]) == (32, False)
    assert (instance(prod_db)["username"], instance(prod_db)["dbName"]) == ("airflow", "airflow")
    assert instance(prod_db)["password"] == password.state["result"]


def test_the_chart_reads_a_tls_connection_string_from_the_secret(prod_db: Recording) -> None:
    secret = prod_db.one("kubernetes:core/v1:Secret")
    address = prod_db.one(INSTANCE).state["address"]
    assert secret.inputs["metadata"]["name"] == "airflow-metadata"
    assert secret.inputs["metadata"]["namespace"] == "mlops-test-airflow"
    assert reveal(secret.inputs["stringData"]) == {
        "connection": f"postgresql://airflow:{(MOCK_RANDOM_PASSWORD * 2)[:32]}@{address}:5432/airflow?sslmode=require"
    }
    assert prod_db.outputs["chartValues"] == {"postgresql": {"enabled": False}, "data": {"metadataSecretName": "airflow-metadata"}}


def test_the_password_never_shows_in_the_clear(prod_db: Recording) -> None:
    # The state keeps it encrypted: the instance's password and the Secret's data are secrets.
    raw = prod_db.one("kubernetes:core/v1:Secret").inputs["stringData"]
    assert reveal(raw) != raw and reveal(prod_db.one(INSTANCE).inputs["password"]) != prod_db.one(INSTANCE).inputs["password"]


def test_airflow_reaches_the_database_anywhere_in_the_vpc_on_5432_only(prod_db: Recording) -> None:
    # A failover moves the instance to another address in another subnet: the VPC's range, not one IP.
    assert prod_db.outputs["egress"] == [{"to": ["10.20.0.0/16"], "ports": [["TCP", 5432]]}]


def test_the_database_resources_are_children_of_one_component_on_their_providers(prod_db: Recording) -> None:
    component = prod_db.one("mlops:pipeline:RdsDatabase")
    children = {r.type: r for r in prod_db.children_of(component)}
    assert set(children) == {
        "aws:kms/key:Key", "aws:rds/subnetGroup:SubnetGroup", "aws:ec2/securityGroup:SecurityGroup",
        "aws:rds/parameterGroup:ParameterGroup", "random:index/randomPassword:RandomPassword", INSTANCE,
        "kubernetes:core/v1:Secret",
    }
    assert _provider_name(children[INSTANCE]) == "aws"
    assert _provider_name(children["kubernetes:core/v1:Secret"]) == "cluster"


def _provider_name(resource: Registration) -> str:
    return resource.provider.split("::")[-2]


def test_the_policy_rules_pass_the_database_in_prod_and_in_dev(prod_db: Recording, dev_db: Recording) -> None:
    # rds-not-public, rds-storage-encrypted, rds-backups, rds-prod-deletion-protection, kms-key-rotation, ...
    assert mandatory(evaluate(prod_db.resources, environment="prod")) == []
    assert mandatory(evaluate(dev_db.resources, environment="dev")) == []
    assert [v.rule for v in evaluate(dev_db.resources, environment="prod")] == ["rds-prod-deletion-protection"]
