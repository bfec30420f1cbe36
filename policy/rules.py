"""The project's policy rules, as plain functions over resource inputs.

One list, `RULES`, holds every rule with its name, description and severity. The same
list is run three ways:

- by `pulumi preview --policy-pack policy` (CrossGuard: `policy/__main__.py` turns each
  rule into a `ResourceValidationPolicy` or a `StackValidationPolicy`);
- offline, on what the mock engine recorded, by `evaluate()` (the tests, `make diff`);
- directly, rule by rule, in the unit tests.

Nothing here imports `pulumi_policy` or the Pulumi SDK: the rules see only mappings of
input properties, named as the engine names them (camelCase, e.g. `metadataOptions`),
which is what the mock engine records and what CrossGuard passes as `args.props`.

During a real preview some inputs are unknown (an ARN not yet created). CrossGuard wraps
props in a proxy that raises when an unknown value is read, and reports that the policy
could not run on that resource yet; so the checks read values plainly and never guess.
The proxy is a `Mapping`/`Sequence` but not a `dict`/`list`, so type tests here use the
abstract types.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Severity = Literal["mandatory", "advisory"]


class ResourceView(Protocol):
    """What a rule needs of a resource; `offline.engine.Registration` is one."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def urn(self) -> str: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def protect(self) -> bool: ...


@dataclass(frozen=True)
class Resource:
    """A concrete `ResourceView`. CrossGuard's stack validation builds these.

    `refs` maps an input property to the URNs of the resources its value came from (the
    engine's property dependencies). The stack rules use it to tie a bucket's settings to
    the bucket even while the bucket's name is unknown, during a preview. Without `refs`
    (offline), they match the value against the other resource's id or ARN instead.
    """

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    protect: bool = False
    refs: Mapping[str, frozenset[str]] | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    severity: Severity
    urn: str
    message: str


@dataclass(frozen=True)
class Context:
    """What a check may know besides the inputs."""

    environment: str
    """The stack's `mlops:environment`: dev | prod."""
    type: str = ""
    """The resource's type token (resource rules)."""
    name: str = ""
    """The resource's logical name (resource rules)."""
    protect: bool = False
    """The resource's `protect` option (resource rules)."""


ResourceCheck = Callable[[Mapping[str, Any], Context], "str | None"]
"""Inputs -> None when compliant, else one message saying what is wrong and what to set."""

StackCheck = Callable[[Sequence[ResourceView], Context], Iterable[tuple[str, str]]]
"""All resources -> (urn, message) for each violation."""


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    severity: Severity
    types: frozenset[str]
    check: ResourceCheck


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    severity: Severity
    check: StackCheck
    types: frozenset[str] = field(default_factory=frozenset)
    """Informational: the resource types the rule looks at."""


Rule = ResourceRule | StackRule

# --- helpers -----------------------------------------------------------------------------


