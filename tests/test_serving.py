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
SELECTOR = {
    "app.kubernetes.io/name": "model-server",
    "app.kubernetes.io/instance": "mlops-dev",
    "app.kubernetes.io/part-of": "mlops",
    "mlops/project": "iris",
}
K8S_PROVIDER = "pulumi:providers:kubernetes"


def deployment(run: Recording) -> dict[str, Any]:
    return manifest(run, "Deployment", "iris-server")


def hpa(run: Recording) -> dict[str, Any]:
    return manifest(run, "HorizontalPodAutoscaler", "iris-server")


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
    assert dev.outputs["projects"]["iris"]["portForwardCommand"].startswith("kubectl port-forward ")


def test_cluster_is_the_configured_kubernetes_context(run_with: RunWith) -> None:
    run = run_with("dev", **{"kubernetes:context": "kind-mlops"})
    assert run.one(K8S_PROVIDER).inputs["context"] == "kind-mlops"
    assert run.outputs["projects"]["iris"]["portForwardCommand"].startswith("kubectl --context kind-mlops port-forward ")


# --- namespace and identity ----------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_namespace_is_named_after_the_stack(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    # Beside Airflow's own (tests/pipeline/test_airflow_namespace.py).
    [namespace] = of_kind(run, "Namespace", namespace=NAMESPACE[stack])
    assert namespace["metadata"]["name"] == NAMESPACE[stack]
    assert run.outputs["servingNamespace"] == NAMESPACE[stack]


def test_namespace_enforces_the_restricted_pod_security_standard(dev: Recording) -> None:
    [namespace] = of_kind(dev, "Namespace", namespace="mlops-dev")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_serving_has_its_own_service_account(dev: Recording) -> None:
    account = manifest(dev, "ServiceAccount", "iris-server")
    assert pod_spec(deployment(dev))["serviceAccountName"] == account["metadata"]["name"]


def test_service_account_token_is_not_mounted(dev: Recording) -> None:
    assert manifest(dev, "ServiceAccount", "iris-server")["automountServiceAccountToken"] is False
    assert pod_spec(deployment(dev))["automountServiceAccountToken"] is False


def test_serving_reads_only_its_models_prefix(dev: Recording) -> None:
    bucket = dev.outputs["bucketArn"]
    policy = statements(dev, "serving-iris-identity-policy")
    assert set(policy) == {"ListModelPrefix", "ReadModel", "UseBucketKeyThroughS3"}
    assert policy["ReadModel"]["Action"] == "s3:GetObject"
    assert policy["ReadModel"]["Resource"] == f"{bucket}/models/iris/*"
    assert policy["ListModelPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/", "models/iris/*"]}}


