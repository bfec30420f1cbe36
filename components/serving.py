"""Model serving on Kubernetes: the serve image behind a Service, scaled by an HPA.

Works on any cluster: the `kubernetes.Provider` comes in through the resource options
(`providers={"kubernetes": ...}`) and the cloud identity through `ModelServingArgs.identities`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.config import ServeConfig
from components.iam import model_reader_policy
from components.network_policy import one_port_policy
from components.pods import Placement, RestrictedContainer, labels, restricted_pod_spec, workload_identity
from components.project_names import project_labels, project_tags, server_ingress_name, server_name

NAME = "model-server"
PORT = 8080  # images/serve: v2 REST and /metrics on one port
PORT_NAME = "http"
LIVE = "/v2/health/live"
READY = "/v2/health/ready"
# Seconds a terminating pod keeps serving after it is told to stop, while endpoints,
# kube-proxy and ingress controllers stop sending it new requests.
PRE_STOP_PAUSE = 5
TERMINATION_GRACE = 30
MAX_SURGE = 1  # the pods a rollout adds above the replica count
SCALE_DOWN_WINDOW = 300  # seconds of lower load before the HPA removes pods
# Pods are ready only once a model is in the bucket, which the first training run (started
# after the first `up`) provides. Pulumi would otherwise wait for ready pods (Deployment) and
# ready endpoints (Service) for 10 minutes and fail the `up`. `kubectl rollout status` waits.
DO_NOT_WAIT_FOR_READY = {"pulumi.com/skipAwait": "true"}
# A public endpoint needs this bearer token (images/serve: MLOPS_AUTH_TOKEN), kept in a Secret.
AUTH_TOKEN_ENV = "MLOPS_AUTH_TOKEN"
TOKEN_KEY = "token"
# Letters and digits only (~285 bits): nothing a shell or an HTTP header would mangle.
TOKEN_LENGTH = 48


def most_pods(serve: ServeConfig) -> int:
    """The most pods one server has at once: the autoscaler's maximum, the rollout's surge pod,
    and the pod that surge replaced, which a ResourceQuota still counts while it drains (up to
    TERMINATION_GRACE seconds). If the next surge pod comes sooner, the quota only delays it:
    with maxUnavailable 0 a rollout never stops a serving pod to make room."""
    return serve.max_replicas + MAX_SURGE + 1


@dataclass(frozen=True)
class ServiceExposure:
    """How the serving Service is reached from outside the cluster; the cluster decides."""

    type: str = "ClusterIP"
    """ClusterIP (a port-forward reaches it), or LoadBalancer."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """For a LoadBalancer: which kind the cloud makes (internal unless asked otherwise)."""
    load_balancer_class: str | None = None
    """For a LoadBalancer: the controller that makes it, where the cluster names one (EKS Auto Mode's)."""
    public: bool = False
    """Reachable from the internet: the server then requires a bearer token."""


@dataclass(frozen=True)
class ModelServingArgs:
    project: str
    """The ML project served: it names the objects and `models/<project>/`."""
    serve: ServeConfig
    """Replicas bounds, CPU target, CPU/memory/GPUs per pod, and the model's version."""
    image_ref: pulumi.Input[str]
    """The server image by digest: `<repository>@sha256:...` (the built-in one, or the project's)."""
    highly_available: bool
    """prod: a PodDisruptionBudget, and pods spread across zones and nodes."""
    placement: Placement
    """The namespace, identities, pull secret, bucket and kubectl the workload uses."""
    exposure: ServiceExposure = field(default_factory=ServiceExposure)
    """How the Service is reached from outside the cluster (the cluster decides)."""


class ModelServing(pulumi.ComponentResource):
    """The model server: ServiceAccount, Deployment, Service, HPA, NetworkPolicy, and a PDB in prod."""

    service_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """In-cluster URL of the model's v2 infer endpoint."""
    port_forward_command: pulumi.Output[str]
    auth_token: pulumi.Output[str] | None
    """The bearer token a public endpoint requires (a secret); None when the endpoint is not public."""
    token_secret: str | None
    """The Secret (in the workloads' namespace) holding that token under TOKEN_KEY; None when not public."""

    service_account: str
    """The workloads' ServiceAccount name: what a cloud identity trusts."""

    def __init__(self, name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:serving:ModelServing", name, None, opts)
        self.service_account = server_name(args.project)
        child = pulumi.ResourceOptions(parent=self)
        placement = args.placement
        # The project's label is in the selector: each Deployment selects only its own pods.
        selector = labels(NAME, instance=placement.instance) | project_labels(args.project)

        access, service_account = workload_identity(
            name,
            placement=placement,
            service_account=self.service_account,
            policy=model_reader_policy(**placement.bucket_scope, model=args.project),
            selector=selector,
            parent=self,
            tags=project_tags(args.project),
        )
        # An internal endpoint is reached from the VPC or a port-forward only; a public one needs the token.
        self.auth_token, auth_env = (
            _bearer_token(name, args, labels=selector, child=child) if args.exposure.public else (None, [])
        )
        self.token_secret = token_secret_name(args.project) if args.exposure.public else None
        pod = restricted_pod_spec(
            _server_container(args, auth_env),
            service_account_name=service_account.metadata.name,
            access=access,
            image_pull_secret=placement.image_pull_secret,
            termination_grace_period_seconds=TERMINATION_GRACE,
            topology_spread_constraints=_spread_across_zones_and_nodes(selector) if args.highly_available else None,
        )
        deployment = _deployment(name, args, selector=selector, pod=pod, child=child)
        service = _service(name, args, selector=selector, child=child)
        _autoscaler(name, args, selector=selector, deployment=deployment, child=child)
        # The namespace denies all ingress; admit the serving port (v2 and the /metrics scrape).
        one_port_policy(
            f"{name}-ingress",
            name=server_ingress_name(args.project),
            namespace=placement.namespace,
            selector=selector,
            direction="Ingress",
            port=PORT,
            opts=child,
        )
        if args.highly_available:
            _disruption_budget(name, args, selector=selector, child=child)

        self.service_name = service.metadata.name
        self.endpoint = pulumi.Output.concat(
            "http://", self.service_name, ".", placement.namespace, f".svc.cluster.local:{PORT}/v2/models/{args.project}/infer"
        )
        self.port_forward_command = pulumi.Output.concat(
            placement.kubectl, " port-forward -n ", placement.namespace, " service/", self.service_name, f" {PORT}:{PORT}"
        )
        self.register_outputs(
            {"serviceName": self.service_name, "endpoint": self.endpoint, "portForwardCommand": self.port_forward_command}
        )


def _server_container(args: ModelServingArgs, auth_env: list[k8s.core.v1.EnvVarArgs]) -> RestrictedContainer:
    """The v2 server on PORT, following the model's version, with probes that keep traffic off until it is loaded."""
    cfg = args.serve
    version = "LATEST" if cfg.model_version == "latest" else cfg.model_version
    model_uri = pulumi.Output.concat("s3://", args.placement.bucket_name, f"/models/{args.project}/{version}")
    return RestrictedContainer(
        name="server",
        image=args.image_ref,
        cpu=cfg.cpu_quantity,
        memory=cfg.memory,
        gpus=cfg.gpus,
        env=[
            k8s.core.v1.EnvVarArgs(name="MODEL_URI", value=model_uri),
            k8s.core.v1.EnvVarArgs(name="MODEL_NAME", value=args.project),
            # The server cannot see a CPU quota: one worker per whole core of the limit, at least one.
            k8s.core.v1.EnvVarArgs(name="WEB_CONCURRENCY", value=str(cfg.workers)),
            k8s.core.v1.EnvVarArgs(name="PORT", value=str(PORT)),
            *auth_env,
        ],
        ports=[k8s.core.v1.ContainerPortArgs(name=PORT_NAME, container_port=PORT, protocol="TCP")],
        # Up to 2 minutes to start (imports, model download); liveness only takes over after.
        startup_probe=_probe(LIVE, period=2, failures=60),
        # Not ready until the model is loaded and its sha256 verified: no traffic before.
        readiness_probe=_probe(READY, period=5, failures=2),
        # Live, not ready: a server retrying a model download must not be restarted.
        liveness_probe=_probe(LIVE, period=10, failures=3),
        lifecycle=k8s.core.v1.LifecycleArgs(
            # Keep serving while the endpoint is removed everywhere; then SIGTERM makes
            # uvicorn finish what is in flight. A sleep action needs no binary in the image.
            pre_stop=k8s.core.v1.LifecycleHandlerArgs(sleep=k8s.core.v1.SleepActionArgs(seconds=PRE_STOP_PAUSE))
        ),
    )


def _deployment(
    name: str, args: ModelServingArgs, *, selector: dict[str, str], pod: k8s.core.v1.PodSpecArgs, child: pulumi.ResourceOptions
) -> k8s.apps.v1.Deployment:
    return k8s.apps.v1.Deployment(
        f"{name}-deployment",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=server_name(args.project), namespace=args.placement.namespace, labels=selector, annotations=DO_NOT_WAIT_FOR_READY
        ),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            # No `replicas`: the HPA owns it. Setting it here too would make every
            # `pulumi up` reset the count (a field conflict under server-side apply).
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            strategy=k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                # Never below the ready count: a new pod is ready before an old one goes.
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=MAX_SURGE),
            ),
            revision_history_limit=5,
            template=k8s.core.v1.PodTemplateSpecArgs(metadata=k8s.meta.v1.ObjectMetaArgs(labels=selector), spec=pod),
        ),
        opts=child,
    )


