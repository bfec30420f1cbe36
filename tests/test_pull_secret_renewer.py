"""dev's image pull Secret, renewed on the cluster: the objects the program registers, and the
renew script itself, run against moto (ECR) and a stand-in API server."""

from __future__ import annotations

import base64
import datetime
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer

from components import renew_pull_secret as renew
from components.pull_secret_renewer import IMAGE, SCRIPT
from offline.engine import Recording
from tests.manifests import container, env, manifest, of_kind, pod_spec

NAME = "renew-pull-secret"


def cronjob(run: Recording) -> dict[str, Any]:
    return manifest(run, "CronJob", NAME)


def test_renews_every_six_hours_in_utc(dev: Recording) -> None:
    # A token lasts 12 hours: renewed every 6, a pod on a new node can always pull.
    spec = cronjob(dev)["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("23 */6 * * *", "Etc/UTC", "Forbid")
    assert spec["startingDeadlineSeconds"] == 5 * 60 * 60
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 600


def test_may_patch_the_pull_secret_and_nothing_else(dev: Recording) -> None:
    # A Role on all Secrets would hand the renewer every workload's AWS key in the namespace.
    assert manifest(dev, "Role", NAME)["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["registry-pull"], "verbs": ["patch"]}
    ]
    binding = manifest(dev, "RoleBinding", NAME)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": "mlops-dev"}]
    assert pod_spec(cronjob(dev))["serviceAccountName"] == NAME


def test_its_aws_key_may_only_get_a_registry_token(dev: Recording) -> None:
    policy = json.loads(dev.named("pull-secret-renewer-identity-policy").inputs["policy"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "GetRegistryToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}],
    }
    assert dev.named("pull-secret-renewer-identity-user").inputs["name"] == "mlops-dev-renew-pull-secret"


def test_pulumi_leaves_the_renewed_token_alone(dev: Recording) -> None:
    # Otherwise each `up` puts back its own (older) token, and every drift check reports the renewed one.
    assert dev.named("workloads-pull").ignore_changes == ("stringData", "data")


def test_its_image_is_public_and_pinned_by_digest(dev: Recording) -> None:
    # From the private ECR, it could not start once the token it is there to renew has expired.
    renewer = container(cronjob(dev))
    assert renewer["image"] == IMAGE
    assert IMAGE.startswith("docker.io/library/python:3.11.14-slim-bookworm@sha256:")
    assert len(IMAGE.rpartition("@sha256:")[2]) == 64
    assert "imagePullSecrets" not in pod_spec(cronjob(dev))


def test_it_runs_the_renew_script_with_its_target(dev: Recording) -> None:
    renewer = container(cronjob(dev))
    assert renewer["args"] == ["python3", "-c", SCRIPT.read_text()]
    assert env(cronjob(dev)) == {
        "NAMESPACE": "mlops-dev",
        "PULL_SECRET": "registry-pull",
        "REGISTRY": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "AWS_SHARED_CREDENTIALS_FILE": "/var/run/secrets/mlops/aws/credentials",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_only_the_renewer_gets_an_api_token_and_a_short_one(dev: Recording) -> None:
    spec = pod_spec(cronjob(dev))
    assert spec["automountServiceAccountToken"] is False
    [api] = [v for v in spec["volumes"] if v["name"] == "kubernetes-api"]
    assert api["projected"]["sources"] == [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 600}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
    ]
    mounts = {m["name"]: m["mountPath"] for m in container(cronjob(dev))["volumeMounts"]}
    assert mounts["kubernetes-api"] == renew.TOKEN_DIR


def test_it_may_reach_the_api_server_port(dev: Recording) -> None:
    # The namespace denies all egress but DNS and 443; kind's API server listens on 6443.
    policy = manifest(dev, "NetworkPolicy", f"{NAME}-api-egress")["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == NAME
    assert policy["egress"] == [{"ports": [{"protocol": "TCP", "port": 6443}]}]


def test_gke_nodes_pull_themselves_so_prod_has_no_renewer(prod: Recording) -> None:
    # Neither the workloads' namespace nor Airflow's has one.
    assert [r["metadata"]["name"] for r in of_kind(prod, "Role") if "renew" in r["metadata"]["name"]] == []
    assert [c["metadata"]["name"] for c in of_kind(prod, "CronJob")] == ["iris-train"]


# --- the script, run for real ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_ecr() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}/"
    server.stop()


def credentials_file(tmp_path: Path) -> Path:
    path = tmp_path / "credentials"
    path.write_text("[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example-secret\n")
    return path


def test_the_token_comes_from_ecr_get_authorization_token(moto_ecr: str, tmp_path: Path) -> None:
    address, username, password = renew.ecr_token(
        region="us-east-1", credentials_file=str(credentials_file(tmp_path)), endpoint=moto_ecr
    )
    assert address == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert username == "AWS"
    assert password != ""


def test_the_request_is_signed_as_botocore_signs_it() -> None:
    # moto accepts any signature; real ECR refuses a wrong one, so compare with botocore's SigV4.
    now = datetime.datetime(2026, 5, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    url, body = "https://api.ecr.us-east-1.amazonaws.com/", b"{}"
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": renew.TARGET}
    ours = renew.sigv4_headers(url=url, body=body, region="us-east-1", key_id="AKIAEXAMPLE", secret="s3cr3t", headers=headers, now=now)
    request = AWSRequest(method="POST", url=url, data=body, headers={**headers, "X-Amz-Date": ours["X-Amz-Date"]})
    request.context["timestamp"] = ours["X-Amz-Date"]  # botocore's add_auth would take the clock's
    signer = SigV4Auth(Credentials("AKIAEXAMPLE", "s3cr3t"), "ecr", "us-east-1")
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    assert ours["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260501/us-east-1/ecr/aws4_request, "
        f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(request))}, Signature={signature}"
    )


def test_the_secret_gets_a_merge_patch_of_its_docker_config() -> None:
    seen: dict[str, Any] = {}

    class ApiServer(BaseHTTPRequestHandler):
        def do_PATCH(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers["Content-Length"])
            seen.update(path=self.path, type=self.headers["Content-Type"], auth=self.headers["Authorization"],
                        body=json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), ApiServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        document = renew.docker_config_json("123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS", "token")
        renew.patch_secret(api=f"http://127.0.0.1:{server.server_port}", namespace="mlops-dev", name="registry-pull",
                           document=document, token="sa-token", context=renew.ssl.create_default_context())
    finally:
        server.shutdown()
    assert seen["path"] == "/api/v1/namespaces/mlops-dev/secrets/registry-pull?fieldManager=renew-pull-secret"
    assert seen["type"] == "application/merge-patch+json"
    assert seen["auth"] == "Bearer sa-token"
    written = json.loads(base64.b64decode(seen["body"]["data"][".dockerconfigjson"]))
    assert written == {"auths": {"123456789012.dkr.ecr.us-east-1.amazonaws.com": {
        "username": "AWS", "password": "token", "auth": base64.b64encode(b"AWS:token").decode()}}}


def test_the_renewed_secret_has_the_form_pulumi_first_wrote(dev: Recording) -> None:
    # Same address and layout as at creation, so the kubelet reads the renewed one the same way.
    first = json.loads(manifest(dev, "Secret", "registry-pull", namespace="mlops-dev")["stringData"][".dockerconfigjson"])
    assert first == json.loads(renew.docker_config_json("123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS", "mock-registry-token"))


# --- the rest of its CronJob, exactly ------------------------------------------------------------

RENEWER_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": "mlops-dev", "app.kubernetes.io/part-of": "mlops"}


def test_a_failed_renewal_is_retried_three_times_within_ten_minutes(dev: Recording) -> None:
    # ECR or the API server briefly unreachable: without retries the token ages to the next slot (6 h).
    job = cronjob(dev)["spec"]["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (3, 600)
    assert pod_spec(cronjob(dev))["restartPolicy"] == "Never"


def test_one_success_and_three_failures_are_kept(dev: Recording) -> None:
    # Failures keep their logs for a look; successes every 6 hours would pile up.
    spec = cronjob(dev)["spec"]
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (1, 3)


def test_it_is_a_small_container_named_renew(dev: Recording) -> None:
    # It runs a stdlib script for seconds; more would hold a laptop cluster's room for nothing.
    renewer = container(cronjob(dev))
    assert renewer["name"] == "renew"
    assert renewer["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "100m", "memory": "128Mi"}}


def test_its_api_token_is_a_read_only_file_of_mode_0440(dev: Recording) -> None:
    # Group-readable by the image's user (fsGroup) only; the mount is read-only like the credentials'.
    spec = pod_spec(cronjob(dev))
    [api] = [v for v in spec["volumes"] if v["name"] == "kubernetes-api"]
    assert api["projected"]["defaultMode"] == 0o440
    [mount] = [m for m in container(cronjob(dev))["volumeMounts"] if m["name"] == "kubernetes-api"]
    assert mount == {"name": "kubernetes-api", "mountPath": renew.TOKEN_DIR, "readOnly": True}


def test_its_egress_policy_is_api_server_port_only(dev: Recording) -> None:
    # Egress only: an Ingress type here would cut nothing (default-deny already does) but confuse a reader.
    assert manifest(dev, "NetworkPolicy", f"{NAME}-api-egress")["spec"] == {
        "podSelector": {"matchLabels": RENEWER_LABELS},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"protocol": "TCP", "port": 6443}]}],
    }