def test_serving_decrypts_with_the_bucket_key_through_s3_only(dev: Recording) -> None:
    kms = statements(dev, "serving-iris-identity-policy")["UseBucketKeyThroughS3"]
    assert kms["Action"] == ["kms:Decrypt"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_access_key_is_a_secret_in_state(dev: Recording) -> None:
    credentials = manifest(dev, "Secret", "serving-iris-identity-aws")
    secret = dev.named("serving-iris-identity-credentials").inputs["stringData"]
    assert is_secret(secret), "the Secret's data is a Pulumi secret"
    assert MOCK_SECRET_ACCESS_KEY in credentials["stringData"]["credentials"]


def test_access_key_reaches_the_pod_as_a_file_not_env(dev: Recording) -> None:
    spec = pod_spec(deployment(dev))
    [volume] = [v for v in spec["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == "serving-iris-identity-aws"
    mount = next(m for m in server(dev)["volumeMounts"] if m["name"] == volume["name"])
    assert mount["readOnly"] is True
    assert env(deployment(dev))["AWS_SHARED_CREDENTIALS_FILE"] == f"{mount['mountPath']}/credentials"
    assert not [e for e in server(dev)["env"] if "valueFrom" in e or "SECRET" in e["name"]]


def test_pods_know_the_bucket_region(dev: Recording) -> None:
    assert env(deployment(dev))["AWS_DEFAULT_REGION"] == "us-east-1"


def test_pods_pull_with_the_registry_token(dev: Recording) -> None:
    pull = manifest(dev, "Secret", "registry-pull", namespace="mlops-dev")
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


def test_startup_allows_two_minutes_for_imports_and_the_model_download(dev: Recording) -> None:
    # 60 x 2 s: shorter, a slow model download restarts the pod for ever; liveness waits for it.
    assert server(dev)["startupProbe"] == {
        "httpGet": {"path": "/v2/health/live", "port": "http"}, "periodSeconds": 2, "timeoutSeconds": 2, "failureThreshold": 60
    }


def test_a_pod_leaves_the_endpoints_after_ten_seconds_unready(dev: Recording) -> None:
    # 2 x 5 s: a pod whose model is gone stops getting traffic quickly, and one slow answer does not drop it.
    assert server(dev)["readinessProbe"] == {
        "httpGet": {"path": "/v2/health/ready", "port": "http"}, "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 2
    }


def test_a_hung_server_is_restarted_after_thirty_seconds(dev: Recording) -> None:
    # 3 x 10 s on the live endpoint: a server that is up but still fetching a model is not restarted.
    assert server(dev)["livenessProbe"] == {
        "httpGet": {"path": "/v2/health/live", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 2, "failureThreshold": 3
    }


def test_probes_reach_the_serving_port(dev: Recording) -> None:
    [port] = server(dev)["ports"]
    assert port == {"name": "http", "containerPort": 8080, "protocol": "TCP"}
    assert {server(dev)[p]["httpGet"]["port"] for p in probe_paths(dev)} == {"http"}


@pytest.mark.parametrize(("stack", "cpu", "memory"), [("dev", "1", "512Mi"), ("prod", "1", "1Gi")])
def test_cpu_and_memory_requests_equal_limits(request: pytest.FixtureRequest, stack: str, cpu: str, memory: str) -> None:
    resources = server(request.getfixturevalue(stack))["resources"]
    assert resources["requests"] == resources["limits"] == {"cpu": cpu, "memory": memory}


def test_worker_count_follows_the_cpu_limit(dev: Recording, run_with: RunWith) -> None:
    # The server cannot see its CPU quota: more workers than cores are throttled, fewer leave cores idle.
    assert env(deployment(dev))["WEB_CONCURRENCY"] == "1"
    three_cores = run_with("dev", **{"mlops:projects": {"iris": {"serve": {"cpu": 3}}}})
    assert server(three_cores)["resources"]["limits"]["cpu"] == "3"
    assert env(deployment(three_cores))["WEB_CONCURRENCY"] == "3"


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_server_env_is_the_model_its_workers_its_port_and_its_credentials_file(request: pytest.FixtureRequest, stack: str) -> None:
    # images/serve reads each of these; a missing one serves nothing or listens on the wrong port.
    run: Recording = request.getfixturevalue(stack)
    assert server(run)["env"] == [
        {"name": "MODEL_URI", "value": f"s3://{run.outputs['bucketName']}/models/iris/LATEST"},
        {"name": "MODEL_NAME", "value": "iris"},
        {"name": "WEB_CONCURRENCY", "value": "1"},
        {"name": "PORT", "value": "8080"},
        {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/var/run/secrets/mlops/aws/credentials"},
        {"name": "AWS_DEFAULT_REGION", "value": "us-east-1"},
    ]


def test_the_server_container_is_named_server(dev: Recording) -> None:
    # `kubectl logs -c server` and the README name it.
    assert server(dev)["name"] == "server"


def test_no_gpu_unless_asked(dev: Recording) -> None:
    assert "nvidia.com/gpu" not in server(dev)["resources"]["limits"]
    assert "tolerations" not in pod_spec(deployment(dev))


def test_gpus_are_requested_with_the_nvidia_toleration(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:projects": {"iris": {"serve": {"gpus": 1}}}})
    assert server(run)["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod_spec(deployment(run))["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_model_uri_reads_the_promoted_version(dev: Recording) -> None:
    assert env(deployment(dev))["MODEL_URI"] == f"s3://{dev.outputs['bucketName']}/models/iris/LATEST"
    assert env(deployment(dev))["MODEL_NAME"] == "iris"


def test_model_uri_pins_a_configured_version(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:projects": {"iris": {"serve": {"modelVersion": "20260101T000000000000Z-abcd1234"}}}})
    assert env(deployment(run))["MODEL_URI"].endswith("/models/iris/20260101T000000000000Z-abcd1234")


def test_rollout_adds_one_pod_before_removing_any(dev: Recording) -> None:
    # maxUnavailable 0 keeps the ready count through a rollout; with maxSurge 0 beside it the
    # API server rejects the Deployment (tests/k8s_api_rules.py), with 2 the rollout needs two spare pods' room.
    assert deployment(dev)["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


def test_five_old_revisions_are_kept_to_roll_back_to(dev: Recording) -> None:
    # `kubectl rollout undo` needs the old ReplicaSets; the default (10) keeps twice the clutter.
    assert deployment(dev)["spec"]["revisionHistoryLimit"] == 5


def test_a_stopping_pod_keeps_serving_five_seconds_while_endpoints_drop_it(dev: Recording) -> None:
    # Without the pause, kube-proxy and load balancers still send requests to a pod that has stopped.
    assert server(dev)["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def test_in_flight_requests_get_thirty_seconds_before_the_kill(dev: Recording) -> None:
    # The pause and uvicorn's drain both come out of this; shorter, long requests are cut at SIGKILL.
    assert pod_spec(deployment(dev))["terminationGracePeriodSeconds"] == 30


@pytest.mark.parametrize("kind", ["Deployment", "Service"])
def test_up_does_not_wait_for_a_model_to_exist(dev: Recording, kind: str) -> None:
    # Before the first training run no pod can be ready; `pulumi up` must not hang on it.
    assert manifest(dev, kind, "iris-server")["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}


def test_selector_is_the_stable_labels(dev: Recording) -> None:
    spec = deployment(dev)["spec"]
    assert spec["selector"]["matchLabels"] == SELECTOR
    assert spec["template"]["metadata"]["labels"] == SELECTOR


@pytest.mark.parametrize("kind", ["Deployment", "Service", "HorizontalPodAutoscaler", "ServiceAccount", "NetworkPolicy"])
def test_every_serving_object_carries_the_workload_labels(dev: Recording, kind: str) -> None:
    # `kubectl get all -l app.kubernetes.io/name=model-server` and cost reports find them by these.
    name = "iris-server-ingress" if kind == "NetworkPolicy" else "iris-server"
    assert manifest(dev, kind, name)["metadata"]["labels"] == SELECTOR
    assert manifest(dev, kind, name)["metadata"]["namespace"] == "mlops-dev"


def test_prod_labels_name_the_prod_instance(prod: Recording) -> None:
    # Two stacks on one cluster: the instance label keeps their selectors apart.
    assert deployment(prod)["spec"]["selector"]["matchLabels"] == {**SELECTOR, "app.kubernetes.io/instance": "mlops-prod"}


def test_serving_objects_are_children_of_the_serving_component(dev: Recording) -> None:
    # A parent change is a URN change: without aliases Pulumi deletes and recreates every object.
    component = dev.get("mlops:serving:ModelServing", "serving-iris")
    assert component.parent.endswith("::mlops-dev")
    children = {(r.type, r.name) for r in dev.children_of(component)}
    assert children == {
        ("mlops:identity:AccessKeyIdentity", "serving-iris-identity"),
        ("kubernetes:core/v1:ServiceAccount", "serving-iris-sa"),
        ("kubernetes:apps/v1:Deployment", "serving-iris-deployment"),
        ("kubernetes:core/v1:Service", "serving-iris-service"),
        ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "serving-iris-hpa"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-iris-ingress"),
    }


def test_prod_serving_adds_the_disruption_budget_under_the_component(prod: Recording) -> None:
    component = prod.get("mlops:serving:ModelServing", "serving-iris")
    assert prod.get("kubernetes:policy/v1:PodDisruptionBudget", "serving-iris-pdb").parent == component.urn


# --- pod security ("restricted") -----------------------------------------------------------


def test_pod_volumes_are_tmp_and_the_credentials_file(dev: Recording) -> None:
    # 0440 (288): the key is readable by the image's group (fsGroup), not by every user in the pod.
    assert pod_spec(deployment(dev))["volumes"] == [
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        {"name": "aws-credentials", "secret": {"secretName": "serving-iris-identity-aws", "defaultMode": 0o440}},
    ]
    assert server(dev)["volumeMounts"] == [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "aws-credentials", "mountPath": "/var/run/secrets/mlops/aws", "readOnly": True},
    ]


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


def test_prod_service_is_an_internal_load_balancer_that_up_does_not_wait_on(prod: Recording) -> None:
    # The cluster's annotation keeps it inside the VPC; skipAwait keeps `up` from hanging before a model exists.
    service = manifest(prod, "Service", "iris-server")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {
        "pulumi.com/skipAwait": "true", "networking.gke.io/load-balancer-type": "Internal"
    }


def test_service_exposes_the_serving_port(dev: Recording) -> None:
    service = manifest(dev, "Service", "iris-server")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == SELECTOR
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]


def test_hpa_owns_replicas(dev: Recording) -> None:
    assert "replicas" not in deployment(dev)["spec"], "the Deployment must not fight the HPA over replicas"
    spec = hpa(dev)["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 2)


def test_prod_hpa_keeps_two_pods_and_grows_to_six(prod: Recording) -> None:
    # Below two, a rollout or a node loss leaves prod without a ready pod.
    spec = hpa(prod)["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 6)


def test_hpa_is_named_and_placed_with_the_deployment(dev: Recording) -> None:
    assert (hpa(dev)["metadata"]["name"], hpa(dev)["metadata"]["namespace"]) == ("iris-server", "mlops-dev")


def test_hpa_scales_the_deployment(dev: Recording) -> None:
    assert hpa(dev)["apiVersion"] == "autoscaling/v2"
    assert hpa(dev)["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "iris-server"}


@pytest.mark.parametrize(("stack", "target"), [("dev", 70), ("prod", 60)])
def test_hpa_targets_the_stack_cpu_utilization(request: pytest.FixtureRequest, stack: str, target: int) -> None:
    [metric] = hpa(request.getfixturevalue(stack))["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": target}


def test_hpa_scales_up_at_once_doubling_or_adding_four_pods_every_15_seconds(dev: Recording) -> None:
    # A burst is met within seconds; a window or a smaller step leaves requests queueing for minutes.
    assert hpa(dev)["spec"]["behavior"]["scaleUp"] == {
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}, {"type": "Pods", "value": 4, "periodSeconds": 15}],
    }


def test_hpa_scales_down_after_five_quiet_minutes_by_at_most_half_a_minute(dev: Recording) -> None:
    # A dip between bursts must not drop the capacity the next burst needs.
    assert hpa(dev)["spec"]["behavior"]["scaleDown"] == {
        "stabilizationWindowSeconds": 300,
        "selectPolicy": "Min",
        "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
    }


@pytest.mark.parametrize("stack", ["prod", "prod_on_aws"])
def test_prod_drains_take_one_pod_at_a_time_and_never_wait_on_an_unready_one(request: pytest.FixtureRequest, stack: str) -> None:
    # maxUnavailable 1 with two pods keeps one serving; IfHealthyBudget would let a crash-looping
    # pod block every node drain (a GKE upgrade) for ever.
    run: Recording = request.getfixturevalue(stack)
    [budget] = of_kind(run, "PodDisruptionBudget")
    assert budget["metadata"]["name"] == "iris-server"
    assert budget["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": deployment(run)["spec"]["selector"]["matchLabels"]},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


def test_dev_has_no_disruption_budget(dev: Recording) -> None:
    # One replica and a budget would block every node drain.
    assert of_kind(dev, "PodDisruptionBudget") == []


@pytest.mark.parametrize("stack", ["prod", "prod_on_aws"])
def test_prod_spreads_pods_across_zones_if_it_can_and_across_nodes_always(request: pytest.FixtureRequest, stack: str) -> None:
    # Zones soft (a one-zone cluster must still schedule), nodes hard (one node's loss takes at
    # most its share); pod-template-hash so a rollout's old pods do not skew the new ones.
    run: Recording = request.getfixturevalue(stack)
    selector = {"matchLabels": deployment(run)["spec"]["selector"]["matchLabels"]}
    assert pod_spec(deployment(run))["topologySpreadConstraints"] == [
        {"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": selector, "matchLabelKeys": ["pod-template-hash"]},
        {"topologyKey": "kubernetes.io/hostname", "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": selector, "matchLabelKeys": ["pod-template-hash"]},
    ]


def test_dev_does_not_spread(dev: Recording) -> None:
    assert "topologySpreadConstraints" not in pod_spec(deployment(dev))


# --- network -------------------------------------------------------------------------------


def test_namespace_denies_all_traffic_by_default(dev: Recording) -> None:
    deny = manifest(dev, "NetworkPolicy", "default-deny", namespace="mlops-dev")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_serving_admits_tcp_8080_from_anywhere_and_nothing_else(dev: Recording) -> None:
    # The namespace denies all ingress: without this policy the Service has no reachable backend.
    policy = manifest(dev, "NetworkPolicy", "iris-server-ingress")
    assert policy["spec"] == {
        "podSelector": {"matchLabels": SELECTOR},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"protocol": "TCP", "port": 8080}]}],
    }


def test_namespace_egress_is_dns_over_udp_and_tcp_then_https(dev: Recording) -> None:
    # DNS falls back to TCP for large answers; 443 reaches S3 and STS. Nothing else leaves the namespace.
    assert manifest(dev, "NetworkPolicy", "allow-dns-and-https-egress")["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
            {"ports": [{"protocol": "TCP", "port": 443}]},
        ],
    }


def test_only_the_serving_port_is_admitted(dev: Recording) -> None:
    ingress = [p for p in of_kind(dev, "NetworkPolicy", namespace="mlops-dev") if "Ingress" in p["spec"]["policyTypes"] and p["spec"].get("ingress")]
    assert len(ingress) == 1
    [rule] = ingress[0]["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert ingress[0]["spec"]["podSelector"]["matchLabels"] == SELECTOR


def test_egress_is_dns_and_https_only(dev: Recording) -> None:
    # Beyond these, only the pull-secret renewer may reach the API server's port (6443 on kind).
    egress = [p for p in of_kind(dev, "NetworkPolicy", namespace="mlops-dev") if p["spec"].get("egress")]
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
    assert dev.outputs["projects"]["iris"]["servingService"] == "iris-server"
    assert dev.outputs["projects"]["iris"]["servingEndpoint"] == "http://iris-server.mlops-dev.svc.cluster.local:8080/v2/models/iris/infer"


def test_port_forward_reaches_the_service(dev: Recording) -> None:
    assert dev.outputs["projects"]["iris"]["portForwardCommand"] == "kubectl port-forward -n mlops-dev service/iris-server 8080:8080"
