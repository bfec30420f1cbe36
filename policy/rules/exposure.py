"""What a resource lets the internet reach, and the rules for a public serving endpoint.

An `Opening` is a door (a load balancer, the control plane, a pod's ingress), a port (""
is every port) and a source (a public CIDR, or a named group). `make diff` calls a change
exposing when HEAD has an opening that no opening at BASE covers (`widened`); the stack
rules here require a bearer token behind a public LoadBalancer Service.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policy.rules.cluster import GKE_CLUSTER
from policy.rules.compute import INGRESS_TYPES, ingress_rules
from policy.rules.core import Context, ResourceView
from policy.rules.data import (
    BUCKET, BUCKET_ACL, BUCKET_POLICY, PUBLIC_ACCESS_BLOCK, PUBLIC_ACCESS_FLAGS, check_s3_no_public_acl,
    check_s3_no_public_policy,
)
from policy.rules.inputs import falsy, get, items, preview_value, truthy
from policy.rules.pipeline import AIRFLOW_CHART, RELEASE
from policy.rules.pods import pod_spec

SERVICE = frozenset({"kubernetes:core/v1:Service"})
NETWORK_POLICY = frozenset({"kubernetes:networking.k8s.io/v1:NetworkPolicy"})
DEPLOYMENT = frozenset({"kubernetes:apps/v1:Deployment"})
EVERY_ADDRESS = "0.0.0.0/0"
INTERNAL_LOAD_BALANCER = {
    # The annotations that keep a LoadBalancer Service off the internet, per cloud.
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
}
AUTH_TOKEN_ENV = "MLOPS_AUTH_TOKEN"
"""The server's bearer token, from a Secret: what a public serving endpoint must check."""


@dataclass(frozen=True)
class Opening:
    door: str
    port: str
    source: str

    def describe(self) -> str:
        who = "every address" if self.source in (EVERY_ADDRESS, "::/0") else self.source
        return f"{self.door} admits {who}" + (f" on {self.port}" if self.port else "")


# --- comparing openings ------------------------------------------------------------------


def _network(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None


def _public(cidr: Any) -> bool:
    """A CIDR with internet addresses in it (not RFC 1918, loopback, link-local or documentation)."""
    network = _network(cidr)
    return network is not None and not network.is_private


def _covers(wide: str, narrow: str) -> bool:
    outer, inner = _network(wide), _network(narrow)
    if outer is not None and inner is not None:
        return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]
    return wide == narrow


def widened(base: Iterable[Opening], head: Iterable[Opening]) -> list[Opening]:
    """The openings at HEAD that no opening at BASE covers (same door, its port or every port, a wider source)."""
    before = list(base)
    return [
        o for o in head
        if not any(b.door == o.door and b.port in ("", o.port) and _covers(b.source, o.source) for b in before)
    ]


# --- the openings of each kind of resource -------------------------------------------------


def public_load_balancer(inputs: Mapping[str, Any]) -> bool:
    """A Service of type LoadBalancer with none of the internal-load-balancer annotations."""
    if get(inputs, "spec", "type") != "LoadBalancer":
        return False
    annotations = get(inputs, "metadata", "annotations") or {}
    return not any(str(annotations.get(key, "")).lower() == value for key, value in INTERNAL_LOAD_BALANCER.items())


def _ports(ports: Any) -> list[str]:
    return [f"{get(p, 'protocol') or 'TCP'} {_port(get(p, 'port'))}" for p in items(ports) if isinstance(p, Mapping)] or [""]


