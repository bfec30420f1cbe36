"""The secrets Airflow's chart takes from outside it, made once by Pulumi and kept in its state.

Left to itself the chart generates the Fernet key, the API secret key and the JWT secret with
`randAlphaNum` on every render that has no Secret of that name yet, and a `helm upgrade` that
renders a new JWT secret breaks every running task (their tokens stop verifying): a known failure
of the chart. Here each comes from a `pulumi_random` resource, which keeps its value from one `up`
to the next (a Pulumi secret, encrypted in the state), in a Kubernetes Secret the chart is told
by name (`fernetKeySecretName`, `apiSecretKeySecretName`, `jwtSecretName`), under the key its
templates read (chart/templates/secrets/*.yaml). The admin's password is one more, mounted into
the chart's create-user Job as a file (components/pipeline/values.py), so it is in no pod spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

FERNET_KEY = "fernet-key"
API_SECRET_KEY = "api-secret-key"
JWT_SECRET = "jwt-secret"
PASSWORD = "password"
FERNET_KEY_BYTES = 32
"""A Fernet key is 32 random bytes (16 to sign, 16 to encrypt), url-safe base64 with its padding."""
SECRET_LENGTH = 64
"""Letters and digits (~380 bits): the API secret key (Flask's session signing) and the JWT secret."""
PASSWORD_LENGTH = 32


def url_safe(standard_base64: str) -> str:
    """Standard base64 (RandomBytes's, padded) in the url-safe alphabet Fernet reads: `-` and `_` for `+` and `/`."""
    return standard_base64.translate(str.maketrans("+/", "-_"))


@dataclass(frozen=True)
class AirflowSecretsArgs:
    namespace: pulumi.Input[str]
    labels: Mapping[str, str]


class AirflowSecrets(pulumi.ComponentResource):
    """The Fernet key, the API secret key, the JWT secret and the admin's password, each in a Secret.

    The Fernet key comes from `RandomBytes`, not `RandomId`: a RandomId's resource id is its value,
    which the state keeps in clear text; RandomBytes's is the constant `none`, and its output is secret.
    """

    fernet_key_secret: pulumi.Output[str]
    api_secret_key_secret: pulumi.Output[str]
    jwt_secret: pulumi.Output[str]
    admin_password_secret: pulumi.Output[str]
    """The Secret with the admin's password under `password` (mounted into the create-user Job)."""
    admin_password: pulumi.Output[str]
    """The admin's password, a Pulumi secret (the stack output airflowAdminPassword)."""

    def __init__(self, name: str, args: AirflowSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:pipeline:AirflowSecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        fernet = random.RandomBytes(f"{name}-fernet-key", length=FERNET_KEY_BYTES, opts=child)
        api_key = random.RandomPassword(f"{name}-api-secret-key", length=SECRET_LENGTH, special=False, opts=child)
        jwt = random.RandomPassword(f"{name}-jwt-secret", length=SECRET_LENGTH, special=False, opts=child)
        admin = random.RandomPassword(f"{name}-admin-password", length=PASSWORD_LENGTH, special=False, opts=child)

        def secret(suffix: str, key: str, value: pulumi.Output[str]) -> pulumi.Output[str]:
            made = k8s.core.v1.Secret(
                f"{name}-{suffix}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"airflow-{suffix}", namespace=args.namespace, labels=dict(args.labels)),
                type="Opaque",
                string_data={key: pulumi.Output.secret(value)},
                opts=child,
            )
            return made.metadata.name

        self.fernet_key_secret = secret(FERNET_KEY, FERNET_KEY, fernet.base64.apply(url_safe))
        self.api_secret_key_secret = secret(API_SECRET_KEY, API_SECRET_KEY, api_key.result)
        self.jwt_secret = secret(JWT_SECRET, JWT_SECRET, jwt.result)
        self.admin_password_secret = secret("admin-password", PASSWORD, admin.result)
        self.admin_password = pulumi.Output.secret(admin.result)
        self.register_outputs({"fernetKeySecret": self.fernet_key_secret, "jwtSecret": self.jwt_secret})
