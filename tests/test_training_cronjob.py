"""Training as a CronJob on the cluster (compute.kind: none), as the program registers it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.training_cronjob import attempt_deadline_seconds, run_deadline_seconds
from offline.engine import Recording
from tests.manifests import container, env, manifest, of_kind, pod_spec
from tests.support import CPU_TRAINING, SCHEDULED, RunWith


def cronjob(run: Recording) -> dict[str, Any]:
    return manifest(run, "CronJob", "iris-train")


def job(run: Recording) -> dict[str, Any]:
    return cronjob(run)["spec"]["jobTemplate"]["spec"]


def trainer(run: Recording) -> dict[str, Any]:
    return container(cronjob(run))


def statements(run: Recording) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(run.named("training-iris-identity-policy").inputs["policy"])["Statement"]}


def test_dev_without_compute_trains_on_the_cluster(dev_cluster_training: Recording) -> None:
    assert cronjob(dev_cluster_training)["apiVersion"] == "batch/v1"


def test_dev_with_ec2_compute_has_no_training_cronjob(dev: Recording) -> None:
    # Batch trains; a CronJob as well would run every night twice. (The pull-secret renewers are some:
    # the workloads' namespace's and Airflow's.)
    assert sorted(c["metadata"]["name"] for c in of_kind(dev, "CronJob")) == ["renew-airflow-pull-secret", "renew-pull-secret"]


def test_runs_on_the_training_schedule_in_utc(dev_cluster_training: Recording, prod: Recording) -> None:
    # Without timeZone the controller uses the control plane's zone: the run moves with it.
    spec = cronjob(dev_cluster_training)["spec"]
    assert spec["schedule"] == "0 3 * * *"
    assert spec["timeZone"] == "Etc/UTC"
    assert (cronjob(prod)["spec"]["schedule"], cronjob(prod)["spec"]["timeZone"]) == ("0 2 * * 1-5", "Etc/UTC")


def test_runs_never_overlap(dev_cluster_training: Recording) -> None:
    assert cronjob(dev_cluster_training)["spec"]["concurrencyPolicy"] == "Forbid"


def test_a_run_missed_by_more_than_an_hour_is_skipped(dev_cluster_training: Recording) -> None:
    # A cluster down overnight would otherwise start the missed run whenever it comes back, in work hours.
    assert cronjob(dev_cluster_training)["spec"]["startingDeadlineSeconds"] == 60 * 60


def test_a_failed_attempt_is_retried_twice(dev_cluster_training: Recording) -> None:
    assert job(dev_cluster_training)["backoffLimit"] == 2


def deadlines(run: Recording) -> tuple[int, int]:
    """(the pod's activeDeadlineSeconds: one attempt, the Job's: the whole run)."""
    return pod_spec(cronjob(run))["activeDeadlineSeconds"], job(run)["activeDeadlineSeconds"]


# Without a deadline per attempt, a hung run holds its GPU until the Job's deadline; without
# one on the Job spanning the retries, the third attempt is killed before its timeout.
def test_on_the_cluster_an_attempt_gets_the_training_timeout(dev_cluster_training: Recording, run_with: RunWith) -> None:
    # compute.kind none: the cluster's own nodes, none started for a run: no allowance.
    assert deadlines(dev_cluster_training) == (60 * 60, 3 * 60 * 60)
    run = run_with("dev", **{"mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0, "timeoutMinutes": 10}}}})
    assert deadlines(run) == (10 * 60, 3 * 10 * 60)


def test_on_gke_a_gpu_attempt_also_gets_time_for_a_node_to_start(prod: Recording, run_with: RunWith) -> None:
    # The GPU pool scales from zero: a run first waits 5-15 minutes for its node.
    assert deadlines(prod) == (120 * 60 + 15 * 60, 3 * (120 * 60 + 15 * 60))
    run = run_with("prod", **{"mlops:projects": {"iris": {"train": {"timeoutMinutes": 10}}}})
    assert deadlines(run) == (10 * 60 + 15 * 60, 3 * (10 * 60 + 15 * 60))


def test_on_gke_no_allowance_where_no_node_must_start(run_with: RunWith) -> None:
    # A GPU node kept warm (minNodes 1) is there already; a CPU run uses the serving nodes.
    warm = run_with("prod", **{"mlops:compute": {"minNodes": 1}})
    assert deadlines(warm) == (120 * 60, 3 * 120 * 60)
    cpu = run_with("prod", **{"mlops:projects": {"iris": {"train": {"gpus": 0}}}})
    assert deadlines(cpu) == (120 * 60, 3 * 120 * 60)


def test_three_finished_runs_of_each_outcome_keep_their_logs(dev_cluster_training: Recording) -> None:
    # 0 deletes a failed run's pod (and its logs) at once; the default keeps only one failure.
    spec = cronjob(dev_cluster_training)["spec"]
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 3)


def test_finished_jobs_are_cleaned_up_by_the_history_limits_not_a_ttl(dev_cluster_training: Recording) -> None:
    # A TTL would delete a failed run's Job (and its logs) before anyone reads them.
    assert "ttlSecondsAfterFinished" not in job(dev_cluster_training)


def test_gate_failure_and_bad_input_are_never_retried(dev_cluster_training: Recording) -> None:
    rules = job(dev_cluster_training)["podFailurePolicy"]["rules"]
    [fail] = [r for r in rules if r["action"] == "FailJob"]
    assert fail["onExitCodes"] == {"containerName": "train", "operator": "In", "values": [2, 3, 4, 5, 6]}
    assert pod_spec(cronjob(dev_cluster_training))["restartPolicy"] == "Never"


def test_final_exit_codes_fail_the_run_and_evictions_do_not_count(dev_cluster_training: Recording) -> None:
    # Order matters (the first matching rule wins); without the Ignore rule a preempted GPU pod
    # uses up a retry, and two preemptions fail the night's run.
    assert job(dev_cluster_training)["podFailurePolicy"] == {"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "train", "operator": "In", "values": [2, 3, 4, 5, 6]}},
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
    ]}


def test_the_trainer_container_is_named_as_the_exit_code_rule_names_it(dev_cluster_training: Recording) -> None:
    # The API server rejects a rule naming a container the pod does not have (tests/k8s_api_rules.py).
    assert trainer(dev_cluster_training)["name"] == "train"


def test_a_run_gets_one_core_and_2_gib(dev_cluster_training: Recording, prod: Recording) -> None:
    # The builtin and CSV models train in seconds on one core (compute.kind none: no GPU); the same on GKE, with its GPU.
    assert trainer(dev_cluster_training)["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    assert trainer(prod)["resources"]["requests"] == {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "1"}


@pytest.mark.parametrize("stack", ["dev_cluster_training", "prod"])
def test_every_training_object_carries_the_workload_labels(request: pytest.FixtureRequest, stack: str) -> None:
    # The Job and its pods too: `kubectl logs -l app.kubernetes.io/name=train` finds every run.
    run: Recording = request.getfixturevalue(stack)
    instance = "mlops-dev" if stack.startswith("dev") else "mlops-prod"
    labels = {
        "app.kubernetes.io/name": "train",
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/part-of": "mlops",
        "mlops/project": "iris",
    }
    assert cronjob(run)["metadata"] == {"name": "iris-train", "namespace": instance, "labels": labels}
    assert cronjob(run)["spec"]["jobTemplate"]["metadata"] == {"labels": labels}
    assert job(run)["template"]["metadata"] == {"labels": labels}
    assert manifest(run, "ServiceAccount", "iris-train")["metadata"]["labels"] == labels


def test_training_objects_are_children_of_the_training_component(dev_cluster_training: Recording) -> None:
    # A parent change is a URN change: without aliases Pulumi deletes and recreates them.
    component = dev_cluster_training.get("mlops:training:TrainingCronJob", "training-iris")
    assert {(r.type, r.name) for r in dev_cluster_training.children_of(component)} == {
        ("mlops:identity:AccessKeyIdentity", "training-iris-identity"),
        ("kubernetes:core/v1:ServiceAccount", "training-iris-sa"),
        ("kubernetes:batch/v1:CronJob", "training-iris-cronjob"),
    }


def test_the_gpu_node_allowance_is_fifteen_minutes_per_attempt() -> None:
    # GKE: a VM, the GPU driver and an image pull onto an empty disk take 5-15 minutes.
    assert attempt_deadline_seconds(60, gpu_node_from_zero=False) == 3600
    assert attempt_deadline_seconds(60, gpu_node_from_zero=True) == 3600 + 900


def test_a_run_is_priced_and_bounded_at_three_full_attempts() -> None:
    # backoffLimit 2: the first try and two retries, each at its deadline.
    assert run_deadline_seconds(600) == 1800
    assert run_deadline_seconds(600, attempts=1) == 600


def test_trains_the_serving_model_into_the_bucket(dev_cluster_training: Recording) -> None:
    bucket = dev_cluster_training.outputs["bucketName"]
    assert trainer(dev_cluster_training)["args"] == [
        "--data", "builtin:iris", "--model", "iris", "--output", f"s3://{bucket}/models"
    ]


def test_data_key_is_read_from_the_data_bucket(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0, "data": "datasets/iris.csv"}}}})
    bucket = run.outputs["bucketName"]
    assert trainer(run)["args"][:2] == ["--data", f"s3://{bucket}/datasets/iris.csv"]
    assert statements(run)["ReadData"]["Resource"] == [f"arn:aws:s3:::{bucket}/datasets/iris.csv"]
    assert statements(run)["ListOwnPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/*", "datasets/iris.csv"]}}


def test_runs_the_train_image_by_digest(dev_cluster_training: Recording) -> None:
    assert trainer(dev_cluster_training)["image"] == dev_cluster_training.outputs["imageRefs"]["train"]
    assert "@sha256:" in trainer(dev_cluster_training)["image"]


def test_the_training_credentials_are_a_read_only_file(dev_cluster_training: Recording) -> None:
    # As for serving: the key reaches the pod as a 0440 file boto3 reads, never as env.
    assert pod_spec(cronjob(dev_cluster_training))["volumes"][1] == {
        "name": "aws-credentials", "secret": {"secretName": "training-iris-identity-aws", "defaultMode": 0o440}
    }
    assert trainer(dev_cluster_training)["volumeMounts"][1] == {
        "name": "aws-credentials", "mountPath": "/var/run/secrets/mlops/aws", "readOnly": True
    }
    assert env(cronjob(dev_cluster_training)) == {
        "MLOPS_TRAINING_IMAGE": dev_cluster_training.outputs["imageRefs"]["train"],
        "AWS_SHARED_CREDENTIALS_FILE": "/var/run/secrets/mlops/aws/credentials",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_the_pod_is_told_the_image_it_runs(dev_cluster_training: Recording, prod: Recording) -> None:
    # metadata.json records it: the digest the run really ran, on the cluster as on Batch.
    for run in (dev_cluster_training, prod):
        assert container(cronjob(run))["env"][0] == {"name": "MLOPS_TRAINING_IMAGE", "value": run.outputs["imageRefs"]["train"]}
        assert env(cronjob(run))["MLOPS_TRAINING_IMAGE"] == trainer(run)["image"]


def test_training_writes_only_its_models_prefix(dev_cluster_training: Recording) -> None:
    policy = statements(dev_cluster_training)
    bucket = dev_cluster_training.outputs["bucketArn"]
    assert set(policy) == {"ListOwnPrefixes", "WriteModels", "UseBucketKeyThroughS3"}, "builtin data needs no read"
    assert policy["WriteModels"] == {
        "Sid": "WriteModels", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{bucket}/models/iris/*"
    }
    assert policy["ListOwnPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/*"]}}


def test_training_has_its_own_service_account_and_credential(dev_cluster_training: Recording) -> None:
    spec = pod_spec(cronjob(dev_cluster_training))
    assert spec["serviceAccountName"] == "iris-train"
    assert manifest(dev_cluster_training, "ServiceAccount", "iris-train")["automountServiceAccountToken"] is False
    secrets = [v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v]
    assert secrets == ["training-iris-identity-aws"]
    assert env(cronjob(dev_cluster_training))["AWS_DEFAULT_REGION"] == "us-east-1"


def test_training_pods_have_the_serving_pod_security(dev_cluster_training: Recording) -> None:
    serving = container(manifest(dev_cluster_training, "Deployment", "iris-server"))
    assert trainer(dev_cluster_training)["securityContext"] == serving["securityContext"]
    training_pod = pod_spec(cronjob(dev_cluster_training))
    serving_pod = pod_spec(manifest(dev_cluster_training, "Deployment", "iris-server"))
    assert training_pod["securityContext"] == serving_pod["securityContext"]
    assert any(m["mountPath"] == "/tmp" for m in trainer(dev_cluster_training)["volumeMounts"])


def test_gpus_are_requested_with_the_nvidia_toleration(prod: Recording) -> None:
    # The prod stack gives training one GPU, on GKE's GPU pool.
    assert trainer(prod)["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod_spec(cronjob(prod))["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]


def test_cpu_training_asks_for_no_gpu(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0}}}})
    assert "nvidia.com/gpu" not in trainer(run)["resources"]["limits"]
    assert "tolerations" not in pod_spec(cronjob(run))


def test_train_now_creates_a_job_from_the_cronjob(run_with: RunWith) -> None:
    # Without Airflow (with it, the project's DAG: tests/pipeline/test_airflow_outputs.py).
    assert run_with("dev", **CPU_TRAINING, **SCHEDULED).outputs["projects"]["iris"]["trainNowCommand"] == (
        "kubectl create job -n mlops-dev --from=cronjob/iris-train iris-train-manual-$(date +%s)"
    )


def test_train_now_names_the_configured_context(run_with: RunWith) -> None:
    run = run_with("dev", **CPU_TRAINING, **SCHEDULED, **{"kubernetes:context": "kind-mlops"})
    assert run.outputs["projects"]["iris"]["trainNowCommand"].startswith("kubectl --context kind-mlops create job ")


# --- with and without the pipeline ----------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev_cluster_training", "prod"])
def test_with_airflow_the_cronjob_is_suspended(request: pytest.FixtureRequest, stack: str) -> None:
    # Airflow runs the project on this schedule, copying the job template into a Job; the CronJob
    # itself running too would train every night twice.
    assert cronjob(request.getfixturevalue(stack))["spec"]["suspend"] is True


@pytest.mark.parametrize(("stack", "changes"), [("dev_cluster_training", CPU_TRAINING), ("prod", {})])
def test_without_airflow_the_cronjob_is_the_same_one_running_on_its_schedule(
    request: pytest.FixtureRequest, run_with: RunWith, stack: str, changes: dict[str, Any]
) -> None:
    with_airflow = cronjob(request.getfixturevalue(stack))
    scheduled = cronjob(run_with("dev" if changes else "prod", **changes, **SCHEDULED))
    assert "suspend" not in scheduled["spec"]
    assert {**scheduled, "spec": {**scheduled["spec"], "suspend": True}} == with_airflow