def _port(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _service_openings(inputs: Mapping[str, Any]) -> list[Opening]:
    if not public_load_balancer(inputs):
        return []
    ranges = [str(c) for c in items(get(inputs, "spec", "loadBalancerSourceRanges"))]
    sources = [c for c in ranges if _public(c)] if ranges else [EVERY_ADDRESS]
    return [Opening("its load balancer", port, source) for port in _ports(get(inputs, "spec", "ports")) for source in sources]


def _network_policy_openings(inputs: Mapping[str, Any]) -> list[Opening]:
    types = items(get(inputs, "spec", "policyTypes"))
    if types and "Ingress" not in types:
        return []
    found = []
    for rule in items(get(inputs, "spec", "ingress")):
        peers = items(get(rule, "from"))
        # No `from` admits every source; a pod or namespace selector admits only the cluster's own.
        sources = [EVERY_ADDRESS] if not peers else [
            str(get(peer, "ipBlock", "cidr")) for peer in peers if _public(get(peer, "ipBlock", "cidr"))
        ]
        found += [Opening("pod ingress", port, source) for port in _ports(get(rule, "ports")) for source in sources]
    return found


def _release_openings(inputs: Mapping[str, Any]) -> list[Opening]:
    """Airflow's api-server Service, which the chart makes from its values."""
    if inputs.get("chart") != AIRFLOW_CHART:
        return []
    service = get(inputs, "values", "apiServer", "service") or {}
    as_service = {"metadata": {"annotations": service.get("annotations") or {}},
                  "spec": {"type": service.get("type"), "loadBalancerSourceRanges": service.get("loadBalancerSourceRanges")}}
    return [Opening("Airflow's api-server load balancer", "TCP 8080", o.source) for o in _service_openings(as_service)]


def _cluster_openings(inputs: Mapping[str, Any]) -> list[Opening]:
    found = []
    if not truthy(get(inputs, "privateClusterConfig", "enablePrivateEndpoint")):
        config = get(inputs, "masterAuthorizedNetworksConfig")
        if not isinstance(config, Mapping):
            found.append(Opening("the control plane", "", EVERY_ADDRESS))
        else:
            found += [Opening("the control plane", "", str(get(b, "cidrBlock")))
                      for b in items(config.get("cidrBlocks")) if _public(get(b, "cidrBlock"))]
            if truthy(config.get("gcpPublicCidrsAccessEnabled")):
                found.append(Opening("the control plane", "", "every Google Cloud address"))
    if truthy(get(inputs, "controlPlaneEndpointsConfig", "dnsEndpointConfig", "allowExternalTraffic")):
        found.append(Opening("the control plane's DNS endpoint (IAM-guarded)", "", EVERY_ADDRESS))
    if falsy(get(inputs, "privateClusterConfig", "enablePrivateNodes")):
        found.append(Opening("the nodes' public addresses", "", EVERY_ADDRESS))
    return found


def _bucket_openings(type_: str, inputs: Mapping[str, Any]) -> list[Opening]:
    context = Context(environment="", type=type_)
    if type_ in BUCKET_POLICY and check_s3_no_public_policy(inputs, context):
        return [Opening("the bucket policy", "", EVERY_ADDRESS)]
    if type_ in PUBLIC_ACCESS_BLOCK:
        return [Opening("the public access block", "", f"{flag} off") for flag in PUBLIC_ACCESS_FLAGS
                if not truthy(inputs.get(flag))]
    if type_ in BUCKET | BUCKET_ACL and check_s3_no_public_acl(inputs, context):
        return [Opening("the bucket ACL", "", str(inputs.get("acl")))]
    return []


def _security_group_openings(type_: str, inputs: Mapping[str, Any]) -> list[Opening]:
    found = []
    for rule in ingress_rules(type_, inputs):
        port = "" if rule.protocol in ("-1", "all") else f"{rule.protocol.upper()} {_port(rule.from_port)}-{_port(rule.to_port)}"
        found += [Opening("security group ingress", port, source) for source in sorted(rule.sources) if _public(source)]
    return found


def openings(type_: str, inputs: Mapping[str, Any]) -> list[Opening]:
    """What this resource lets the internet reach (see `Opening`)."""
    if type_ in SERVICE:
        return _service_openings(inputs)
    if type_ in NETWORK_POLICY:
        return _network_policy_openings(inputs)
    if type_ in RELEASE:
        return _release_openings(inputs)
    if type_ in GKE_CLUSTER:
        return _cluster_openings(inputs)
    if type_ in INGRESS_TYPES:
        return _security_group_openings(type_, inputs)
    return _bucket_openings(type_, inputs)


# --- a public endpoint checks a bearer token ---------------------------------------------


def _checks_bearer_token(deployment: ResourceView) -> bool:
    """Every container of the pods gets AUTH_TOKEN_ENV from a Secret (never a literal in the spec)."""
    containers = items(get(pod_spec(deployment.inputs), "containers"))
    return bool(containers) and all(
        any(get(env, "name") == AUTH_TOKEN_ENV and get(env, "valueFrom", "secretKeyRef", "name")
            for env in items(get(container, "env")))
        for container in containers
    )


def _selects(service: ResourceView, deployment: ResourceView) -> bool:
    selector = get(service.inputs, "spec", "selector")
    labels = get(deployment.inputs, "spec", "template", "metadata", "labels")
    if not isinstance(selector, Mapping) or not selector or not isinstance(labels, Mapping):
        return False
    namespaces = {preview_value(service, "metadata", "namespace"), preview_value(deployment, "metadata", "namespace")}
    return all(labels.get(k) == v for k, v in selector.items()) and (len(namespaces) == 1 or None in namespaces)


def _unauthenticated_public_services(resources: Sequence[ResourceView]) -> Iterator[tuple[str, str]]:
    deployments = [r for r in resources if r.type in DEPLOYMENT]
    for service in (r for r in resources if r.type in SERVICE):
        if not public_load_balancer(service.inputs):
            continue
        pods = [d for d in deployments if _selects(service, d)]
        if pods and all(_checks_bearer_token(d) for d in pods):
            continue
        yield service.urn, (
            f"Service {service.name} is a public load balancer and its pods check no bearer token: "
            f"give the server {AUTH_TOKEN_ENV} from a Secret, or keep it internal (mlops:gke.publicEndpoint: false)"
        )


def check_prod_public_endpoint_authenticated(resources: Sequence[ResourceView], context: Context) -> Iterator[tuple[str, str]]:
    if context.environment == "prod":
        yield from _unauthenticated_public_services(resources)


def check_public_endpoint_authenticated(resources: Sequence[ResourceView], context: Context) -> Iterator[tuple[str, str]]:
    if context.environment != "prod":
        yield from _unauthenticated_public_services(resources)
