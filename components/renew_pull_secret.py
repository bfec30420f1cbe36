"""Renew dev's image pull Secret with a fresh ECR token: what the renewer CronJob runs.

It runs as `python3 -c <this file>` in a stock Python image, so it uses the standard
library only: a SigV4-signed `ecr:GetAuthorizationToken` with the key in
AWS_SHARED_CREDENTIALS_FILE, then a merge patch of the Secret's `.dockerconfigjson` through
the API server with the pod's projected ServiceAccount token. Exit 0 on success; any
failure is one line on stderr and exit 1 (the Job retries).
"""

from __future__ import annotations

import base64
import configparser
import datetime
import hashlib
import hmac
import json
import os
import ssl
import sys
import urllib.request

SERVICE = "ecr"
TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
TOKEN_DIR = "/var/run/secrets/mlops/kubernetes"


def sigv4_headers(
    *, url: str, body: bytes, region: str, key_id: str, secret: str, headers: dict[str, str], now: datetime.datetime
) -> dict[str, str]:
    """`headers` plus x-amz-date and a SigV4 Authorization, for a POST of `body` to `url`'s root."""
    host = url.split("://", 1)[1].split("/", 1)[0]
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    signed = {**{k.lower(): v for k, v in headers.items()}, "host": host, "x-amz-date": stamp}
    names = ";".join(sorted(signed))
    canonical = "\n".join(
        ["POST", "/", "", *(f"{k}:{signed[k].strip()}" for k in sorted(signed)), "", names, hashlib.sha256(body).hexdigest()]
    )
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (day, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={names}, Signature={signature}"
    return {**headers, "X-Amz-Date": stamp, "Authorization": authorization}


def ecr_token(*, region: str, credentials_file: str, endpoint: str | None = None) -> tuple[str, str, str]:
    """(proxy endpoint, username, password) from ecr:GetAuthorizationToken."""
    profile = configparser.ConfigParser()
    profile.read(credentials_file)
    url = endpoint or f"https://api.ecr.{region}.amazonaws.com/"
    body = b"{}"
    headers = sigv4_headers(
        url=url,
        body=body,
        region=region,
        key_id=profile["default"]["aws_access_key_id"],
        secret=profile["default"]["aws_secret_access_key"],
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET},
        now=datetime.datetime.now(datetime.timezone.utc),
    )
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout=30) as answer:
        [data] = json.load(answer)["authorizationData"]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return data["proxyEndpoint"].removeprefix("https://"), username, password


def docker_config_json(address: str, username: str, password: str) -> str:
    """A `.dockerconfigjson` document with one registry login (as components/namespace.py writes it)."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {address: {"username": username, "password": password, "auth": auth}}})


def patch_secret(*, api: str, namespace: str, name: str, document: str, token: str, context: ssl.SSLContext) -> None:
    """Replace the Secret's `.dockerconfigjson` (a merge patch: its other fields stay)."""
    encoded = base64.b64encode(document.encode()).decode()
    request = urllib.request.Request(
        f"{api}/api/v1/namespaces/{namespace}/secrets/{name}?fieldManager=renew-pull-secret",
        data=json.dumps({"data": {".dockerconfigjson": encoded}}).encode(),
        headers={"Content-Type": "application/merge-patch+json", "Authorization": f"Bearer {token}"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, context=context, timeout=30):
        pass


def main() -> int:
    env = os.environ
    try:
        _, username, password = ecr_token(
            region=env["AWS_DEFAULT_REGION"],
            credentials_file=env["AWS_SHARED_CREDENTIALS_FILE"],
            endpoint=env.get("AWS_ENDPOINT_URL_ECR"),
        )
        with open(f"{TOKEN_DIR}/token") as token:
            patch_secret(
                api=f"https://{env['KUBERNETES_SERVICE_HOST']}:{env['KUBERNETES_SERVICE_PORT']}",
                namespace=env["NAMESPACE"],
                name=env["PULL_SECRET"],
                # The address pods pull from, as the Secret had it, not ECR's https:// form.
                document=docker_config_json(env["REGISTRY"], username, password),
                token=token.read().strip(),
                context=ssl.create_default_context(cafile=f"{TOKEN_DIR}/ca.crt"),
            )
    except Exception as error:  # one line for `kubectl logs`, no trace with the key in scope
        print(f"renew-pull-secret: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"renew-pull-secret: {env['NAMESPACE']}/{env['PULL_SECRET']} renewed for {env['REGISTRY']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