@pytest.mark.parametrize("kind", ["CronJob", "Role", "RoleBinding", "ServiceAccount", "NetworkPolicy"])
def test_every_renewer_object_carries_its_labels(dev: Recording, kind: str) -> None:
    name = f"{NAME}-api-egress" if kind == "NetworkPolicy" else NAME
    assert manifest(dev, kind, name)["metadata"]["labels"] == RENEWER_LABELS
    assert manifest(dev, kind, name)["metadata"]["namespace"] == "mlops-dev"


def test_its_job_and_pods_carry_its_labels(dev: Recording) -> None:
    # The egress policy selects the pod by these: without them the renewer cannot reach the API server.
    spec = cronjob(dev)["spec"]
    assert spec["jobTemplate"]["metadata"] == {"labels": RENEWER_LABELS}
    assert spec["jobTemplate"]["spec"]["template"]["metadata"] == {"labels": RENEWER_LABELS}


def test_renewer_objects_are_children_of_the_renewer(dev: Recording) -> None:
    component = dev.get("mlops:kubernetes:PullSecretRenewer", "pull-secret-renewer")
    assert {(r.type, r.name) for r in dev.children_of(component)} == {
        ("mlops:identity:AccessKeyIdentity", "pull-secret-renewer-identity"),
        ("kubernetes:core/v1:ServiceAccount", "pull-secret-renewer-sa"),
        ("kubernetes:rbac.authorization.k8s.io/v1:Role", "pull-secret-renewer-role"),
        ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "pull-secret-renewer-binding"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "pull-secret-renewer-api-egress"),
        ("kubernetes:batch/v1:CronJob", "pull-secret-renewer-cronjob"),
    }
