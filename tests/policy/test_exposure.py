"""policy/rules/exposure.py: what each resource lets the internet reach, what a change widens,
and the bearer token a public endpoint needs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from offline.engine import Recording, Registration
from policy.rules import AUTH_TOKEN_ENV, Opening, Resource, evaluate, mandatory, openings, widened
from tests.policy.support import (
    BUCKET, BUCKET_ACL, BUCKET_ACL_V2, BUCKET_V2, CLUSTER, DEPLOYMENT, DIGEST, GOOD_CLUSTER, INGRESS_RULE, PAB,
    POLICY, SG, SG_RULE, TLS_ONLY, document, ingress,
)

SERVICE = "kubernetes:core/v1:Service"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVING_LABELS = {"app.kubernetes.io/name": "iris-server", "app.kubernetes.io/instance": "mlops-prod"}
GKE_INTERNAL = {"networking.gke.io/load-balancer-type": "Internal"}


def service(*, annotations: Mapping[str, str] | None = None, type_: str = "LoadBalancer", **spec: Any) -> dict[str, Any]:
    """A Service's inputs as the mock engine records the serving one."""
    return {
        "metadata": {"name": "iris-server", "namespace": "mlops-prod", "annotations": dict(annotations or {})},
        "spec": {"type": type_, "selector": SERVING_LABELS,
                 "ports": [{"name": "http", "port": 8080.0, "protocol": "TCP", "targetPort": "http"}], **spec},
    }


def ingress_policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "iris-server-ingress"},
            "spec": {"policyTypes": ["Ingress"], "podSelector": {"matchLabels": SERVING_LABELS}, "ingress": list(rules)}}


PORT_8080 = {"ports": [{"protocol": "TCP", "port": 8080.0}]}
EVERYONE_8080 = Opening("its load balancer", "TCP 8080", "0.0.0.0/0")

# (type, inputs) -> exactly what the internet can reach through it.
OPENINGS: dict[str, tuple[str, Mapping[str, Any], list[Opening]]] = {
    "internal-gke-lb": (SERVICE, service(annotations=GKE_INTERNAL), []),
    "internal-lb-any-case": (SERVICE, service(annotations={"networking.gke.io/load-balancer-type": "internal"}), []),
    "internal-aws-lb": (SERVICE, service(annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}), []),
    "cluster-ip": (SERVICE, service(type_="ClusterIP"), []),
    "public-lb": (SERVICE, service(), [EVERYONE_8080]),
    "public-lb-with-source-ranges": (SERVICE, service(loadBalancerSourceRanges=["198.51.100.0/24", "35.1.0.0/16"]),
                                     [Opening("its load balancer", "TCP 8080", "35.1.0.0/16")]),
    "policy-rule-without-from": (NETWORK_POLICY, ingress_policy(PORT_8080), [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")]),
    "policy-rule-without-ports-or-from": (NETWORK_POLICY, ingress_policy({}), [Opening("pod ingress", "", "0.0.0.0/0")]),
    "policy-rule-from-pods-only": (NETWORK_POLICY, ingress_policy({**PORT_8080, "from": [{"podSelector": {}}]}), []),
    "policy-rule-from-private-block": (NETWORK_POLICY, ingress_policy({**PORT_8080, "from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}), []),
    "policy-rule-from-the-internet": (NETWORK_POLICY, ingress_policy({**PORT_8080, "from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}),
                                      [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")]),
    "egress-only-policy": (NETWORK_POLICY, {"spec": {"policyTypes": ["Egress"], "podSelector": {}}}, []),
    "cluster-documentation-range": (CLUSTER, GOOD_CLUSTER, []),
    "cluster-public-network": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "35.1.2.0/24"}]}},
                               [Opening("the control plane", "", "35.1.2.0/24")]),
    "cluster-no-authorized-networks": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": None},
                                       [Opening("the control plane", "", "0.0.0.0/0")]),
    "cluster-google-cidrs": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [], "gcpPublicCidrsAccessEnabled": True}},
                             [Opening("the control plane", "", "every Google Cloud address")]),
    "cluster-private-endpoint": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": None,
                                           "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True}}, []),
    "cluster-dns-endpoint": (CLUSTER, {**GOOD_CLUSTER, "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {"allowExternalTraffic": True}}},
                             [Opening("the control plane's DNS endpoint (IAM-guarded)", "", "0.0.0.0/0")]),
    "cluster-public-nodes": (CLUSTER, {**GOOD_CLUSTER, "privateClusterConfig": {"enablePrivateNodes": False}},
                             [Opening("the nodes' public addresses", "", "0.0.0.0/0")]),
    "tls-only-bucket-policy": (POLICY, {"policy": document(TLS_ONLY)}, []),
    "public-bucket-policy": (POLICY, {"policy": document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})},
                             [Opening("the bucket policy", "", "0.0.0.0/0")]),
    "public-access-block-flag-off": (PAB, {"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True, "restrictPublicBuckets": True},
                                     [Opening("the public access block", "", "blockPublicPolicy off")]),
    "security-group-from-anywhere": (SG, ingress(cidrBlocks=["0.0.0.0/0", "10.0.0.0/16"]),
                                     [Opening("security group ingress", "TCP 443-443", "0.0.0.0/0")]),
}