def _get(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]..., or None where a step is missing."""
    for key in path:
        if isinstance(key, str) and isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(key, int) and _is_list(data) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _items(value: Any) -> list[Any]:
    """A list input as a list; a missing one as []; a single value as [value]."""
    if value is None:
        return []
    if _is_list(value):
        return list(value)
    return [value]


def _truthy(value: Any) -> bool:
    """True for True and "true" (some provider inputs, e.g. launch template ones, are strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _document(value: Any) -> Mapping[str, Any]:
    """An IAM/bucket policy input, a JSON string or an object, as a mapping."""
    if isinstance(value, str):
        parsed = json.loads(value) if value.strip() else {}
        return parsed if isinstance(parsed, Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _items(document.get("Statement")) if isinstance(s, Mapping)]


def _is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any(value == "*" or (_is_list(value) and "*" in value) for value in principal.values())
    return False


# --- S3 ----------------------------------------------------------------------------------

BUCKET = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
SSE_CONFIG = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
PUBLIC_ACCESS_BLOCK = frozenset({"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"})
OWNERSHIP = frozenset({"aws:s3/bucketOwnershipControls:BucketOwnershipControls"})
BUCKET_POLICY = frozenset({"aws:s3/bucketPolicy:BucketPolicy"})
VERSIONING = frozenset(
    {"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"}
)
BUCKET_ACL = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
REPLICATION = frozenset({"aws:s3/bucketReplicationConfig:BucketReplicationConfig"})
KMS_KEY = frozenset({"aws:kms/key:Key"})

SSE_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse", "AES256"})
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _sse_defaults(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [rule for rule in _items(inputs.get("rules")) if isinstance(rule, Mapping)]


def check_s3_encryption(inputs: Mapping[str, Any], _: Context) -> str | None:
    rules = _sse_defaults(inputs)
    if not rules:
        return "the encryption configuration has no rule; set sseAlgorithm aws:kms (or AES256)"
    for rule in rules:
        algorithm = _get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if algorithm not in SSE_ALGORITHMS:
            return f"sseAlgorithm is {algorithm!r}; use aws:kms with a customer-managed key (or AES256)"
    return None


def check_s3_bucket_key(inputs: Mapping[str, Any], _: Context) -> str | None:
    for rule in _sse_defaults(inputs):
        algorithm = _get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if algorithm in ("aws:kms", "aws:kms:dsse") and not _truthy(rule.get("bucketKeyEnabled")):
            return "SSE-KMS without bucketKeyEnabled: every object request calls KMS (cost, throttling)"
    return None


def check_s3_public_access_block(inputs: Mapping[str, Any], _: Context) -> str | None:
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if not _truthy(inputs.get(flag))]
    if off:
        return f"public access block flags not true: {', '.join(off)}; set all four to true"
    return None


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny" or not _is_everyone(statement.get("Principal")):
        return False
    actions = _items(statement.get("Action"))
    if not any(action in ("s3:*", "*") for action in actions):
        return False
    secure = _get(statement, "Condition", "Bool", "aws:SecureTransport")
    return any(_falsy(value) for value in _items(secure))


def check_s3_tls_only(inputs: Mapping[str, Any], _: Context) -> str | None:
    if any(_denies_insecure_transport(s) for s in _statements(_document(inputs.get("policy")))):
        return None
    return (
        "the bucket policy has no statement denying s3:* to everyone when aws:SecureTransport is "
        "false; add it so plain-HTTP requests are refused"
    )


def check_s3_no_public_policy(inputs: Mapping[str, Any], _: Context) -> str | None:
    for statement in _statements(_document(inputs.get("policy"))):
        if statement.get("Effect") == "Allow" and _is_everyone(statement.get("Principal")) and not statement.get("Condition"):
            sid = statement.get("Sid", "(no Sid)")
            return f"statement {sid} allows everyone (Principal *) without a condition: the bucket would be public"
    return None


def check_s3_ownership_enforced(inputs: Mapping[str, Any], _: Context) -> str | None:
    ownership = _get(inputs, "rule", "objectOwnership")
    if ownership != "BucketOwnerEnforced":
        return f"objectOwnership is {ownership!r}; BucketOwnerEnforced turns ACLs off"
    return None


def check_s3_no_public_acl(inputs: Mapping[str, Any], _: Context) -> str | None:
    acl = inputs.get("acl")
    if acl in PUBLIC_ACLS:
        return f"canned ACL {acl!r} makes objects readable outside the account; use no ACL (ownership enforced)"
    return None


def check_s3_versioning(inputs: Mapping[str, Any], _: Context) -> str | None:
    status = _get(inputs, "versioningConfiguration", "status")
    if status != "Enabled":
        return f"versioning status is {status!r}; Enabled keeps overwritten and deleted objects recoverable"
    return None


# --- ECR and KMS -------------------------------------------------------------------------

ECR_REPOSITORY = frozenset({"aws:ecr/repository:Repository"})
IMMUTABLE_TAGS = frozenset({"IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"})


def check_ecr_immutable_tags(inputs: Mapping[str, Any], _: Context) -> str | None:
    mutability = inputs.get("imageTagMutability") or "MUTABLE"  # the AWS default
    if mutability not in IMMUTABLE_TAGS:
        return f"imageTagMutability is {mutability}; IMMUTABLE (or IMMUTABLE_WITH_EXCLUSION for a cache tag) keeps a tag on one image"
    return None


def check_ecr_scan_on_push(inputs: Mapping[str, Any], _: Context) -> str | None:
    if not _truthy(_get(inputs, "imageScanningConfiguration", "scanOnPush")):
        return "imageScanningConfiguration.scanOnPush is not true; every pushed image should be scanned"
    return None


def check_kms_rotation(inputs: Mapping[str, Any], _: Context) -> str | None:
    spec = inputs.get("customerMasterKeySpec") or inputs.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        return None  # AWS rotates only symmetric encryption keys
    if not _truthy(inputs.get("enableKeyRotation")):
        return "enableKeyRotation is not true; turn on yearly automatic rotation"
    return None


# --- EC2 and network ---------------------------------------------------------------------

INSTANCE = frozenset({"aws:ec2/instance:Instance"})
LAUNCH_TEMPLATE = frozenset({"aws:ec2/launchTemplate:LaunchTemplate"})
SUBNET = frozenset({"aws:ec2/subnet:Subnet"})
SECURITY_GROUP = frozenset({"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"})
SECURITY_GROUP_RULE = frozenset({"aws:ec2/securityGroupRule:SecurityGroupRule"})
INGRESS_RULE = frozenset({"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"})
INGRESS_TYPES = SECURITY_GROUP | SECURITY_GROUP_RULE | INGRESS_RULE
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
SSH = 22


def check_imdsv2(inputs: Mapping[str, Any], _: Context) -> str | None:
    tokens = _get(inputs, "metadataOptions", "httpTokens")
    if tokens != "required":
        return f"metadataOptions.httpTokens is {tokens!r}; set it to required (IMDSv2 only)"
    return None


def check_instance_no_public_ip(inputs: Mapping[str, Any], _: Context) -> str | None:
    if _truthy(inputs.get("associatePublicIpAddress")):
        return "associatePublicIpAddress is true; instances are reached through SSM, never from the internet"
    return None


def check_no_public_ip_on_launch(inputs: Mapping[str, Any], _: Context) -> str | None:
    if _truthy(inputs.get("mapPublicIpOnLaunch")):
        return "mapPublicIpOnLaunch is true: instances started here get a public IPv4 (accepted only with no-ingress security groups)"
    for interface in _items(inputs.get("networkInterfaces")):
        if _truthy(_get(interface, "associatePublicIpAddress")):
            return "a network interface has associatePublicIpAddress true (accepted only with no-ingress security groups)"
    return None


def check_encrypted_volumes(inputs: Mapping[str, Any], context: Context) -> str | None:
    if context.type in INSTANCE:
        if not _truthy(_get(inputs, "rootBlockDevice", "encrypted")):
            return "rootBlockDevice.encrypted is not true; set it (the AMI's default may be unencrypted)"
        for device in _items(inputs.get("ebsBlockDevices")):
            if not _truthy(_get(device, "encrypted")):
                return f"EBS volume {_get(device, 'deviceName')} is not encrypted"
        return None
    for mapping in _items(inputs.get("blockDeviceMappings")):  # a LaunchTemplate
        ebs = _get(mapping, "ebs")
        if ebs is not None and not _truthy(_get(ebs, "encrypted")):
            return f"block device {_get(mapping, 'deviceName')} is not encrypted; set ebs.encrypted to true"
    return None


@dataclass(frozen=True)
class _Ingress:
    sources: frozenset[str]
    protocol: str
    from_port: float | None
    to_port: float | None

    def covers(self, port: int) -> bool:
        if self.protocol in ("-1", "all"):
            return True
        if self.protocol not in ("tcp", "6"):
            return False
        low = self.from_port if self.from_port is not None else 0
        high = self.to_port if self.to_port is not None else low
        return low <= port <= high


def _ingress(type_: str, inputs: Mapping[str, Any]) -> list[_Ingress]:
    if type_ in SECURITY_GROUP:
        return [
            _Ingress(
                sources=frozenset(_items(_get(rule, "cidrBlocks")) + _items(_get(rule, "ipv6CidrBlocks"))),
                protocol=str(_get(rule, "protocol")),
                from_port=_get(rule, "fromPort"),
                to_port=_get(rule, "toPort"),
            )
            for rule in _items(inputs.get("ingress"))
        ]
    if type_ in SECURITY_GROUP_RULE:
        if inputs.get("type") != "ingress":
            return []
        sources = _items(inputs.get("cidrBlocks")) + _items(inputs.get("ipv6CidrBlocks"))
        protocol, low, high = inputs.get("protocol"), inputs.get("fromPort"), inputs.get("toPort")
    elif type_ in INGRESS_RULE:
        sources = _items(inputs.get("cidrIpv4")) + _items(inputs.get("cidrIpv6"))
        protocol, low, high = inputs.get("ipProtocol"), inputs.get("fromPort"), inputs.get("toPort")
    else:
        return []
    return [_Ingress(frozenset(sources), str(protocol), low, high)]


def check_no_internet_ingress(inputs: Mapping[str, Any], context: Context) -> str | None:
    for rule in _ingress(context.type, inputs):
        if rule.sources & ANYWHERE:
            return (
                f"ingress from {', '.join(sorted(rule.sources & ANYWHERE))}: nothing here takes inbound "
                "traffic from the internet"
            )
    return None


def check_no_ssh_ingress(inputs: Mapping[str, Any], context: Context) -> str | None:
    for rule in _ingress(context.type, inputs):
        if rule.covers(SSH):
            return "ingress opens port 22 (SSH); reach instances through SSM Session Manager instead"
    return None


# --- IAM ---------------------------------------------------------------------------------

POLICY_DOCUMENT = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        "aws:iam/role:Role",
    }
)
POLICY_ATTACHMENT = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)
# Actions AWS only grants on Resource "*": they have no resource-level permissions.
WILDCARD_RESOURCE_ACTIONS = frozenset({"ecr:GetAuthorizationToken"})
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def _allow_statements(inputs: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    documents = [inputs.get("policy")] if "policy" in inputs else []
    documents += [_get(inline, "policy") for inline in _items(inputs.get("inlinePolicies"))]
    for document in documents:
        if document is None:
            continue
        for statement in _statements(_document(document)):
            if statement.get("Effect") == "Allow":
                yield statement


def check_iam_no_wildcard_action(inputs: Mapping[str, Any], _: Context) -> str | None:
    for statement in _allow_statements(inputs):
        sid = statement.get("Sid", "(no Sid)")
        if "NotAction" in statement:
            return f"statement {sid} allows NotAction: everything but a list; name the actions instead"
        wild = [a for a in _items(statement.get("Action")) if isinstance(a, str) and (a == "*" or a.endswith(":*"))]
        if wild:
            return f"statement {sid} allows {', '.join(wild)}; name the actions the workload calls"
    return None


def check_iam_no_wildcard_resource(inputs: Mapping[str, Any], _: Context) -> str | None:
    for statement in _allow_statements(inputs):
        sid = statement.get("Sid", "(no Sid)")
        if "NotResource" in statement:
            return f"statement {sid} allows on NotResource; name the resources instead"
        if "*" not in _items(statement.get("Resource")):
            continue
        actions = {a for a in _items(statement.get("Action")) if isinstance(a, str)}
        others = sorted(actions - WILDCARD_RESOURCE_ACTIONS)
        if others or not actions:
            return f"statement {sid} allows {', '.join(others) or 'its actions'} on Resource *; scope it to ARNs"
    return None


def check_iam_no_admin_policy(inputs: Mapping[str, Any], _: Context) -> str | None:
    arn = inputs.get("policyArn")
    if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in ADMIN_POLICIES:
        return f"attaches {arn.rsplit('/', 1)[-1]}; grant a policy scoped to what the workload does"
    return None


# --- Kubernetes workloads ----------------------------------------------------------------

# The kinds that carry a pod spec (_pod_spec finds it by shape).
WORKLOAD = frozenset({
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
})
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _pod_spec(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of whichever workload kind `inputs` is (found by shape, not by type)."""
    for path in (("spec", "jobTemplate", "spec", "template", "spec"), ("spec", "template", "spec")):
        spec = _get(inputs, *path)
        if isinstance(spec, Mapping):
            return spec
    spec = _get(inputs, "spec")
    return spec if isinstance(spec, Mapping) and "containers" in spec else {}


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    every = _items(spec.get("initContainers")) + _items(spec.get("containers"))
    return [c for c in every if isinstance(c, Mapping)]


def _per_container(problem: Callable[[Mapping[str, Any], Mapping[str, Any]], str | None]) -> ResourceCheck:
    """A check that runs `problem(container, pod_spec)` on every (init) container."""

    def check(inputs: Mapping[str, Any], _: Context) -> str | None:
        spec = _pod_spec(inputs)
        for container in _containers(spec):
            found = problem(container, spec)
            if found:
                return f"container {container.get('name', '?')}: {found}"
        return None

    return check


def _effective(container: Mapping[str, Any], spec: Mapping[str, Any], key: str) -> Any:
    """A security context setting: the container's own, else the pod's."""
    own = _get(container, "securityContext", key)
    return own if own is not None else _get(spec, "securityContext", key)


def _run_as_non_root(container: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    if _effective(container, spec, "runAsNonRoot") is not True:
        return "runAsNonRoot is not true (pod or container securityContext)"
    return None


def _no_privilege_escalation(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    if _get(container, "securityContext", "allowPrivilegeEscalation") is not False:
        return "securityContext.allowPrivilegeEscalation is not false"
    return None


def _read_only_root(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    if _get(container, "securityContext", "readOnlyRootFilesystem") is not True:
        return "securityContext.readOnlyRootFilesystem is not true (mount an emptyDir where it writes)"
    return None


def _drop_all(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    if "ALL" not in _items(_get(container, "securityContext", "capabilities", "drop")):
        return "securityContext.capabilities.drop does not include ALL"
    return None


def _seccomp(container: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    profile = _get(_effective(container, spec, "seccompProfile"), "type")
    if profile not in ("RuntimeDefault", "Localhost"):
        return f"seccompProfile.type is {profile!r}; set RuntimeDefault (pod or container)"
    return None


def _limits(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    limits = _get(container, "resources", "limits") or {}
    missing = [r for r in ("cpu", "memory") if not (isinstance(limits, Mapping) and limits.get(r))]
    if missing:
        return f"resources.limits has no {' or '.join(missing)}"
    return None


def _pinned(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    image = container.get("image")
    if not (isinstance(image, str) and DIGEST.search(image)):
        return f"image {image!r} is not pinned by digest (<repository>@sha256:<digest>)"
    return None


def check_k8s_no_privileged_or_host(inputs: Mapping[str, Any], _: Context) -> str | None:
    spec = _pod_spec(inputs)
    shared = [key for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key) is True]
    if shared:
        return f"the pod shares the node's namespaces: {', '.join(shared)}"
    for container in _containers(spec):
        if _get(container, "securityContext", "privileged") is True:
            return f"container {container.get('name', '?')} is privileged"
    return None


# --- stack-level: bucket guards and prod data --------------------------------------------


def _refs(resource: ResourceView) -> Mapping[str, frozenset[str]] | None:
    return getattr(resource, "refs", None)


def _identities(resource: ResourceView) -> set[str]:
    """The values another resource's input may use to point at `resource`: id, name, ARN."""
    found: set[str] = set()
    for value in (getattr(resource, "id", None), _get(getattr(resource, "state", None), "bucket"),
                  _get(getattr(resource, "state", None), "arn"), _get(getattr(resource, "state", None), "keyId")):
        if isinstance(value, str) and value:
            found.add(value)
    return found


def _pointed_at(
    source: ResourceView, prop: str, values: Callable[[], Iterable[Any]], targets: Sequence[ResourceView]
) -> list[ResourceView]:
    """The `targets` that `source`'s input `prop` refers to: by dependency, else by value.

    `values` is only called without dependencies, as reading a value may fail while it is
    unknown in a preview (then nothing is linked by value).
    """
    refs = _refs(source)
    if refs is not None and refs.get(prop):
        return [t for t in targets if t.urn in refs[prop]]
    try:
        wanted = {v for v in values() if isinstance(v, str)}
    except Exception:  # noqa: BLE001 - CrossGuard's unknown-value proxy raises its own error
        return []
    return [t for t in targets if _identities(t) & wanted]


def _bucket_settings(resources: Sequence[ResourceView], buckets: Sequence[ResourceView]) -> dict[str, set[str]]:
    """Bucket URN -> the setting kinds configured for it."""
    kinds = {
        "public access block": PUBLIC_ACCESS_BLOCK,
        "encryption configuration": SSE_CONFIG,
        "ownership controls": OWNERSHIP,
        "bucket policy": BUCKET_POLICY,
        "versioning": VERSIONING,
    }
    found: dict[str, set[str]] = {b.urn: set() for b in buckets}
    for resource in resources:
        for kind, types in kinds.items():
            if resource.type in types:
                for bucket in _pointed_at(resource, "bucket", lambda r=resource: [r.inputs.get("bucket")], buckets):
                    found[bucket.urn].add(kind)
    return found


def _value(resource: ResourceView, prop: str) -> Any:
    """An input that may be unknown during a preview (then None: the refs did the linking)."""
    try:
        return resource.inputs.get(prop)
    except Exception:  # noqa: BLE001 - CrossGuard's unknown-value proxy raises its own error
        return None


BUCKET_GUARDS = ("public access block", "encryption configuration", "ownership controls", "bucket policy", "versioning")


# --- GKE ---------------------------------------------------------------------------------

GKE_CLUSTER = frozenset({"gcp:container/cluster:Cluster"})


def check_gke_private_nodes(inputs: Mapping[str, Any], _: Context) -> str | None:
    if not _truthy(_get(inputs, "privateClusterConfig", "enablePrivateNodes")):
        return "nodes get public addresses: set privateClusterConfig.enablePrivateNodes"
    return None


def check_gke_control_plane_not_open(inputs: Mapping[str, Any], _: Context) -> str | None:
    blocks = _items(_get(inputs, "masterAuthorizedNetworksConfig", "cidrBlocks"))
    if not blocks:
        return "the control plane's endpoint admits every address: set masterAuthorizedNetworksConfig"
    open_to = [b.get("cidrBlock") for b in blocks if isinstance(b, Mapping) and b.get("cidrBlock") in ANYWHERE]
    if open_to:
        return f"the control plane admits {', '.join(map(str, open_to))}"
    return None


def check_gke_workload_identity(inputs: Mapping[str, Any], _: Context) -> str | None:
    if not _get(inputs, "workloadIdentityConfig", "workloadPool"):
        return "no Workload Identity pool: pods would fall back to the node's service account"
    return None


def check_gke_network_policy_enforced(inputs: Mapping[str, Any], _: Context) -> str | None:
    dataplane_v2 = inputs.get("datapathProvider") == "ADVANCED_DATAPATH"
    if not dataplane_v2 and not _truthy(_get(inputs, "networkPolicy", "enabled")):
        return "NetworkPolicies would be accepted and not enforced: use Dataplane V2 (ADVANCED_DATAPATH)"
    return None


def check_gke_shielded_nodes(inputs: Mapping[str, Any], _: Context) -> str | None:
    if _falsy(inputs.get("enableShieldedNodes")):
        return "shielded nodes are off"
    return None


def check_gke_prod_deletion_protection(inputs: Mapping[str, Any], context: Context) -> str | None:
    if context.environment == "prod" and not _truthy(inputs.get("deletionProtection")):
        return (
            "a prod cluster without deletionProtection can be deleted by one destroy; "
            "to tear prod down on purpose, run with --policy-pack-config policy/teardown.json"
        )
    return None


def check_buckets_guarded(resources: Sequence[ResourceView], _: Context) -> Iterator[tuple[str, str]]:
    buckets = [r for r in resources if r.type in BUCKET]
    settings = _bucket_settings(resources, buckets)
    for bucket in buckets:
        missing = [kind for kind in BUCKET_GUARDS if kind not in settings[bucket.urn]]
        if missing:
            yield bucket.urn, f"bucket {bucket.name} has no {', no '.join(missing)}"


TEARDOWN_HINT = (
    "to tear prod down on purpose, run with --policy-pack-config policy/teardown.json "
    "(see README, Policies)"
)


def check_prod_data_protected(resources: Sequence[ResourceView], context: Context) -> Iterator[tuple[str, str]]:
    if context.environment != "prod":
        return
    buckets = [r for r in resources if r.type in BUCKET]
    keys = [r for r in resources if r.type in KMS_KEY]
    data_keys: dict[str, ResourceView] = {}
    for resource in resources:
        if resource.type in SSE_CONFIG:
            def key_ids(r: ResourceView = resource) -> list[Any]:
                return [_get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId") for rule in _sse_rules(r)]

            for key in _pointed_at(resource, "rules", key_ids, keys):
                data_keys[key.urn] = key
    for bucket in buckets:
        if not bucket.protect:
            yield bucket.urn, f"prod bucket {bucket.name} is not protected: `pulumi destroy` would delete the data; {TEARDOWN_HINT}"
        if _truthy(_value(bucket, "forceDestroy")):
            yield bucket.urn, f"prod bucket {bucket.name} has forceDestroy: deleting it would empty it first; {TEARDOWN_HINT}"
    for key in data_keys.values():
        if not key.protect:
            yield key.urn, f"KMS key {key.name} encrypts a prod bucket and is not protected: without it the data is unreadable; {TEARDOWN_HINT}"


def _sse_rules(resource: ResourceView) -> list[Mapping[str, Any]]:
    rules = _value(resource, "rules")
    return [r for r in _items(rules) if isinstance(r, Mapping)]


# --- exposure to the internet -------------------------------------------------------------
#
# What a resource lets the internet reach, as `Opening`s: a door (a load balancer, the
# control plane, a pod's ingress), a port ("" is every port) and a source (a public CIDR,
# or a named group). `make diff` calls a change exposing when HEAD has an opening that no
# opening at BASE covers; the policy below requires authentication behind a public Service.

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


def public_load_balancer(inputs: Mapping[str, Any]) -> bool:
    """A Service of type LoadBalancer with none of the internal-load-balancer annotations."""
    if _get(inputs, "spec", "type") != "LoadBalancer":
        return False
    annotations = _get(inputs, "metadata", "annotations") or {}
    return not any(str(annotations.get(key, "")).lower() == value for key, value in INTERNAL_LOAD_BALANCER.items())


def _ports(ports: Any) -> list[str]:
    return [f"{_get(p, 'protocol') or 'TCP'} {_port(_get(p, 'port'))}" for p in _items(ports) if isinstance(p, Mapping)] or [""]


def _port(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _service_openings(inputs: Mapping[str, Any]) -> list[Opening]:
    if not public_load_balancer(inputs):
        return []
    ranges = [str(c) for c in _items(_get(inputs, "spec", "loadBalancerSourceRanges"))]
    sources = [c for c in ranges if _public(c)] if ranges else [EVERY_ADDRESS]
    return [Opening("its load balancer", port, source) for port in _ports(_get(inputs, "spec", "ports")) for source in sources]


def _network_policy_openings(inputs: Mapping[str, Any]) -> list[Opening]:
    types = _items(_get(inputs, "spec", "policyTypes"))
    if types and "Ingress" not in types:
        return []
    found = []
    for rule in _items(_get(inputs, "spec", "ingress")):
        peers = _items(_get(rule, "from"))
        # No `from` admits every source; a pod or namespace selector admits only the cluster's own.
        sources = [EVERY_ADDRESS] if not peers else [
            str(_get(peer, "ipBlock", "cidr")) for peer in peers if _public(_get(peer, "ipBlock", "cidr"))
        ]
        found += [Opening("pod ingress", port, source) for port in _ports(_get(rule, "ports")) for source in sources]
    return found


def _cluster_openings(inputs: Mapping[str, Any]) -> list[Opening]:
    found = []
    if not _truthy(_get(inputs, "privateClusterConfig", "enablePrivateEndpoint")):
        config = _get(inputs, "masterAuthorizedNetworksConfig")
        if not isinstance(config, Mapping):
            found.append(Opening("the control plane", "", EVERY_ADDRESS))
        else:
            found += [Opening("the control plane", "", str(_get(b, "cidrBlock")))
                      for b in _items(config.get("cidrBlocks")) if _public(_get(b, "cidrBlock"))]
            if _truthy(config.get("gcpPublicCidrsAccessEnabled")):
                found.append(Opening("the control plane", "", "every Google Cloud address"))
    if _truthy(_get(inputs, "controlPlaneEndpointsConfig", "dnsEndpointConfig", "allowExternalTraffic")):
        found.append(Opening("the control plane's DNS endpoint (IAM-guarded)", "", EVERY_ADDRESS))
    if _falsy(_get(inputs, "privateClusterConfig", "enablePrivateNodes")):
        found.append(Opening("the nodes' public addresses", "", EVERY_ADDRESS))
    return found


def _bucket_openings(type_: str, inputs: Mapping[str, Any]) -> list[Opening]:
    context = Context(environment="", type=type_)
    if type_ in BUCKET_POLICY and check_s3_no_public_policy(inputs, context):
        return [Opening("the bucket policy", "", EVERY_ADDRESS)]
    if type_ in PUBLIC_ACCESS_BLOCK:
        return [Opening("the public access block", "", f"{flag} off") for flag in PUBLIC_ACCESS_FLAGS
                if not _truthy(inputs.get(flag))]
    if type_ in BUCKET | BUCKET_ACL and check_s3_no_public_acl(inputs, context):
        return [Opening("the bucket ACL", "", str(inputs.get("acl")))]
    return []


def _security_group_openings(type_: str, inputs: Mapping[str, Any]) -> list[Opening]:
    found = []
    for rule in _ingress(type_, inputs):
        port = "" if rule.protocol in ("-1", "all") else f"{rule.protocol.upper()} {_port(rule.from_port)}-{_port(rule.to_port)}"
        found += [Opening("security group ingress", port, source) for source in sorted(rule.sources) if _public(source)]
    return found


def openings(type_: str, inputs: Mapping[str, Any]) -> list[Opening]:
    """What this resource lets the internet reach (see `Opening`)."""
    if type_ in SERVICE:
        return _service_openings(inputs)
    if type_ in NETWORK_POLICY:
        return _network_policy_openings(inputs)
    if type_ in GKE_CLUSTER:
        return _cluster_openings(inputs)
    if type_ in INGRESS_TYPES:
        return _security_group_openings(type_, inputs)
    return _bucket_openings(type_, inputs)


def _checks_bearer_token(deployment: ResourceView) -> bool:
    """Every container of the pods gets AUTH_TOKEN_ENV from a Secret (never a literal in the spec)."""
    containers = _items(_get(_pod_spec(deployment.inputs), "containers"))
    return bool(containers) and all(
        any(_get(env, "name") == AUTH_TOKEN_ENV and _get(env, "valueFrom", "secretKeyRef", "name")
            for env in _items(_get(container, "env")))
        for container in containers
    )


def _selects(service: ResourceView, deployment: ResourceView) -> bool:
    selector = _get(service.inputs, "spec", "selector")
    labels = _get(deployment.inputs, "spec", "template", "metadata", "labels")
    if not isinstance(selector, Mapping) or not selector or not isinstance(labels, Mapping):
        return False
    namespaces = {_value_at(service, "metadata", "namespace"), _value_at(deployment, "metadata", "namespace")}
    return all(labels.get(k) == v for k, v in selector.items()) and (len(namespaces) == 1 or None in namespaces)


def _value_at(resource: ResourceView, *path: str) -> Any:
    """A value that may be unknown during a preview (then None)."""
    try:
        return _get(resource.inputs, *path)
    except Exception:  # noqa: BLE001 - CrossGuard's unknown-value proxy raises its own error
        return None


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


# --- the list ----------------------------------------------------------------------------


RULES: tuple[Rule, ...] = (
    # S3
    ResourceRule("s3-encryption", "S3 buckets are encrypted at rest with SSE-KMS or SSE-S3.", "mandatory",
                 SSE_CONFIG, check_s3_encryption),
    ResourceRule("s3-bucket-key", "SSE-KMS buckets use an S3 bucket key (fewer KMS calls, lower cost).", "advisory",
                 SSE_CONFIG, check_s3_bucket_key),
    ResourceRule("s3-public-access-block", "S3 public access blocks set all four flags.", "mandatory",
                 PUBLIC_ACCESS_BLOCK, check_s3_public_access_block),
    ResourceRule("s3-tls-only", "S3 bucket policies deny requests not made over TLS.", "mandatory",
                 BUCKET_POLICY, check_s3_tls_only),
    ResourceRule("s3-no-public-policy", "S3 bucket policies grant nothing to everyone without a condition.",
                 "mandatory", BUCKET_POLICY, check_s3_no_public_policy),
    ResourceRule("s3-ownership-enforced", "S3 buckets enforce bucket-owner ownership (ACLs disabled).", "mandatory",
                 OWNERSHIP, check_s3_ownership_enforced),
    ResourceRule("s3-no-public-acl", "S3 buckets and ACL resources use no public canned ACL.", "mandatory",
                 BUCKET | BUCKET_ACL, check_s3_no_public_acl),
    ResourceRule("s3-versioning", "S3 bucket versioning is enabled, so data can be recovered.", "mandatory",
                 VERSIONING, check_s3_versioning),
    StackRule("s3-bucket-guarded", "Every S3 bucket has a public access block, encryption, ownership controls, "
              "a (TLS-only) bucket policy and versioning.", "mandatory", check_buckets_guarded,
              BUCKET | PUBLIC_ACCESS_BLOCK | SSE_CONFIG | OWNERSHIP | BUCKET_POLICY | VERSIONING),
    StackRule("prod-data-protected", "In prod, buckets and the KMS keys that encrypt them are protected, and "
              "buckets are not force-destroyed.", "mandatory", check_prod_data_protected, BUCKET | KMS_KEY | SSE_CONFIG),
    # Registry and keys
    ResourceRule("ecr-immutable-tags", "ECR repositories have immutable tags.", "mandatory",
                 ECR_REPOSITORY, check_ecr_immutable_tags),
    ResourceRule("ecr-scan-on-push", "ECR repositories scan images on push.", "mandatory",
                 ECR_REPOSITORY, check_ecr_scan_on_push),
    ResourceRule("kms-key-rotation", "Symmetric KMS keys rotate automatically.", "mandatory",
                 KMS_KEY, check_kms_rotation),
    # Compute and network
    ResourceRule("ec2-imdsv2", "Instances and launch templates require IMDSv2 tokens.", "mandatory",
                 INSTANCE | LAUNCH_TEMPLATE, check_imdsv2),
    ResourceRule("ec2-instance-no-public-ip", "EC2 instances get no public IP; they are reached through SSM.",
                 "mandatory", INSTANCE, check_instance_no_public_ip),
    ResourceRule("ec2-no-public-ip-on-launch", "Subnets and launch templates do not hand out public IPv4 "
                 "addresses (advisory: dev Batch jobs may run in public subnets, behind no-ingress security groups).",
                 "advisory", SUBNET | LAUNCH_TEMPLATE, check_no_public_ip_on_launch),
    ResourceRule("ec2-encrypted-volumes", "Instance root and EBS volumes, and launch template EBS mappings, are "
                 "encrypted.", "mandatory", INSTANCE | LAUNCH_TEMPLATE, check_encrypted_volumes),
    ResourceRule("ec2-no-internet-ingress", "Security groups take no inbound traffic from 0.0.0.0/0 or ::/0.",
                 "mandatory", INGRESS_TYPES, check_no_internet_ingress),
    ResourceRule("ec2-no-ssh-ingress", "No security group opens port 22; shells go through SSM Session Manager.",
                 "mandatory", INGRESS_TYPES, check_no_ssh_ingress),
    # IAM
    ResourceRule("iam-no-wildcard-action", "IAM policies allow named actions, never * or service:*.", "mandatory",
                 POLICY_DOCUMENT, check_iam_no_wildcard_action),
    ResourceRule("iam-no-wildcard-resource", "IAM policies allow actions on named resources; Resource * only for "
                 "actions that have no resource-level permissions (ecr:GetAuthorizationToken).", "mandatory",
                 POLICY_DOCUMENT, check_iam_no_wildcard_resource),
    ResourceRule("iam-no-admin-policy", "No principal gets AdministratorAccess, PowerUserAccess or IAMFullAccess.",
                 "mandatory", POLICY_ATTACHMENT, check_iam_no_admin_policy),
    # Kubernetes workloads (serving and training pods)
    ResourceRule("k8s-run-as-non-root", "Pods run as a non-root user.", "mandatory",
                 WORKLOAD, _per_container(_run_as_non_root)),
    ResourceRule("k8s-no-privilege-escalation", "Containers set allowPrivilegeEscalation false.", "mandatory",
                 WORKLOAD, _per_container(_no_privilege_escalation)),
    ResourceRule("k8s-read-only-root-filesystem", "Containers have a read-only root filesystem.", "mandatory",
                 WORKLOAD, _per_container(_read_only_root)),
    ResourceRule("k8s-drop-all-capabilities", "Containers drop ALL Linux capabilities.", "mandatory",
                 WORKLOAD, _per_container(_drop_all)),
    ResourceRule("k8s-seccomp-runtime-default", "Pods use the RuntimeDefault seccomp profile.", "mandatory",
                 WORKLOAD, _per_container(_seccomp)),
    ResourceRule("k8s-resource-limits", "Containers set CPU and memory limits.", "mandatory",
                 WORKLOAD, _per_container(_limits)),
    ResourceRule("k8s-image-digest", "Container images are pinned by digest (@sha256:).", "mandatory",
                 WORKLOAD, _per_container(_pinned)),
    ResourceRule("k8s-no-privileged-or-host", "Pods are not privileged and share no host namespace.", "mandatory",
                 WORKLOAD, check_k8s_no_privileged_or_host),
    # GKE
    ResourceRule("gke-private-nodes", "GKE nodes have no public address.", "mandatory",
                 GKE_CLUSTER, check_gke_private_nodes),
    ResourceRule("gke-control-plane-not-open", "The GKE control plane admits only authorized networks, never "
                 "0.0.0.0/0.", "mandatory", GKE_CLUSTER, check_gke_control_plane_not_open),
    ResourceRule("gke-workload-identity", "GKE pods get Workload Identity, never the node's credentials.",
                 "mandatory", GKE_CLUSTER, check_gke_workload_identity),
    ResourceRule("gke-network-policy-enforced", "GKE enforces NetworkPolicies (Dataplane V2).", "mandatory",
                 GKE_CLUSTER, check_gke_network_policy_enforced),
    ResourceRule("gke-shielded-nodes", "GKE nodes are shielded (secure boot, integrity monitoring).", "mandatory",
                 GKE_CLUSTER, check_gke_shielded_nodes),
    ResourceRule("gke-prod-deletion-protection", "A prod GKE cluster has deletion protection.", "mandatory",
                 GKE_CLUSTER, check_gke_prod_deletion_protection),
    # Exposure
    StackRule("prod-public-endpoint-authenticated", "In prod, a public LoadBalancer Service's pods check a bearer "
              f"token ({AUTH_TOKEN_ENV} from a Secret).", "mandatory", check_prod_public_endpoint_authenticated,
              SERVICE | DEPLOYMENT),
    StackRule("public-endpoint-authenticated", "Outside prod, a public LoadBalancer Service without a bearer token "
              "is reported (advisory).", "advisory", check_public_endpoint_authenticated, SERVICE | DEPLOYMENT),
)

RULES_BY_NAME: Mapping[str, Rule] = {rule.name: rule for rule in RULES}


def evaluate(resources: Sequence[ResourceView], *, environment: str) -> list[Violation]:
    """Run every rule on `resources` (e.g. `run_stack("dev").resources`), offline.

    `environment` is the stack's `mlops:environment` (dev | prod). Violations come in rule
    order, then resource order.
    """
    violations: list[Violation] = []
    for rule in RULES:
        if isinstance(rule, StackRule):
            for urn, message in rule.check(resources, Context(environment=environment)):
                violations.append(Violation(rule.name, rule.severity, urn, message))
            continue
        for resource in resources:
            if resource.type not in rule.types:
                continue
            context = Context(environment=environment, type=resource.type, name=resource.name, protect=resource.protect)
            message = rule.check(resource.inputs, context)
            if message:
                violations.append(Violation(rule.name, rule.severity, resource.urn, message))
    return violations


def mandatory(violations: Iterable[Violation]) -> list[Violation]:
    """The violations that block a `pulumi up`."""
    return [v for v in violations if v.severity == "mandatory"]