def _service(name: str, args: ModelServingArgs, *, selector: dict[str, str], child: pulumi.ResourceOptions) -> k8s.core.v1.Service:
    """The serving port, exposed as the cluster decides (a ClusterIP, or a load balancer)."""
    return k8s.core.v1.Service(
        f"{name}-service",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=server_name(args.project),
            namespace=args.placement.namespace,
            labels=selector,
            annotations={**DO_NOT_WAIT_FOR_READY, **args.exposure.annotations},
        ),
        spec=k8s.core.v1.ServiceSpecArgs(
            type=args.exposure.type,
            load_balancer_class=args.exposure.load_balancer_class,
            selector=selector,
            ports=[k8s.core.v1.ServicePortArgs(name=PORT_NAME, port=PORT, target_port=PORT_NAME, protocol="TCP")],
        ),
        opts=child,
    )


def _autoscaler(
    name: str, args: ModelServingArgs, *, selector: dict[str, str], deployment: k8s.apps.v1.Deployment, child: pulumi.ResourceOptions
) -> None:
    """Replicas between the configured bounds, on the pods' CPU use."""
    cfg = args.serve
    k8s.autoscaling.v2.HorizontalPodAutoscaler(
        f"{name}-hpa",
        metadata=_metadata(args, selector),
        spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
            ),
            min_replicas=cfg.min_replicas,
            max_replicas=cfg.max_replicas,
            metrics=[
                k8s.autoscaling.v2.MetricSpecArgs(
                    type="Resource",
                    resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                        name="cpu",
                        target=k8s.autoscaling.v2.MetricTargetArgs(
                            type="Utilization", average_utilization=cfg.target_cpu_utilization
                        ),
                    ),
                )
            ],
            behavior=_scaling_behavior(),
        ),
        opts=child,
    )


