"""Apache Airflow on the serving cluster, from the official Helm chart: the pipeline's scheduler,
api-server and task pods (KubernetesExecutor), in their own namespace (components/pipeline/namespace.py).

Under the mock engine the chart is one `helm.v3.Release`: its Deployments, Jobs and Services are
made by Helm on the cluster, so what decides their security is checked in the values
(components/pipeline/values.py) and in the policy pack (policy/rules/pipeline.py). What the chart
gets from here: one ServiceAccount with the cloud identity, the secrets it would otherwise generate,
the database, and the DAG image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import TrainConfig
from components.pipeline.access import airflow_policy
from components.pipeline.chart import AIRFLOW_PODS, API_PORT, API_SERVICE, RELEASE, SERVICE_ACCOUNT
from components.pipeline.database import MetadataDatabase
from components.pipeline.namespace import AirflowNamespace
from components.pipeline.secrets import AirflowSecrets, AirflowSecretsArgs
from components.pipeline.spec import CHART_REPOSITORY, CHART_VERSION
from components.pipeline.values import ChartInputs, DagImage, SecretNames, chart_values
from components.pods import Placement
from components.training_backends import PipelineTargets

INSTALL_TIMEOUT_SECONDS = 15 * 60
"""The first install pulls the DAG image on every node, migrates the database and creates the admin."""
HISTORY = 10
"""Helm release revisions kept (a Secret each): enough to see what changed, and to `helm rollback`."""


@dataclass(frozen=True)
class AirflowPipelineArgs:
    namespace: AirflowNamespace
    placement: Placement
    """The workloads' placement: the cloud identities, the bucket, the region, `kubectl`, and the
    namespace whose model servers the roll-out task calls."""
    image: DagImage
    database: MetadataDatabase
    targets: PipelineTargets
    runtime: pulumi.Input[str]
    """MLOPS_PIPELINE_RUNTIME (components/pipeline/spec.py)."""
    trainings: Mapping[str, TrainConfig]
    """The projects that train: their data is read, their LATEST written."""
    topic_arn: pulumi.Input[str]
    topic_key_arn: pulumi.Input[str]
    public_api: bool
    serving_token_secrets: Sequence[str]
    """The public model servers' token Secrets in the workloads' namespace: the roll-out's bearer tokens."""
    labels: Mapping[str, str]


class AirflowPipeline(pulumi.ComponentResource):
    """The `airflow` ServiceAccount and its cloud identity, the chart's secrets, the database's
    NetworkPolicy, the roll-out's Role on the model servers' namespace, and the Helm release."""

    admin_password: pulumi.Output[str]
    api_command: pulumi.Output[str]
    """The kubectl port-forward that puts the api-server on localhost:8080."""

    def __init__(self, name: str, args: AirflowPipelineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:pipeline:AirflowPipeline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = args.namespace.name
        placement = args.placement
        access = placement.identities.grant(
            f"{name}-identity",
            namespace=namespace,
            service_account=SERVICE_ACCOUNT,
            policy=airflow_policy(
                placement.bucket_scope,
                trainings=args.trainings,
                topic_arn=args.topic_arn,
                topic_key_arn=args.topic_key_arn,
                training_statements=args.targets.policy_statements,
            ),
            parent=self,
            labels=args.labels,
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SERVICE_ACCOUNT,
                namespace=namespace,
                labels=dict(args.labels),
                annotations=dict(access.service_account_annotations) or None,
            ),
            # The scheduler starts task pods and the api-server reads their logs through the API.
            automount_service_account_token=True,
            # Airflow's pods name this account: they start after what the identity needs first (EKS
            # adds Pod Identity's credentials only to a pod admitted once its association exists).
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(access.ready)),
        )
        args.targets.allow_runner(args.namespace.namespace_name, SERVICE_ACCOUNT, child)
        self._rollout_access(name, args, child)
        database_egress = self._database_egress(name, args, child)
        secrets = AirflowSecrets(f"{name}-secrets", AirflowSecretsArgs(namespace=namespace, labels=args.labels), opts=child)
        values = chart_values(
            ChartInputs(
                image=args.image,
                pull_secret=args.namespace.pull_secret_name,
                access=access,
                secrets=SecretNames(
                    fernet_key=secrets.fernet_key_secret,
                    api_secret_key=secrets.api_secret_key_secret,
                    jwt=secrets.jwt_secret,
                    admin_password=secrets.admin_password_secret,
                ),
                database=args.database,
                runtime=args.runtime,
                bucket_name=placement.bucket_name,
                region=placement.region,
                public_api=args.public_api,
                labels=args.labels,
            )
        )
        k8s.helm.v3.Release(
            f"{name}-release",
            name=RELEASE,
            chart="airflow",
            version=CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=namespace,
            values=values,
            # A failed install or upgrade is rolled back whole, and what it created is removed.
            atomic=True,
            cleanup_on_fail=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            max_history=HISTORY,
            # The NetworkPolicies and the ServiceAccount first: a pod started before them has no DNS.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.namespace, account, database_egress]),
        )
        self.admin_password = secrets.admin_password
        self.api_command = pulumi.Output.concat(
            placement.kubectl, " port-forward -n ", namespace, f" service/{API_SERVICE} {API_PORT}:{API_PORT}"
        )
        self.register_outputs({"apiCommand": self.api_command})

    def _rollout_access(self, name: str, args: AirflowPipelineArgs, opts: pulumi.ResourceOptions) -> None:
        """The roll-out task finds each model server's pods (their EndpointSlices) to call its load endpoint,
        with the bearer token a public server requires (exactly those Secrets, nothing else of the namespace)."""
        metadata = k8s.meta.v1.ObjectMetaArgs(name="airflow-rollout", namespace=args.placement.namespace, labels=dict(args.labels))
        role = k8s.rbac.v1.Role(
            f"{name}-rollout",
            metadata=metadata,
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["discovery.k8s.io"], resources=["endpointslices"], verbs=["get", "list", "watch"]
                ),
                *(
                    [k8s.rbac.v1.PolicyRuleArgs(
                        api_groups=[""], resources=["secrets"], verbs=["get"], resource_names=list(args.serving_token_secrets)
                    )]
                    if args.serving_token_secrets
                    else []
                ),
            ],
            opts=opts,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-rollout",
            metadata=metadata,
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=args.namespace.name)],
            opts=opts,
        )

    def _database_egress(self, name: str, args: AirflowPipelineArgs, opts: pulumi.ResourceOptions) -> k8s.networking.v1.NetworkPolicy:
        return k8s.networking.v1.NetworkPolicy(
            f"{name}-database-egress",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-database-egress", namespace=args.namespace.name, labels=dict(args.labels)),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=AIRFLOW_PODS),
                policy_types=["Egress"],
                egress=list(args.database.egress),
            ),
            opts=opts,
        )
