"""Model serving on Kubernetes, as the program registers it for each stack file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import ACCOUNT_ID, MOCK_SECRET_ACCESS_KEY, Recording
from offline.values import is_secret
from tests.manifests import container, env, manifest, of_kind, pod_spec
from tests.support import RunWith

NAMESPACE = {"dev": "mlops-dev", "prod": "mlops-prod"}
SERVE_REPOSITORY = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/serve"
SELECTOR = {"app.kubernetes.io/name": "model-server", "app.kubernetes.io/instance": "mlops-dev", "app.kubernetes.io/part-of": "mlops"}
K8S_PROVIDER = "pulumi:providers:kubernetes"


def deployment(run: Recording) -> dict[str, Any]:
    return manifest(run, "Deployment", "model-server")


def hpa(run: Recording) -> dict[str, Any]:
    return manifest(run, "HorizontalPodAutoscaler", "model-server")


def server(run: Recording) -> dict[str, Any]:
    return container(deployment(run))


def probe_paths(run: Recording) -> dict[str, str]:
    return {kind: server(run)[kind]["httpGet"]["path"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")}


def statements(run: Recording, user_policy: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(run.named(user_policy).inputs["policy"])["Statement"]}


# --- the cluster ---------------------------------------------------------------------------


def test_every_kubernetes_object_goes_through_the_cluster_provider(dev: Recording) -> None:
    [provider] = dev.of_type(K8S_PROVIDER)
    objects = [r for r in dev.resources if r.type.startswith("kubernetes:")]
    assert objects
    assert all(r.provider.startswith(f"{provider.urn}::") for r in objects)


def test_cluster_is_the_current_kubeconfig_context_by_default(dev: Recording) -> None:
    assert "context" not in dev.one(K8S_PROVIDER).inputs
    assert dev.outputs["portForwardCommand"].startswith("kubectl port-forward ")


def test_cluster_is_the_configured_kubernetes_context(run_with: RunWith) -> None:
    run = run_with("dev", **{"kubernetes:context": "kind-mlops"})
    assert run.one(K8S_PROVIDER).inputs["context"] == "kind-mlops"
    assert run.outputs["portForwardCommand"].startswith("kubectl --context kind-mlops port-forward ")


# --- namespace and identity ----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_namespace_is_named_after_the_stack(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    [namespace] = of_kind(run, "Namespace")
    assert namespace["metadata"]["name"] == NAMESPACE[stack]
    assert run.outputs["servingNamespace"] == NAMESPACE[stack]


def test_namespace_enforces_the_restricted_pod_security_standard(dev: Recording) -> None:
    [namespace] = of_kind(dev, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_serving_has_its_own_service_account(dev: Recording) -> None:
    account = manifest(dev, "ServiceAccount", "model-server")
    assert pod_spec(deployment(dev))["serviceAccountName"] == account["metadata"]["name"]


def test_service_account_token_is_not_mounted(dev: Recording) -> None:
    assert manifest(dev, "ServiceAccount", "model-server")["automountServiceAccountToken"] is False
    assert pod_spec(deployment(dev))["automountServiceAccountToken"] is False


def test_serving_reads_only_its_models_prefix(dev: Recording) -> None:
    bucket = dev.outputs["bucketArn"]
    policy = statements(dev, "serving-identity-policy")
    assert set(policy) == {"ListModelPrefix", "ReadModel", "UseBucketKeyThroughS3"}
    assert policy["ReadModel"]["Action"] == "s3:GetObject"
    assert policy["ReadModel"]["Resource"] == f"{bucket}/models/iris/*"
    assert policy["ListModelPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/", "models/iris/*"]}}


def test_serving_decrypts_with_the_bucket_key_through_s3_only(dev: Recording) -> None:
    kms = statements(dev, "serving-identity-policy")["UseBucketKeyThroughS3"]
    assert kms["Action"] == ["kms:Decrypt"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_access_key_is_a_secret_in_state(dev: Recording) -> None:
    credentials = manifest(dev, "Secret", "serving-identity-aws")
    secret = dev.named("serving-identity-credentials").inputs["stringData"]
    assert is_secret(secret), "the Secret's data is a Pulumi secret"
    assert MOCK_SECRET_ACCESS_KEY in credentials["stringData"]["credentials"]


def test_access_key_reaches_the_pod_as_a_file_not_env(dev: Recording) -> None:
    spec = pod_spec(deployment(dev))
    [volume] = [v for v in spec["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == "serving-identity-aws"
    mount = next(m for m in server(dev)["volumeMounts"] if m["name"] == volume["name"])
    assert mount["readOnly"] is True
    assert env(deployment(dev))["AWS_SHARED_CREDENTIALS_FILE"] == f"{mount['mountPath']}/credentials"
    assert not [e for e in server(dev)["env"] if "valueFrom" in e or "SECRET" in e["name"]]


def test_pods_know_the_bucket_region(dev: Recording) -> None:
    assert env(deployment(dev))["AWS_DEFAULT_REGION"] == "us-east-1"


def test_pods_pull_with_the_registry_token(dev: Recording) -> None:
    pull = manifest(dev, "Secret", "registry-pull")
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    assert is_secret(dev.named("workloads-pull").inputs["stringData"])
    auths = json.loads(pull["stringData"][".dockerconfigjson"])["auths"]
    assert auths[f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"]["password"] == "mock-registry-token"
    assert pod_spec(deployment(dev))["imagePullSecrets"] == [{"name": "registry-pull"}]


# --- the Deployment ------------------------------------------------------------------------


def test_server_runs_the_serve_image_by_digest(dev: Recording) -> None:
    assert server(dev)["image"] == dev.outputs["imageRefs"]["serve"]
    assert server(dev)["image"].startswith(f"{SERVE_REPOSITORY}@sha256:")


def test_probes_use_the_v2_health_endpoints(dev: Recording) -> None:
    assert probe_paths(dev) == {
        "startupProbe": "/v2/health/live",
        "readinessProbe": "/v2/health/ready",
        "livenessProbe": "/v2/health/live",
    }


def test_probes_reach_the_serving_port(dev: Recording) -> None:
    [port] = server(dev)["ports"]
    assert port == {"name": "http", "containerPort": 8080, "protocol": "TCP"}
    assert {server(dev)[p]["httpGet"]["port"] for p in probe_paths(dev)} == {"http"}


@pytest.mark.parametrize(("stack", "cpu", "memory"), [("dev", "1", "512Mi"), ("prod", "1", "1Gi")])
def test_cpu_and_memory_requests_equal_limits(request: pytest.FixtureRequest, stack: str, cpu: str, memory: str) -> None:
    resources = server(request.getfixturevalue(stack))["resources"]
    assert resources["requests"] == resources["limits"] == {"cpu": cpu, "memory": memory}


def test_worker_count_follows_the_cpu_limit(run_with: RunWith) -> None:
    three_cores = run_with("dev", **{"mlops:serving": {"cpu": 3}})
    assert server(three_cores)["resources"]["limits"]["cpu"] == "3"
    assert env(deployment(three_cores))["WEB_CONCURRENCY"] == "3"


def test_no_gpu_unless_asked(dev: Recording) -> None:
    assert "nvidia.com/gpu" not in server(dev)["resources"]["limits"]
    assert "tolerations" not in pod_spec(deployment(dev))


def test_gpus_are_requested_with_the_nvidia_toleration(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:serving": {"gpus": 1}})
    assert server(run)["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod_spec(deployment(run))["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_model_uri_reads_the_promoted_version(dev: Recording) -> None:
    assert env(deployment(dev))["MODEL_URI"] == f"s3://{dev.outputs['bucketName']}/models/iris/LATEST"
    assert env(deployment(dev))["MODEL_NAME"] == "iris"


def test_model_uri_pins_a_configured_version(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:serving": {"modelVersion": "20260101T000000000000Z-abcd1234"}})
    assert env(deployment(run))["MODEL_URI"].endswith("/models/iris/20260101T000000000000Z-abcd1234")


def test_rollout_never_drops_below_the_ready_count(dev: Recording) -> None:
    strategy = deployment(dev)["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_in_flight_requests_finish_before_the_pod_stops(dev: Recording) -> None:
    pause = server(dev)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause >= 5
    assert pod_spec(deployment(dev))["terminationGracePeriodSeconds"] > pause


@pytest.mark.parametrize("kind", ["Deployment", "Service"])
def test_up_does_not_wait_for_a_model_to_exist(dev: Recording, kind: str) -> None:
    # Before the first training run no pod can be ready; `pulumi up` must not hang on it.
    assert manifest(dev, kind, "model-server")["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}


def test_selector_is_the_stable_labels(dev: Recording) -> None:
    spec = deployment(dev)["spec"]
    assert spec["selector"]["matchLabels"] == SELECTOR
    assert spec["template"]["metadata"]["labels"] == SELECTOR


# --- pod security ("restricted") -----------------------------------------------------------


def test_pods_run_as_the_image_user_never_root(dev: Recording) -> None:
    pod = pod_spec(deployment(dev))["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001
    assert server(dev)["securityContext"]["runAsNonRoot"] is True
    assert server(dev)["securityContext"]["runAsUser"] == 10001


def test_no_privilege_escalation(dev: Recording) -> None:
    assert server(dev)["securityContext"]["allowPrivilegeEscalation"] is False
    assert server(dev)["securityContext"]["privileged"] is False


def test_root_filesystem_is_read_only_with_a_writable_tmp(dev: Recording) -> None:
    assert server(dev)["securityContext"]["readOnlyRootFilesystem"] is True
    tmp = next(m for m in server(dev)["volumeMounts"] if m["mountPath"] == "/tmp")
    [volume] = [v for v in pod_spec(deployment(dev))["volumes"] if v["name"] == tmp["name"]]
    assert "emptyDir" in volume


def test_all_capabilities_are_dropped(dev: Recording) -> None:
    assert server(dev)["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_seccomp_is_the_runtime_default(dev: Recording) -> None:
    assert pod_spec(deployment(dev))["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert server(dev)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


# --- Service, HPA, PDB, spread -------------------------------------------------------------


def test_service_exposes_the_serving_port(dev: Recording) -> None:
    service = manifest(dev, "Service", "model-server")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == SELECTOR
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]


def test_hpa_owns_replicas(dev: Recording) -> None:
    assert "replicas" not in deployment(dev)["spec"], "the Deployment must not fight the HPA over replicas"
    spec = hpa(dev)["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 2)


def test_hpa_scales_the_deployment(dev: Recording) -> None:
    assert hpa(dev)["apiVersion"] == "autoscaling/v2"
    assert hpa(dev)["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "model-server"}


@pytest.mark.parametrize(("stack", "target"), [("dev", 70), ("prod", 60)])
def test_hpa_targets_the_stack_cpu_utilization(request: pytest.FixtureRequest, stack: str, target: int) -> None:
    [metric] = hpa(request.getfixturevalue(stack))["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": target}


def test_hpa_scales_up_at_once(dev: Recording) -> None:
    assert hpa(dev)["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0


def test_hpa_holds_back_scale_down(dev: Recording) -> None:
    assert hpa(dev)["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300


def test_prod_has_a_disruption_budget(prod: Recording) -> None:
    [budget] = of_kind(prod, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"] == deployment(prod)["spec"]["selector"]["matchLabels"]


def test_dev_has_no_disruption_budget(dev: Recording) -> None:
    # One replica and a budget would block every node drain.
    assert of_kind(dev, "PodDisruptionBudget") == []


def test_prod_spreads_pods_across_zones_and_nodes(prod: Recording) -> None:
    spread = pod_spec(deployment(prod))["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert all(c["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "model-server" for c in spread)


def test_dev_does_not_spread(dev: Recording) -> None:
    assert "topologySpreadConstraints" not in pod_spec(deployment(dev))


# --- network -------------------------------------------------------------------------------


def test_namespace_denies_all_traffic_by_default(dev: Recording) -> None:
    deny = manifest(dev, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_only_the_serving_port_is_admitted(dev: Recording) -> None:
    ingress = [p for p in of_kind(dev, "NetworkPolicy") if "Ingress" in p["spec"]["policyTypes"] and p["spec"].get("ingress")]
    assert len(ingress) == 1
    [rule] = ingress[0]["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert ingress[0]["spec"]["podSelector"]["matchLabels"] == SELECTOR


def test_egress_is_dns_and_https_only(dev: Recording) -> None:
    # Beyond these, only the pull-secret renewer may reach the API server's port (6443 on kind).
    egress = [p for p in of_kind(dev, "NetworkPolicy") if p["spec"].get("egress")]
    ports = {
        (port["protocol"], port["port"])
        for p in egress
        if p["metadata"]["name"] != "renew-pull-secret-api-egress"
        for rule in p["spec"]["egress"]
        for port in rule["ports"]
    }
    assert ports == {("UDP", 53), ("TCP", 53), ("TCP", 443)}


# --- outputs -------------------------------------------------------------------------------


def test_outputs_name_the_service_and_its_endpoint(dev: Recording) -> None:
    assert dev.outputs["servingService"] == "model-server"
    assert dev.outputs["servingEndpoint"] == "http://model-server.mlops-dev.svc.cluster.local:8080/v2/models/iris/infer"


def test_port_forward_reaches_the_service(dev: Recording) -> None:
    assert dev.outputs["portForwardCommand"] == "kubectl port-forward -n mlops-dev service/model-server 8080:8080"