def _disruption_budget(name: str, args: ModelServingArgs, *, selector: dict[str, str], child: pulumi.ResourceOptions) -> None:
    k8s.policy.v1.PodDisruptionBudget(
        f"{name}-pdb",
        metadata=_metadata(args, selector),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            # A drain takes one pod at a time; the HPA's minimum (>= 2 in prod) keeps serving.
            max_unavailable=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            # A pod that is not ready serves nothing: never let it block a node drain.
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
        opts=child,
    )


def _metadata(args: ModelServingArgs, selector: dict[str, str]) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=server_name(args.project), namespace=args.placement.namespace, labels=selector)


def token_secret_name(project: str) -> str:
    return f"{server_name(project)}-token"


def _bearer_token(
    name: str, args: ModelServingArgs, *, labels: dict[str, str], child: pulumi.ResourceOptions
) -> tuple[pulumi.Output[str], list[k8s.core.v1.EnvVarArgs]]:
    """A generated token in a Secret, and the env var that hands it to the server.

    The value is made once and kept in the state (encrypted, as a secret); the pod reads it
    from the Secret, so it is never in the Deployment's spec.
    """
    token = random.RandomPassword(f"{name}-token", length=TOKEN_LENGTH, special=False, opts=child)
    secret = k8s.core.v1.Secret(
        f"{name}-token",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=token_secret_name(args.project), namespace=args.placement.namespace, labels=labels),
        type="Opaque",
        string_data={TOKEN_KEY: token.result},
        opts=child,
    )
    env = k8s.core.v1.EnvVarArgs(
        name=AUTH_TOKEN_ENV,
        value_from=k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret.metadata.name, key=TOKEN_KEY)
        ),
    )
    return pulumi.Output.secret(token.result), [env]


def _probe(path: str, *, period: int, failures: int) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=PORT_NAME),
        period_seconds=period,
        timeout_seconds=2,
        failure_threshold=failures,
    )


def _scaling_behavior() -> k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs:
    """Scale up at once (double, or +4 pods, every 15 s); scale down only after 5 quiet minutes,
    by at most half the pods a minute, so a dip between bursts does not drop capacity."""
    return k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
        scale_up=k8s.autoscaling.v2.HPAScalingRulesArgs(
            stabilization_window_seconds=0,
            select_policy="Max",
            policies=[
                k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=100, period_seconds=15),
                k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Pods", value=4, period_seconds=15),
            ],
        ),
        scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
            stabilization_window_seconds=SCALE_DOWN_WINDOW,
            select_policy="Min",
            policies=[k8s.autoscaling.v2.HPAScalingPolicyArgs(type="Percent", value=50, period_seconds=60)],
        ),
    )


def _spread_across_zones_and_nodes(selector: dict[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Zones where the cluster has them (soft: a one-zone cluster still schedules), and
    nodes strictly, so one node's loss takes at most its share of the pods."""
    match = k8s.meta.v1.LabelSelectorArgs(match_labels=selector)
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            topology_key=key,
            max_skew=1,
            when_unsatisfiable=rule,
            label_selector=match,
            # Count only this revision's pods, so a rollout is not skewed by the old ones.
            match_label_keys=["pod-template-hash"],
        )
        for key, rule in (("topology.kubernetes.io/zone", "ScheduleAnyway"), ("kubernetes.io/hostname", "DoNotSchedule"))
    ]
