"""The env a GKE pod gets (components/web_identity.py) is all boto3 needs: no key, no code change.

A child process gets exactly the pod's AWS env, with the token file where the projected
volume puts it (here, a temporary path) and S3/STS served by moto on loopback. boto3's
default credential chain trades the token for the role's credentials by itself.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pulumi

from components.web_identity import pod_identity
from tests.loopback import Moto

ROLE_ARN = "arn:aws:iam::123456789012:role/mlops/mlops-prod-model-server"

PROBE = """
import boto3
print(boto3.client("sts").get_caller_identity()["Arn"])
s3 = boto3.client("s3")
s3.create_bucket(Bucket="web-identity-probe")
s3.put_object(Bucket="web-identity-probe", Key="models/iris/LATEST", Body=b"v1")
print(s3.get_object(Bucket="web-identity-probe", Key="models/iris/LATEST")["Body"].read().decode())
"""


def _jwt() -> str:
    """A token of the shape the kubelet projects (moto does not verify the signature)."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"aud": ["sts.amazonaws.com"], "sub": "system:serviceaccount:mlops-prod:model-server", "exp": 4102444800}
    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def pod_env(token_file: Path) -> dict[str, str]:
    """The identity's env as the pod sees it, the token file moved to `token_file`."""
    env: dict[str, str] = {}
    for var in pod_identity(pulumi.Output.from_input(ROLE_ARN), region="us-east-1").env:
        name, value = pulumi.get(var, "name"), pulumi.get(var, "value")
        env[name] = ROLE_ARN if name == "AWS_ROLE_ARN" else str(value)
    env["AWS_WEB_IDENTITY_TOKEN_FILE"] = str(token_file)
    return env


def test_boto3_assumes_the_role_from_the_pod_env_alone(moto: Moto, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(_jwt())
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= pod_env(token) | {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    arn, body = result.stdout.split()
    assert arn.startswith("arn:aws:sts::123456789012:assumed-role/mlops-prod-model-server/"), arn
    assert body == "v1"
