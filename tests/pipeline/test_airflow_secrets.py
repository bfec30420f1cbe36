"""The secrets the chart is given (components/pipeline/secrets.py): made once by pulumi_random, kept in
the state, in Kubernetes Secrets under the keys the chart's templates read; none a plain string."""

from __future__ import annotations

import base64
import subprocess

import pytest

from components.pipeline.secrets import url_safe
from offline.engine import ROOT, Recording
from offline.values import is_secret, reveal
from tests.manifests import manifest

AIRFLOW_VENV_PYTHON = ROOT / ".venv-airflow" / "bin" / "python"
# Secret name -> (its key, the random resource behind it, that resource's type).
SECRETS = {
    "airflow-fernet-key": ("fernet-key", "airflow-secrets-fernet-key", "random:index/randomBytes:RandomBytes"),
    "airflow-api-secret-key": ("api-secret-key", "airflow-secrets-api-secret-key", "random:index/randomPassword:RandomPassword"),
    "airflow-jwt-secret": ("jwt-secret", "airflow-secrets-jwt-secret", "random:index/randomPassword:RandomPassword"),
    "airflow-admin-password": ("password", "airflow-secrets-admin-password", "random:index/randomPassword:RandomPassword"),
}


@pytest.mark.parametrize("name", SECRETS)
def test_each_secret_holds_its_random_value_under_the_key_the_chart_reads(dev: Recording, name: str) -> None:
    key, random_name, random_type = SECRETS[name]
    secret = manifest(dev, "Secret", name, namespace="mlops-dev-airflow")
    assert (secret["type"], list(secret["stringData"])) == ("Opaque", [key])
    made = dev.get(random_type, random_name)
    expected = url_safe(made.state["base64"]) if random_type.endswith("RandomBytes") else made.state["result"]
    assert secret["stringData"][key] == expected


@pytest.mark.parametrize("name", SECRETS)
def test_no_secret_value_is_a_plain_string_in_the_state(dev: Recording, name: str) -> None:
    registration = next(r for r in dev.of_type("kubernetes:core/v1:Secret") if reveal(r.inputs)["metadata"]["name"] == name)
    assert is_secret(registration.inputs["stringData"]) or all(is_secret(v) for v in registration.inputs["stringData"].values())


def test_the_random_values_are_long_and_made_once(dev: Recording) -> None:
    # No keepers: nothing in the stack replaces them, so a `helm upgrade` never rotates the JWT secret.
    made = {r.name: r.inputs for r in dev.resources if r.type.startswith("random:") and r.name.startswith("airflow-secrets-")}
    assert made == {
        "airflow-secrets-fernet-key": {"length": 32},
        "airflow-secrets-api-secret-key": {"length": 64, "special": False},
        "airflow-secrets-jwt-secret": {"length": 64, "special": False},
        "airflow-secrets-admin-password": {"length": 32, "special": False},
    }


def test_the_fernet_key_is_url_safe_base64_of_32_bytes_with_its_padding(dev: Recording) -> None:
    key = manifest(dev, "Secret", "airflow-fernet-key", namespace="mlops-dev-airflow")["stringData"]["fernet-key"]
    assert len(key) == 44 and key.endswith("=") and not set(key) & set("+/")
    assert len(base64.urlsafe_b64decode(key)) == 32


def test_url_safe_swaps_the_two_characters_and_keeps_the_padding() -> None:
    assert url_safe("+/+/ab==") == "-_-_ab=="


def test_cryptography_takes_the_fernet_key_as_airflow_does(dev: Recording) -> None:
    # Airflow builds its Fernet with cryptography's Fernet(key): run it in Airflow's own venv.
    assert AIRFLOW_VENV_PYTHON.exists(), "the Airflow venv is missing: `make test` creates .venv-airflow"
    key = manifest(dev, "Secret", "airflow-fernet-key", namespace="mlops-dev-airflow")["stringData"]["fernet-key"]
    script = "import sys; from cryptography.fernet import Fernet; f = Fernet(sys.argv[1]); print(f.decrypt(f.encrypt(b'ok')).decode())"
    result = subprocess.run([str(AIRFLOW_VENV_PYTHON), "-c", script, key], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_the_admin_password_is_a_secret_output(dev: Recording) -> None:
    assert "airflowAdminPassword" in dev.secret_outputs
    assert dev.outputs["airflowAdminPassword"] == dev.get("random:index/randomPassword:RandomPassword", "airflow-secrets-admin-password").state["result"]


def test_the_bundled_postgres_password_is_random_and_never_in_the_charts_values(dev: Recording) -> None:
    password = dev.get("random:index/randomPassword:RandomPassword", "airflow-database-password").state["result"]
    auth = manifest(dev, "Secret", "airflow-postgresql-auth", namespace="mlops-dev-airflow")
    connection = manifest(dev, "Secret", "airflow-metadata-connection", namespace="mlops-dev-airflow")
    assert auth["stringData"] == {"postgres-password": password}
    assert connection["stringData"] == {
        "connection": f"postgresql://postgres:{password}@airflow-postgresql.mlops-dev-airflow:5432/postgres?sslmode=disable"}
    release = dev.one("kubernetes:helm.sh/v3:Release")
    assert password not in str(reveal(release.inputs))
