"""Keyless S3 access from pods on GKE: AWS trusts the cluster's own service-account tokens.

Kubernetes signs a ServiceAccount token for each pod that asks for one (a projected
volume) with the cluster's issuer key. GKE publishes that issuer's OIDC discovery
document and keys publicly, so AWS IAM can verify the token itself:

- `WebIdentityProvider`: an IAM OpenID Connect provider for the cluster issuer, with the
  one audience the pods request;
- `WebIdentityIdentities.grant(...)`: per workload, an IAM role that only that
  namespace's ServiceAccount can assume (`sts:AssumeRoleWithWebIdentity`, audience and
  subject pinned with StringEquals), with the workload's inline policy, and the
  `PodAccess` a pod needs: the projected token and the env that the AWS SDKs
  read (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`). boto3 then exchanges the token for
  short-lived credentials by itself, and refreshes them; no key exists anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.iam import assumable_role
from components.identity import PodAccess, projected_token_volume

AUDIENCE = "sts.amazonaws.com"
"""The `aud` the pods request and the OIDC provider accepts (what EKS uses, too)."""
TOKEN_DIR = "/var/run/secrets/sts.amazonaws.com/serviceaccount"
TOKEN_FILE = f"{TOKEN_DIR}/token"
TOKEN_VOLUME = "aws-web-identity-token"
TOKEN_EXPIRATION_SECONDS = 3600
"""The kubelet rewrites the file at 80% of this; botocore rereads it on each refresh."""


def issuer_host_path(issuer_url: str) -> str:
    """The issuer as IAM keys its condition context: the URL without `https://`."""
    if not issuer_url.startswith("https://"):
        raise ValueError(f"an OIDC issuer must be an https URL, got {issuer_url!r}")
    return issuer_url.removeprefix("https://").rstrip("/")


def service_account_subject(namespace: str, service_account: str) -> str:
    """The `sub` claim of a Kubernetes ServiceAccount token."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def web_identity_trust(*, provider_arn: str, issuer_url: str, namespace: str, service_account: str) -> dict[str, Any]:
    """A trust policy that only `namespace/service_account` of one cluster can use, for one audience."""
    host_path = issuer_host_path(issuer_url)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThisServiceAccount",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host_path}:aud": AUDIENCE,
                        f"{host_path}:sub": service_account_subject(namespace, service_account),
                    }
                },
            }
        ],
    }


class WebIdentityProvider(pulumi.ComponentResource):
    """The IAM OpenID Connect provider that trusts one Kubernetes cluster's token issuer."""

    arn: pulumi.Output[str]
    issuer_url: pulumi.Output[str]

    def __init__(self, name: str, *, issuer_url: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:identity:WebIdentityProvider", name, None, opts)
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer_url,
            client_id_lists=[AUDIENCE],
            # No thumbprint: IAM verifies Google's JWKS endpoint against its own library of
            # trusted root CAs, and ignores thumbprints for Google-hosted issuers.
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = provider.arn
        self.issuer_url = pulumi.Output.from_input(issuer_url)
        self.register_outputs({"arn": self.arn})


def pod_identity(role_arn: pulumi.Output[str], *, region: str) -> PodAccess:
    """A projected token for the STS audience, mounted read-only, and the env boto3 reads."""
    return PodAccess(
        # No webhook reads ServiceAccount annotations on GKE: the env and the volume do the work.
        service_account_annotations={},
        env=[
            k8s.core.v1.EnvVarArgs(name="AWS_ROLE_ARN", value=role_arn),
            k8s.core.v1.EnvVarArgs(name="AWS_WEB_IDENTITY_TOKEN_FILE", value=TOKEN_FILE),
            # botocore takes the client region from AWS_DEFAULT_REGION (not AWS_REGION).
            k8s.core.v1.EnvVarArgs(name="AWS_DEFAULT_REGION", value=region),
            # STS in the bucket's region, not the global endpoint.
            k8s.core.v1.EnvVarArgs(name="AWS_STS_REGIONAL_ENDPOINTS", value="regional"),
        ],
        volumes=[
            projected_token_volume(TOKEN_VOLUME, expiration_seconds=TOKEN_EXPIRATION_SECONDS, audience=AUDIENCE)
        ],
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name=TOKEN_VOLUME, mount_path=TOKEN_DIR, read_only=True)],
        # The API token stays unmounted: the pod gets only the STS-audience token it needs.
        mount_service_account_token=False,
    )


class WebIdentityRole(pulumi.ComponentResource):
    """One workload's IAM role: assumable only by its ServiceAccount, allowed exactly `policy`."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        role_name: str,
        provider: WebIdentityProvider,
        namespace: pulumi.Input[str],
        service_account: str,
        policy: Mapping[str, Any],
        tags: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:identity:WebIdentityRole", name, None, opts)
        trust = pulumi.Output.all(provider.arn, provider.issuer_url, pulumi.Output.from_input(namespace)).apply(
            lambda values: web_identity_trust(
                provider_arn=values[0], issuer_url=values[1], namespace=values[2], service_account=service_account
            )
        )
        role = assumable_role(
            f"{name}-role",
            role_name=role_name,
            description=f"Assumed from GKE by the {service_account} ServiceAccount only",
            trust=trust,
            max_session_duration=3600,
            policy=policy,
            policy_name=f"{name}-policy",
            parent=self,
            tags=tags,
        )
        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"roleArn": self.role_arn})


class WebIdentityIdentities:
    """Workload identities for pods on a cluster AWS trusts: one role per ServiceAccount, no key.

    `grant` has the signature of the serving components' `WorkloadIdentities`, so the serving
    Deployment and the training CronJob take this object as they take the kubeconfig one.
    """

    def __init__(self, *, provider: WebIdentityProvider, name_prefix: str, region: str) -> None:
        self.provider = provider
        self.name_prefix = name_prefix
        self.region = region
        self.role_arns: dict[str, pulumi.Output[str]] = {}
        """ServiceAccount name -> the role it assumes, for the stack outputs."""

    def grant(
        self,
        name: str,
        *,
        namespace: pulumi.Input[str],
        service_account: str,
        policy: Mapping[str, Any],
        parent: pulumi.Resource,
        tags: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> PodAccess:
        del labels  # a web identity creates nothing in the cluster to label
        role = WebIdentityRole(
            name,
            role_name=f"{self.name_prefix}-{service_account}",
            provider=self.provider,
            namespace=namespace,
            service_account=service_account,
            policy=policy,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        self.role_arns[service_account] = role.role_arn
        return pod_identity(role.role_arn, region=self.region)