@pytest.mark.parametrize("case", OPENINGS)
def test_openings_name_what_the_internet_can_reach(case: str) -> None:
    type_, inputs, expected = OPENINGS[case]
    assert openings(type_, inputs) == expected


# (base, head) -> the openings that are new at HEAD.
WIDENED: dict[str, tuple[list[Opening], list[Opening], list[Opening]]] = {
    "nothing-before": ([], [EVERYONE_8080], [EVERYONE_8080]),
    "same-opening": ([EVERYONE_8080], [EVERYONE_8080], []),
    "narrowed": ([EVERYONE_8080], [Opening("its load balancer", "TCP 8080", "35.1.0.0/16")], []),
    "wider-range": ([Opening("the control plane", "", "35.1.2.0/24")], [Opening("the control plane", "", "35.1.0.0/16")],
                    [Opening("the control plane", "", "35.1.0.0/16")]),
    "another-range": ([Opening("the control plane", "", "35.1.2.0/24")], [Opening("the control plane", "", "35.9.9.0/24")],
                      [Opening("the control plane", "", "35.9.9.0/24")]),
    "new-port": ([EVERYONE_8080], [Opening("its load balancer", "TCP 9090", "0.0.0.0/0")],
                 [Opening("its load balancer", "TCP 9090", "0.0.0.0/0")]),
    "every-port-covers-one": ([Opening("pod ingress", "", "0.0.0.0/0")], [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")], []),
    "one-port-to-every-port": ([Opening("pod ingress", "TCP 8080", "0.0.0.0/0")], [Opening("pod ingress", "", "0.0.0.0/0")],
                               [Opening("pod ingress", "", "0.0.0.0/0")]),
}


@pytest.mark.parametrize("case", WIDENED)
def test_widened_is_what_head_opens_that_base_did_not(case: str) -> None:
    base, head, expected = WIDENED[case]
    assert widened(base, head) == expected


def serving_deployment(*env: dict[str, Any]) -> Resource:
    inputs = {"metadata": {"name": "iris-server", "namespace": "mlops-prod"},
              "spec": {"selector": {"matchLabels": SERVING_LABELS},
                       "template": {"metadata": {"labels": SERVING_LABELS},
                                    "spec": {"containers": [{"name": "server", "image": DIGEST, "env": list(env)}]}}}}
    return Resource(DEPLOYMENT, "serving-iris-deployment", "urn:deployment", inputs)


TOKEN_FROM_SECRET = {"name": AUTH_TOKEN_ENV, "valueFrom": {"secretKeyRef": {"name": "model-server-auth", "key": "token"}}}
PUBLIC = Resource(SERVICE, "serving-iris-service", "urn:service", service())
INTERNAL = Resource(SERVICE, "serving-iris-service", "urn:service", service(annotations=GKE_INTERNAL))

# (resources, environment) -> the endpoint rules that fire, with their severity.
ENDPOINT_CASES: dict[str, tuple[list[Resource], str, list[tuple[str, str]]]] = {
    "prod-public-without-token": ([PUBLIC, serving_deployment()], "prod", [("prod-public-endpoint-authenticated", "mandatory")]),
    "prod-public-with-token-from-secret": ([PUBLIC, serving_deployment(TOKEN_FROM_SECRET)], "prod", []),
    "prod-public-with-literal-token": ([PUBLIC, serving_deployment({"name": AUTH_TOKEN_ENV, "value": "t0ken"})], "prod",
                                       [("prod-public-endpoint-authenticated", "mandatory")]),
    "prod-public-without-matching-pods": ([PUBLIC], "prod", [("prod-public-endpoint-authenticated", "mandatory")]),
    "prod-internal": ([INTERNAL, serving_deployment()], "prod", []),
    "dev-public-without-token": ([PUBLIC, serving_deployment()], "dev", [("public-endpoint-authenticated", "advisory")]),
    "dev-public-with-token": ([PUBLIC, serving_deployment(TOKEN_FROM_SECRET)], "dev", []),
}


@pytest.mark.parametrize("case", ENDPOINT_CASES)
def test_a_public_endpoint_needs_a_bearer_token_from_a_secret(case: str) -> None:
    # A public L4 load balancer has no authentication of its own: anyone can call the model.
    resources, environment, expected = ENDPOINT_CASES[case]
    found = [(v.rule, v.severity) for v in evaluate(resources, environment=environment) if "endpoint" in v.rule]
    assert found == expected


def test_prod_with_a_public_endpoint_passes_because_the_server_checks_a_token(prod_public: Recording) -> None:
    assert mandatory(evaluate(prod_public.resources, environment="prod")) == []


def test_prod_with_a_public_endpoint_and_no_token_is_blocked(prod_public: Recording) -> None:
    service = prod_public.get(SERVICE, "serving-iris-service")
    untokened = [_without_token_env(r) if r.type == "kubernetes:apps/v1:Deployment" else r for r in prod_public.resources]
    assert [(v.rule, v.urn) for v in mandatory(evaluate(untokened, environment="prod"))] == [
        ("prod-public-endpoint-authenticated", service.urn)
    ]


def _without_token_env(deployment: Registration) -> Registration:
    inputs = copy.deepcopy(deployment.inputs)
    for container in inputs["spec"]["template"]["spec"]["containers"]:
        container["env"] = [e for e in container.get("env", []) if e["name"] != "MLOPS_AUTH_TOKEN"]
    return replace(deployment, inputs=inputs)


# Each annotation that keeps a LoadBalancer Service internal, on the cloud it belongs to.
INTERNAL_ANNOTATIONS = {
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
}


@pytest.mark.parametrize("annotation", INTERNAL_ANNOTATIONS)
def test_each_internal_load_balancer_annotation_keeps_the_service_off_the_internet(annotation: str) -> None:
    # Without one, a LoadBalancer Service gets a public address: the model answers the internet.
    assert openings(SERVICE, service(annotations={annotation: INTERNAL_ANNOTATIONS[annotation]})) == []


def test_an_internal_annotation_with_another_value_keeps_the_service_public() -> None:
    assert openings(SERVICE, service(annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})) == [EVERYONE_8080]


@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
def test_each_public_access_flag_off_is_an_opening(flag: str) -> None:
    inputs = {**{f: True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, flag: False}
    assert openings(PAB, inputs) == [Opening("the public access block", "", f"{flag} off")]


MORE_OPENINGS: dict[str, tuple[str, Mapping[str, Any], list[Opening]]] = {
    **{f"public-acl-on-{t.rsplit(':', 1)[-1]}": (t, {"acl": "public-read"}, [Opening("the bucket ACL", "", "public-read")])
       for t in (BUCKET, BUCKET_V2, BUCKET_ACL, BUCKET_ACL_V2)},
    "private-acl": (BUCKET_ACL, {"acl": "private"}, []),
    "security-group-every-port": (SG, ingress(protocol="-1", fromPort=0.0, toPort=0.0, cidrBlocks=["0.0.0.0/0"]),
                                  [Opening("security group ingress", "", "0.0.0.0/0")]),
    "security-group-rule-range": (SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 8000.0, "toPort": 8080.0, "cidrBlocks": ["35.1.0.0/16"]},
                                  [Opening("security group ingress", "TCP 8000-8080", "35.1.0.0/16")]),
    "vpc-ingress-rule-ipv6": (INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv6": "::/0"},
                              [Opening("security group ingress", "TCP 443-443", "::/0")]),
    "service-udp-port": (SERVICE, service(ports=[{"port": 53.0, "protocol": "UDP"}, {"port": 8080}]),
                         [Opening("its load balancer", "UDP 53", "0.0.0.0/0"), Opening("its load balancer", "TCP 8080", "0.0.0.0/0")]),
    "service-only-private-source-ranges": (SERVICE, service(loadBalancerSourceRanges=["10.0.0.0/8"]), []),
    "policy-without-types-is-ingress": (NETWORK_POLICY, {"spec": {"ingress": [PORT_8080]}}, [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")]),
    "cluster-open-dns-and-nodes": (CLUSTER, {"privateClusterConfig": {"enablePrivateEndpoint": True, "enablePrivateNodes": "false"},
                                             "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {"allowExternalTraffic": "true"}}},
                                   [Opening("the control plane's DNS endpoint (IAM-guarded)", "", "0.0.0.0/0"),
                                    Opening("the nodes' public addresses", "", "0.0.0.0/0")]),
    "cluster-private-authorized-network": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]}}, []),
    "unrelated-type": ("aws:sns/topic:Topic", {"policy": "{}"}, []),
}


