"""What every pod the platform runs shares (components/pods.py): checked on each workload that
builds its pod with `restricted_pod_spec`: serving, cluster training and the pull-secret renewer."""

from __future__ import annotations

from typing import Any, cast

import pytest

from components import pods
from offline.engine import Recording
from tests.manifests import container, manifest, pod_spec
from tests.support import RunWith

# (recording fixture, kind, name): one of each workload.
WORKLOADS = [
    ("dev_cluster_training", "Deployment", "iris-server"),
    ("dev_cluster_training", "CronJob", "iris-train"),
    ("dev_cluster_training", "CronJob", "renew-pull-secret"),
    ("prod", "Deployment", "iris-server"),
    ("prod", "CronJob", "iris-train"),
]
IDS = [f"{run}-{name}" for run, _, name in WORKLOADS]


@pytest.fixture(params=WORKLOADS, ids=IDS)
def workload(request: pytest.FixtureRequest) -> dict[str, Any]:
    run, kind, name = request.param
    return manifest(request.getfixturevalue(run), kind, name)


def test_the_images_user_is_uid_10001() -> None:
    # images/*/Dockerfile: USER 10001. Another uid than the image's own cannot read its files.
    assert pods.IMAGE_UID == 10001


def test_labels_are_name_instance_and_part_of() -> None:
    # They are the Deployment's (immutable) selector: a changed value replaces the Deployment.
    assert pods.labels("model-server", instance="mlops-dev") == {
        "app.kubernetes.io/name": "model-server",
        "app.kubernetes.io/instance": "mlops-dev",
        "app.kubernetes.io/part-of": "mlops",
    }


