"""What each component registers as its own outputs (kept in the state, shown by `pulumi stack export`
and read by anyone who uses the stack's state), as the mock engine records them."""

from __future__ import annotations

from typing import Any

import pytest

from offline.engine import Recording


@pytest.fixture(scope="module")
def component_outputs(dev_cluster_training: Recording) -> dict[str, dict[str, Any]]:
    """dev with cluster training: every component's registered outputs, by resource name."""
    return {urn.rsplit("::", 1)[-1]: outputs for urn, outputs in dev_cluster_training.component_outputs.items()}


def test_serving_records_its_service_endpoint_and_port_forward(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["serving-iris"] == {
        "serviceName": "iris-server",
        "endpoint": "http://iris-server.mlops-dev.svc.cluster.local:8080/v2/models/iris/infer",
        "portForwardCommand": "kubectl port-forward -n mlops-dev service/iris-server 8080:8080",
    }


def test_training_records_its_run_now_command(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["training-iris"] == {
        "runNowCommand": "kubectl create job -n mlops-dev --from=cronjob/iris-train iris-train-manual-$(date +%s)"
    }


def test_the_namespace_records_its_name_and_pull_secret(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["workloads"] == {"name": "mlops-dev", "pullSecretName": "registry-pull"}


def test_an_identity_records_its_credentials_secret(component_outputs: dict[str, dict[str, Any]]) -> None:
    assert component_outputs["serving-iris-identity"] == {"secretName": "serving-iris-identity-aws"}


def test_images_record_their_digest_refs(component_outputs: dict[str, dict[str, Any]]) -> None:
    refs = component_outputs["images"]["refs"]
    assert set(refs) == {"train", "serve", "pipeline"}  # the DAG image with Airflow
    assert all("@sha256:" in ref for ref in refs.values())


def test_storage_records_its_bucket_names(prod: Recording) -> None:
    buckets = {r.name: r.id for r in prod.of_type("aws:s3/bucket:Bucket")}
    assert prod.outputs_of("mlops:storage:DataBucket", "data") == {
        "bucketName": buckets["data"],
        "backupBucketName": buckets["data-backup"],
        "logBucketName": buckets["data-access-logs"],
    }


def test_a_hardened_bucket_records_its_name_and_arn(prod: Recording) -> None:
    bucket = prod.get("aws:s3/bucket:Bucket", "data")
    assert prod.outputs_of("mlops:storage:HardenedBucket", "data") == {"name": bucket.id, "arn": bucket.state["arn"]}


def test_batch_training_records_its_queue_definition_and_log_group(dev: Recording, dev_scheduled: Recording) -> None:
    outputs = dev.outputs_of("mlops:batch:BatchTraining", "training")
    assert (outputs["jobQueue"], outputs["jobDefinitions"], outputs["logGroup"]) == (
        "mlops-dev-train", {"iris": "mlops-dev-iris-train"}, "/aws/batch/mlops-dev-train")
    # The commands are the stack outputs of the same names (trainNowCommand without Airflow, which starts a DAG).
    assert (outputs["describeCommand"], outputs["logsCommand"]) == (dev.outputs["describeJobCommand"], dev.outputs["logsCommand"])
    scheduled = dev_scheduled.outputs_of("mlops:batch:BatchTraining", "training")
    assert scheduled["submitCommands"]["iris"] == dev_scheduled.outputs["projects"]["iris"]["trainNowCommand"]


def test_the_training_network_records_its_vpc_subnets_and_routes(dev: Recording) -> None:
    assert dev.outputs_of("mlops:network:TrainingNetwork", "training-net") == {
        "vpcId": dev.get("aws:ec2/vpc:Vpc", "training-net-vpc").id,
        "subnetIds": [r.id for r in dev.of_type("aws:ec2/subnet:Subnet")],
        "routeTableIds": [r.id for r in dev.of_type("aws:ec2/routeTable:RouteTable")],
    }


def test_the_registry_records_its_repository_urls(dev: Recording) -> None:
    assert dev.outputs_of("mlops:registry:EcrRegistry", "registry") == {
        "repositoryUrls": {name: dev.get("aws:ecr/repository:Repository", f"registry-{name}").state["repositoryUrl"]
                           for name in ("train", "serve", "pipeline")}
    }