@pytest.mark.parametrize("case", MORE_OPENINGS)
def test_each_door_and_port_form_is_an_opening(case: str) -> None:
    type_, inputs, expected = MORE_OPENINGS[case]
    assert openings(type_, inputs) == expected


def test_an_opening_describes_who_it_admits_and_on_which_port() -> None:
    assert [o.describe() for o in (EVERYONE_8080, Opening("pod ingress", "", "::/0"), Opening("the control plane", "", "35.1.2.0/24"))] == [
        "its load balancer admits every address on TCP 8080", "pod ingress admits every address",
        "the control plane admits 35.1.2.0/24"]


def test_an_ipv6_opening_is_not_covered_by_an_ipv4_one() -> None:
    assert widened([Opening("pod ingress", "", "0.0.0.0/0")], [Opening("pod ingress", "", "::/0")]) == [Opening("pod ingress", "", "::/0")]


def test_a_named_source_is_covered_only_by_itself() -> None:
    google = Opening("the control plane", "", "every Google Cloud address")
    assert (widened([google], [google]), widened([Opening("the control plane", "", "0.0.0.0/0")], [google])) == ([], [google])


def test_another_door_does_not_cover_an_opening() -> None:
    assert widened([Opening("pod ingress", "", "0.0.0.0/0")], [EVERYONE_8080]) == [EVERYONE_8080]