def test_container_runs_restricted(workload: dict[str, Any]) -> None:
    # Each key is one the "restricted" Pod Security Standard requires (or the image needs);
    # the namespace enforces it, so one missing key and the API server refuses the pod.
    assert container(workload)["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_pod_runs_as_the_image_user_with_its_group_owning_mounted_files(workload: dict[str, Any]) -> None:
    # fsGroup 10001: the credentials Secret (mode 0440, owner root) is readable by the image's user.
    assert pod_spec(workload)["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_tmp_is_a_disk_backed_empty_dir_of_256_mib(workload: dict[str, Any]) -> None:
    # Read-only root: without it the server's metrics and library temp files fail; memory-backed
    # it would count against the memory limit and OOM-kill the pod.
    tmp = pod_spec(workload)["volumes"][0]
    assert tmp == {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}
    assert container(workload)["volumeMounts"][0] == {"name": "tmp", "mountPath": "/tmp"}


def test_images_pinned_by_digest_are_pulled_only_if_not_present(workload: dict[str, Any]) -> None:
    # Always would need the registry token on every restart; the dev token expires in 12 hours.
    assert container(workload)["imagePullPolicy"] == "IfNotPresent"


def test_the_service_account_token_is_not_mounted_unless_the_identity_trades_it(workload: dict[str, Any]) -> None:
    # A token in every pod lets a compromised process call the API server as its ServiceAccount.
    assert pod_spec(workload)["automountServiceAccountToken"] is False


def test_cpu_and_memory_requests_equal_limits(workload: dict[str, Any]) -> None:
    # Guaranteed QoS: a request below the limit is throttled and evicted first under pressure.
    resources = container(workload)["resources"]
    assert resources["requests"] == resources["limits"]


def test_no_toleration_without_gpus(dev: Recording) -> None:
    # A toleration without the GPU lets a CPU pod take a GPU node's place.
    spec = pod_spec(manifest(dev, "Deployment", "iris-server"))
    assert "tolerations" not in spec
    assert container(manifest(dev, "Deployment", "iris-server"))["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}


def test_a_gpu_pod_asks_for_its_gpus_and_tolerates_the_gpu_taint(run_with: RunWith) -> None:
    # Without the toleration the pod never schedules on the tainted GPU nodes; without the
    # limit it lands there with no GPU of its own.
    run = run_with("dev", **{"mlops:projects": {"iris": {"serve": {"gpus": 2}}}})
    served = manifest(run, "Deployment", "iris-server")
    assert container(served)["resources"] == {
        "requests": {"cpu": "1", "memory": "512Mi", "nvidia.com/gpu": "2"},
        "limits": {"cpu": "1", "memory": "512Mi", "nvidia.com/gpu": "2"},
    }
    assert pod_spec(served)["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


@pytest.mark.parametrize(("run", "kind", "name"), [("dev", "Deployment", "iris-server"), ("dev_cluster_training", "CronJob", "iris-train")])
def test_dev_pods_pull_with_the_namespace_pull_secret(request: pytest.FixtureRequest, run: str, kind: str, name: str) -> None:
    # Without it a kind cluster's kubelet cannot pull from the private ECR.
    workload = manifest(request.getfixturevalue(run), kind, name)
    assert pod_spec(workload)["imagePullSecrets"] == [{"name": "registry-pull"}]


@pytest.mark.parametrize(("kind", "name"), [("Deployment", "iris-server"), ("CronJob", "iris-train")])
def test_gke_pods_pull_with_the_nodes_identity(prod: Recording, kind: str, name: str) -> None:
    # GKE nodes pull from Artifact Registry themselves: a pull secret there names nothing.
    assert "imagePullSecrets" not in pod_spec(manifest(prod, kind, name))


def test_only_a_deployment_gets_a_grace_period_and_only_jobs_a_restart_policy(dev_cluster_training: Recording) -> None:
    served = pod_spec(manifest(dev_cluster_training, "Deployment", "iris-server"))
    trained = pod_spec(manifest(dev_cluster_training, "CronJob", "iris-train"))
    assert (served.get("restartPolicy"), served["terminationGracePeriodSeconds"]) == (None, 30)
    assert (trained["restartPolicy"], trained.get("terminationGracePeriodSeconds")) == ("Never", None)
    assert "topologySpreadConstraints" not in trained


@pytest.mark.parametrize(
    "args",
    [
        "components.pods:Placement",
        "components.pods:RestrictedContainer",
        "components.identity:PodAccess",
        "components.serving:ServiceExposure",
        "components.serving:ModelServingArgs",
        "components.training_cronjob:TrainingCronJobArgs",
        "components.namespace:WorkloadNamespaceArgs",
        "components.pull_secret_renewer:PullSecretRenewerArgs",
    ],
)
def test_workload_arguments_are_immutable(args: str) -> None:
    # One Placement (and its identities) is handed to serving, training and the renewer, and the
    # renewer builds its PodAccess from the identity's: a component that changed a shared one in
    # place would change the other workloads' pods too.
    import dataclasses
    import importlib

    module, _, name = args.partition(":")
    cls = getattr(importlib.import_module(module), name)
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "name", "default"),
    [
        # Internal unless a cluster says otherwise, and public only when asked: a default LoadBalancer
        # or public endpoint would put the model on the internet.
        ("components.serving:ServiceExposure", "type", "ClusterIP"),
        ("components.serving:ServiceExposure", "public", False),
        # Pulumi owns the pull Secret's data unless something on the cluster renews it: otherwise the
        # token would expire 12 hours after the last `up` with nothing to replace it.
        ("components.namespace:WorkloadNamespaceArgs", "pull_secret_renewed", False),
        # No 15-minute node allowance (billed per attempt) for a cluster that does not start nodes.
        ("components.training_cronjob:TrainingCronJobArgs", "gpu_nodes_start_from_zero", False),
        # No GPU (and no GPU-node toleration) unless a workload asks for one.
        ("components.pods:RestrictedContainer", "gpus", 0),
    ],
)
def test_workload_argument_defaults_are_the_safe_ones(args: str, name: str, default: object) -> None:
    import dataclasses
    import importlib

    module, _, cls_name = args.partition(":")
    fields = {f.name: f for f in dataclasses.fields(getattr(importlib.import_module(module), cls_name))}
    assert fields[name].default == default
    assert type(fields[name].default) is type(default)


def test_a_placements_bucket_scope_is_what_the_iam_policies_take() -> None:
    placement = pods.Placement(
        namespace="mlops-dev", instance="mlops-dev", image_pull_secret=None, identities=cast(Any, object()), kubectl="kubectl",
        region="us-east-1", bucket_name="b", bucket_arn="arn:aws:s3:::b", bucket_kms_key_arn="arn:aws:kms:us-east-1:1:key/k",
    )
    assert placement.bucket_scope == {
        "bucket_arn": "arn:aws:s3:::b", "kms_key_arn": "arn:aws:kms:us-east-1:1:key/k", "region": "us-east-1"
    }
