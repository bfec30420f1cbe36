"""stacks/Pulumi.prod-aws.yaml: prod's protections on an AWS-only stack, its placeholders named,
and teardown lifting what protects it."""

from __future__ import annotations

from offline.engine import Recording, stack_config
from offline.placeholders import placeholders
from tests.manifests import manifest, of_kind, pod_spec
from tests.support import RunWith

PROTECTED = {
    ("aws:s3/bucket:Bucket", "data"), ("aws:s3/bucket:Bucket", "data-backup"), ("aws:s3/bucket:Bucket", "data-access-logs"),
    ("aws:kms/key:Key", "data-key"), ("aws:kms/key:Key", "data-backup-key"),
    ("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "data-replication"),
}


def test_the_data_is_protected_replicated_and_access_logged(prod_aws: Recording) -> None:
    assert all(prod_aws.get(*resource).protect for resource in PROTECTED)
    assert prod_aws.outputs["backupBucketName"].startswith("mlops-prod-aws-backup-")
    assert prod_aws.one("aws:s3/bucketLogging:BucketLogging").inputs["targetPrefix"] == "s3-access/"


def test_teardown_lifts_every_protection(run_with: RunWith) -> None:
    torn = run_with("prod-aws", **{"mlops:teardown": "true"})
    assert [r.name for r in torn.resources if r.protect] == []
    assert torn.get("aws:s3/bucket:Bucket", "data").inputs["forceDestroy"] is True


def test_training_is_on_demand_batch_in_private_subnets(prod_aws: Recording) -> None:
    resources = prod_aws.one("aws:batch/computeEnvironment:ComputeEnvironment").inputs["computeResources"]
    assert (resources["type"], resources["minVcpus"], resources["instanceTypes"]) == ("EC2", 0, ["g5.xlarge"])


def test_serving_keeps_two_pods_spread_behind_a_disruption_budget(prod_aws: Recording) -> None:
    hpa = manifest(prod_aws, "HorizontalPodAutoscaler", "iris-server")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert manifest(prod_aws, "PodDisruptionBudget", "iris-server")["spec"]["maxUnavailable"] == 1
    spread = pod_spec(manifest(prod_aws, "Deployment", "iris-server"))["topologySpreadConstraints"]
    assert [(c["topologyKey"], c["whenUnsatisfiable"]) for c in spread] == [
        ("topology.kubernetes.io/zone", "ScheduleAnyway"), ("kubernetes.io/hostname", "DoNotSchedule")
    ]


def test_the_nodes_pull_images_so_there_is_no_pull_secret(prod_aws: Recording) -> None:
    # The only Secrets are Airflow's (its generated keys and the database's connection string).
    secrets = [m for m in of_kind(prod_aws, "Secret") if m["type"] == "kubernetes.io/dockerconfigjson"]
    assert secrets == []
    assert {m["metadata"]["namespace"] for m in of_kind(prod_aws, "Secret")} == {"mlops-prod-aws-airflow"}
    assert "imagePullSecrets" not in pod_spec(manifest(prod_aws, "Deployment", "iris-server"))


def test_its_sample_values_are_listed_to_replace() -> None:
    assert [line.strip() for line in placeholders(stack_config("prod-aws"))] == [
        "mlops:eks.publicAccessCidrs[0]: 203.0.113.0/24  (a documentation range (RFC 5737) that no real network uses: use your own CIDRs)",
        "mlops:monitoring.notify.emails[0]: ml-oncall@example.com  (an example address (RFC 2606) that reaches nobody: use your on-call address)",
    ]
