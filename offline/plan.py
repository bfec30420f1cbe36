"""`make plan`: show what a stack would create, offline, without the Pulumi CLI or a cloud.

The real program runs under the mock engine with the stack file's config. The output is
the resource tree (type, name, under its parent), the settings a reviewer checks on each
resource (IAM and KMS policy statements, CIDRs and zones, security group rules, the
training schedule and settings), the stack outputs, and a count by type. Values only
known after deployment (ids, digests, AMI) are shown as the offline engine's placeholders.

`--json` prints the recording instead (secrets redacted) and `--graph` a Mermaid diagram
of the stack. Every form is byte-stable: the same program and config print the same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from components.config import ConfigError, placeholder
from offline.engine import Recording, Registration, StackFileError, run_stack, stack_config
from offline.values import json_document, redact, show

Settings = Callable[[dict[str, Any]], dict[str, Any]]
WHOLE_STACK_CAP = 250  # `--graph` draws the whole stack; the diff keeps the default cap


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def _lifecycle(inputs: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for rule in inputs.get("rules", []):
        days = (
            _get(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation")
            or _get(rule, "noncurrentVersionExpiration", "noncurrentDays")
            or _get(rule, "transitions", 0, "days")
        )
        summary[rule["id"]] = f"{days} days"
    return summary


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal(principal: Any) -> str:
    if principal == "*" or not isinstance(principal, dict):
        return show(principal)
    return " ".join(f"{kind}:{','.join(map(str, _as_list(who)))}" for kind, who in sorted(principal.items()))


def _condition(condition: Any) -> str:
    if not isinstance(condition, dict):
        return ""
    parts = [
        f"{operator} {key}={','.join(map(str, _as_list(value)))}"
        for operator, tests in sorted(condition.items())
        if isinstance(tests, dict)
        for key, value in sorted(tests.items())
    ]
    return " when " + " and ".join(parts) if parts else ""


def statement_lines(document: Any) -> list[str]:
    """One readable line per policy statement: Effect, Action, Resource, Principal, Condition."""
    if not isinstance(document, dict):
        return []
    lines = []
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict):
            continue
        actions = ", ".join(map(str, _as_list(statement.get("Action") or statement.get("NotAction"))))
        line = f"{statement.get('Effect', '?')} {actions}"
        if "NotAction" in statement:
            line = f"{statement.get('Effect', '?')} all but {actions}"
        if "Principal" in statement:
            line += f" by {_principal(statement['Principal'])}"
        if "Resource" in statement or "NotResource" in statement:
            resources = ", ".join(map(str, _as_list(statement.get("Resource") or statement.get("NotResource"))))
            line += f" on {resources}"
        line += _condition(statement.get("Condition"))
        if "Sid" in statement:
            line += f"  [{statement['Sid']}]"
        lines.append(line)
    return lines


def _rules(direction: str, rules: Any) -> list[str]:
    lines = []
    for rule in _as_list(rules):
        if not isinstance(rule, dict):
            continue
        ports = f"{rule.get('fromPort')}" if rule.get("fromPort") == rule.get("toPort") else f"{rule.get('fromPort')}-{rule.get('toPort')}"
        peers = [*_as_list(rule.get("cidrBlocks")), *_as_list(rule.get("ipv6CidrBlocks")),
                 *_as_list(rule.get("securityGroups")), *_as_list(rule.get("prefixListIds"))]
        if rule.get("self"):
            peers.append("self")
        where = "from" if direction == "ingress" else "to"
        line = f"{direction} {rule.get('protocol')}/{ports} {where} {', '.join(map(str, peers)) or '(nobody)'}"
        if rule.get("description"):
            line += f"  ({rule['description']})"
        lines.append(line)
    return lines or [f"{direction}: none"]


# Multi-line details, one fact per line, shown under the resource.
Details = Callable[[dict[str, Any]], list[str]]


def _document_details(*keys: str) -> Details:
    def details(inputs: dict[str, Any]) -> list[str]:
        lines = []
        for key in keys:
            document = json_document(inputs.get(key))
            for line in statement_lines(document):
                lines.append(f"{key}: {line}" if len(keys) > 1 else line)
        return lines

    return details


DETAILS: dict[str, Details] = {
    "aws:iam/role:Role": _document_details("assumeRolePolicy"),
    "aws:iam/rolePolicy:RolePolicy": _document_details("policy"),
    "aws:iam/userPolicy:UserPolicy": _document_details("policy"),
    "aws:s3/bucketPolicy:BucketPolicy": _document_details("policy"),
    "aws:kms/key:Key": _document_details("policy"),
    "aws:ec2/securityGroup:SecurityGroup": lambda i: _rules("ingress", i.get("ingress")) + _rules("egress", i.get("egress")),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": lambda i: _rules("ingress", i.get("ingress")) + _rules("egress", i.get("egress")),
}


def _generic_details(inputs: dict[str, Any]) -> list[str]:
    """For a type without its own renderer: every JSON-document input, and every policy in it."""
    lines = []
    for key, value in sorted(inputs.items()):
        document = json_document(value)
        if document is None:
            continue
        statements = statement_lines(document)
        if statements:
            lines += [f"{key}: {line}" for line in statements]
        else:
            lines.append(f"{key}: {show(document)}")
    return lines


def _generic_settings(inputs: dict[str, Any]) -> dict[str, Any]:
    """For a type without its own renderer: its scalar inputs (a schedule, a timeout, a name)."""
    return {
        key: value
        for key, value in sorted(inputs.items())
        if isinstance(value, (str, int, float, bool)) and json_document(value) is None and key != "tags"
    }


def _workload(spec: dict[str, Any] | None) -> dict[str, Any]:
    """A Kubernetes pod template's reviewable settings: image, probes, resources, security."""
    pod = _get(spec, "template", "spec") or {}
    container = _get(pod, "containers", 0) or {}
    security = container.get("securityContext") or {}
    return {
        "image": container.get("image"),
        "ports": [p.get("containerPort") for p in container.get("ports") or []] or None,
        "probes": {k.removesuffix("Probe"): _get(container, k, "httpGet", "path") for k in ("startupProbe", "readinessProbe", "livenessProbe") if k in container} or None,
        "limits": _get(container, "resources", "limits"),
        "runAsNonRoot": security.get("runAsNonRoot"),
        "readOnlyRoot": security.get("readOnlyRootFilesystem"),
        "privilegeEscalation": security.get("allowPrivilegeEscalation"),
        "capsDropped": _get(security, "capabilities", "drop"),
        "seccomp": _get(pod, "securityContext", "seccompProfile", "type"),
        "tokenMounted": pod.get("automountServiceAccountToken"),
    }


def _job_definition(inputs: dict[str, Any]) -> dict[str, Any]:
    container = json.loads(inputs.get("containerProperties", "{}"))
    retry = inputs.get("retryStrategy") or {}
    return {
        "name": inputs.get("name"),
        "command": " ".join(container.get("command", [])) or None,
        "requires": {r["type"]: r["value"] for r in container.get("resourceRequirements", [])},
        "timeoutSeconds": _get(inputs, "timeout", "attemptDurationSeconds"),
        "attempts": retry.get("attempts"),
        "retryOn": [e.get("onStatusReason") or e.get("onExitCode") for e in retry.get("evaluateOnExits", []) if e.get("action") == "RETRY"],
        "readOnlyRoot": container.get("readonlyRootFilesystem"),
    }


# What a reviewer looks at, per resource type.
SETTINGS: dict[str, Settings] = {
    "pulumi:providers:aws": lambda i: {"region": i.get("region"), "defaultTags": _get(json.loads(i.get("defaultTags", "{}")), "tags")},
    "aws:s3/bucket:Bucket": lambda i: {"bucketPrefix": i.get("bucketPrefix"), "forceDestroy": i.get("forceDestroy")},
    "aws:s3/bucketVersioning:BucketVersioning": lambda i: {"status": _get(i, "versioningConfiguration", "status")},
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": lambda i: {
        "sse": _get(i, "rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm"),
        "bucketKey": _get(i, "rules", 0, "bucketKeyEnabled"),
    },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": lambda i: {
        k: i.get(k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    },
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": lambda i: {"ownership": _get(i, "rule", "objectOwnership")},
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _lifecycle,
    "aws:s3/bucketPolicy:BucketPolicy": lambda i: {},
    "aws:s3/bucketLogging:BucketLogging": lambda i: {"targetPrefix": i.get("targetPrefix")},
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": lambda i: {
        "rule": _get(i, "rules", 0, "id"),
        "deleteMarkers": _get(i, "rules", 0, "deleteMarkerReplication", "status"),
        "kmsObjects": _get(i, "rules", 0, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status"),
    },
    "aws:kms/key:Key": lambda i: {"rotation": i.get("enableKeyRotation"), "deletionWindowDays": i.get("deletionWindowInDays")},
    "aws:ecr/repository:Repository": lambda i: {
        "name": i.get("name"),
        "tags": i.get("imageTagMutability"),
        "scanOnPush": _get(i, "imageScanningConfiguration", "scanOnPush"),
        "encryption": _get(i, "encryptionConfigurations", 0, "encryptionType"),
    },
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": lambda i: {
        "keep": ", ".join(rule["description"] for rule in json.loads(i.get("policy", "{}")).get("rules", []))
    },
    "docker-build:index:Image": lambda i: {"tags": i.get("tags"), "platforms": i.get("platforms"), "push": i.get("push")},
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda i: {"service": i.get("serviceName"), "type": i.get("vpcEndpointType")},
    "aws:ec2/securityGroup:SecurityGroup": lambda i: {"description": i.get("description")},
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": lambda i: {},
    "aws:ec2/vpc:Vpc": lambda i: {"cidr": i.get("cidrBlock"), "dnsHostnames": i.get("enableDnsHostnames")},
    "aws:ec2/subnet:Subnet": lambda i: {
        "cidr": i.get("cidrBlock"), "zone": i.get("availabilityZone"), "publicIpOnLaunch": i.get("mapPublicIpOnLaunch"),
    },
    "aws:ec2/route:Route": lambda i: {
        "destination": i.get("destinationCidrBlock") or i.get("destinationIpv6CidrBlock"),
        "via": i.get("natGatewayId") or i.get("gatewayId") or i.get("vpcEndpointId") or i.get("networkInterfaceId"),
    },
    "aws:ec2/routeTable:RouteTable": lambda i: {},
    "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda i: {"subnet": i.get("subnetId"), "routeTable": i.get("routeTableId")},
    "aws:ec2/internetGateway:InternetGateway": lambda i: {},
    "aws:ec2/eip:Eip": lambda i: {"domain": i.get("domain")},
    "aws:ec2/natGateway:NatGateway": lambda i: {"subnet": i.get("subnetId"), "eip": i.get("allocationId")},
    "aws:iam/role:Role": lambda i: {"name": i.get("name")},
    "aws:iam/rolePolicy:RolePolicy": lambda i: {"role": i.get("role")},
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda i: {"role": i.get("role"), "policy": i.get("policyArn")},
    "aws:iam/instanceProfile:InstanceProfile": lambda i: {"role": i.get("role")},
    "aws:kms/alias:Alias": lambda i: {"name": i.get("name")},
    "aws:scheduler/schedule:Schedule": lambda i: {
        "schedule": i.get("scheduleExpression"),
        "timezone": i.get("scheduleExpressionTimezone"),
        "state": i.get("state"),
        "window": _get(i, "flexibleTimeWindow", "mode"),
        "target": _get(i, "target", "arn"),
    },
    "aws:ec2/launchTemplate:LaunchTemplate": lambda i: {
        "imdsTokens": _get(i, "metadataOptions", "httpTokens"),
        "imdsHopLimit": _get(i, "metadataOptions", "httpPutResponseHopLimit"),
        "rootVolume": _get(i, "blockDeviceMappings", 0, "ebs", "volumeType"),
        "rootEncrypted": _get(i, "blockDeviceMappings", 0, "ebs", "encrypted"),
    },
    "aws:batch/computeEnvironment:ComputeEnvironment": lambda i: {
        "namePrefix": i.get("namePrefix"),
        "market": _get(i, "computeResources", "type"),
        "instanceTypes": _get(i, "computeResources", "instanceTypes"),
        "allocation": _get(i, "computeResources", "allocationStrategy"),
        "minvCpus": _get(i, "computeResources", "minVcpus"),
        "maxvCpus": _get(i, "computeResources", "maxVcpus"),
        "ami": _get(i, "computeResources", "ec2Configurations", 0, "imageType"),
    },
    "aws:batch/jobQueue:JobQueue": lambda i: {
        "name": i.get("name"),
        "cancelRunnable": [f"{a.get('reason')} after {a.get('maxTimeSeconds')}s" for a in i.get("jobStateTimeLimitActions") or []],
    },
    "aws:batch/jobDefinition:JobDefinition": _job_definition,
    "aws:cloudwatch/logGroup:LogGroup": lambda i: {"name": i.get("name"), "retentionDays": i.get("retentionInDays")},
    "aws:iam/user:User": lambda i: {"name": i.get("name"), "path": i.get("path")},
    "aws:iam/userPolicy:UserPolicy": lambda i: {"user": i.get("user")},
    "pulumi:providers:kubernetes": lambda i: {"context": i.get("context") or "(current kubeconfig context)"},
    "kubernetes:core/v1:Namespace": lambda i: {
        "name": _get(i, "metadata", "name"),
        "podSecurity": _get(i, "metadata", "labels", "pod-security.kubernetes.io/enforce"),
    },
    "kubernetes:core/v1:Secret": lambda i: {"name": _get(i, "metadata", "name"), "type": i.get("type")},
    "kubernetes:core/v1:ServiceAccount": lambda i: {
        "name": _get(i, "metadata", "name"), "tokenMounted": i.get("automountServiceAccountToken"),
    },
    "kubernetes:apps/v1:Deployment": lambda i: {
        "name": _get(i, "metadata", "name"),
        "replicas": _get(i, "spec", "replicas") or "(HPA)",
        "maxUnavailable": _get(i, "spec", "strategy", "rollingUpdate", "maxUnavailable"),
        **_workload(i.get("spec")),
    },
    "kubernetes:core/v1:Service": lambda i: {
        "type": _get(i, "spec", "type"), "ports": [p.get("port") for p in _get(i, "spec", "ports") or []],
    },
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": lambda i: {
        "replicas": f"{_get(i, 'spec', 'minReplicas')}..{_get(i, 'spec', 'maxReplicas')}",
        "cpuTarget": _get(i, "spec", "metrics", 0, "resource", "target", "averageUtilization"),
        "scaleDownWindow": _get(i, "spec", "behavior", "scaleDown", "stabilizationWindowSeconds"),
    },
    "kubernetes:policy/v1:PodDisruptionBudget": lambda i: {"maxUnavailable": _get(i, "spec", "maxUnavailable")},
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": lambda i: {
        "name": _get(i, "metadata", "name"),
        "types": _get(i, "spec", "policyTypes"),
        "ports": [p.get("port") for key in ("ingress", "egress") for rule in _get(i, "spec", key) or [] for p in rule.get("ports") or []] or None,
    },
    "kubernetes:batch/v1:CronJob": lambda i: {
        "schedule": _get(i, "spec", "schedule"),
        "timeZone": _get(i, "spec", "timeZone"),
        "concurrency": _get(i, "spec", "concurrencyPolicy"),
        "backoffLimit": _get(i, "spec", "jobTemplate", "spec", "backoffLimit"),
        "deadlineSeconds": _get(i, "spec", "jobTemplate", "spec", "activeDeadlineSeconds"),
        **_workload(_get(i, "spec", "jobTemplate", "spec")),
    },
    "gcp:container/cluster:Cluster": lambda i: {
        "location": i.get("location"),
        "privateNodes": _get(i, "privateClusterConfig", "enablePrivateNodes"),
        "authorizedNetworks": [b.get("cidrBlock") for b in _get(i, "masterAuthorizedNetworksConfig", "cidrBlocks") or []],
        "channel": _get(i, "releaseChannel", "channel"),
        "datapath": i.get("datapathProvider"),
        "workloadPool": _get(i, "workloadIdentityConfig", "workloadPool"),
        "deletionProtection": i.get("deletionProtection"),
    },
    "gcp:container/nodePool:NodePool": lambda i: {
        "machine": _get(i, "nodeConfig", "machineType"),
        "gpu": _get(i, "nodeConfig", "guestAccelerators", 0, "type"),
        "nodes": f"{_get(i, 'autoscaling', 'totalMinNodeCount')}..{_get(i, 'autoscaling', 'totalMaxNodeCount')}",
        "spot": _get(i, "nodeConfig", "spot"),
        "taints": [f"{t.get('key')}={t.get('value')}:{t.get('effect')}" for t in _get(i, "nodeConfig", "taints") or []] or None,
    },
    "gcp:compute/routerNat:RouterNat": lambda i: {"ranges": i.get("sourceSubnetworkIpRangesToNat")},
    "gcp:artifactregistry/repository:Repository": lambda i: {
        "id": i.get("repositoryId"),
        "immutableTags": _get(i, "dockerConfig", "immutableTags"),
        "scanning": _get(i, "vulnerabilityScanningConfig", "enablementConfig"),
        "cleanup": [p.get("id") for p in i.get("cleanupPolicies") or []],
    },
    "gcp:projects/iAMMember:IAMMember": lambda i: {"role": i.get("role")},
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": lambda i: {"role": i.get("role")},
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda i: {"url": i.get("url"), "audiences": i.get("clientIdLists")},
}


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def details(resource: Registration) -> list[str]:
    """The resource's multi-line facts: policy statements, rules, training settings."""
    inputs = redact(resource.inputs)
    renderer = DETAILS.get(resource.type) or (None if resource.type in SETTINGS else _generic_details)
    return renderer(inputs) if renderer else []


def _describe(resource: Registration) -> str:
    inputs = redact(resource.inputs)
    settings = SETTINGS[resource.type](inputs) if resource.type in SETTINGS else _generic_settings(inputs)
    shown = {k: v for k, v in settings.items() if v is not None}
    flags = [flag for flag, on in (("PROTECTED", resource.protect), ("retain-on-delete", resource.retain_on_delete)) if on]
    parts = [f"{resource.type}  {resource.name}"]
    if flags:
        parts.append(f"[{', '.join(flags)}]")
    if shown:
        parts.append(" ".join(f"{k}={_show(v)}" for k, v in shown.items()))
    return "  ".join(parts)


def render(stack: str, recording: Recording) -> str:
    children: dict[str, list[Registration]] = {}
    urns = {r.urn for r in recording.resources}
    roots: list[Registration] = []
    for resource in recording.resources:
        if resource.parent in urns:
            children.setdefault(resource.parent, []).append(resource)
        else:
            roots.append(resource)

    lines = [f"Stack mlops/{stack}: the program run offline under the mock engine", ""]

    def walk(nodes: list[Registration], prefix: str) -> None:
        ordered = sorted(nodes, key=lambda r: (r.custom, r.type, r.name))
        for index, node in enumerate(ordered):
            last = index == len(ordered) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_describe(node)}")
            below = prefix + ("   " if last else "│  ")
            kids = children.get(node.urn, [])
            lines.extend(f"{below}{'│' if kids else ' '}    {line}" for line in details(node) if node.custom)
            walk(kids, below)

    walk(roots, "")
    lines += ["", "Outputs:"]
    for key, value in sorted(recording.outputs.items()):
        lines.append(f"  {key}: {'[secret]' if key in recording.secret_outputs else _show(redact(value))}")
    counts = Counter(r.type for r in recording.resources if r.custom)
    lines += ["", f"{sum(counts.values())} resources to create:"]
    lines += [f"  {count:3d}  {type_}" for type_, count in sorted(counts.items())]
    return "\n".join(lines)


def placeholders(config: dict[str, str]) -> list[str]:
    """One line per sample value still in a stack's config, named as the stack file writes it."""
    found: list[str] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(inner, f"{key}.{name}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{key}[{index}]")
        elif (reason := placeholder(value)) is not None:
            found.append(f"  {key}: {value}  ({reason})")

    for key, text in sorted(config.items()):
        try:
            value = json.loads(text) if text[:1] in "[{" else text
        except json.JSONDecodeError:
            value = text
        walk(value, key)
    return found


def render_placeholders(config: dict[str, str]) -> str:
    lines = placeholders(config)
    if not lines:
        return ""
    return "\n".join(["", "", "Still to replace before a real deploy:", *lines])


def resource_json(resource: Registration) -> dict[str, Any]:
    """One registration as `--json` and report.json show it: options, and inputs with secrets redacted."""
    return {
        "type": resource.type,
        "name": resource.name,
        "urn": resource.urn,
        "custom": resource.custom,
        "parent": resource.parent,
        "provider": resource.provider,
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "aliases": list(resource.aliases),
        "inputs": redact(resource.inputs),
    }


def render_json(stack: str, recording: Recording) -> str:
    document = {
        "stack": stack,
        "resources": [resource_json(r) for r in sorted(recording.resources, key=lambda r: r.urn)],
        "outputs": redact(recording.outputs),
    }
    return json.dumps(document, indent=2, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev", help="stack name: stacks/Pulumi.<stack>.yaml (default: dev)")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the recording as JSON (secrets redacted)")
    form.add_argument("--graph", action="store_true", help="print a Mermaid diagram of the whole stack")
    args = parser.parse_args(argv)
    try:
        recording = run_stack(args.stack)
    except StackFileError as error:
        print(error, file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(render_json(args.stack, recording))
    elif args.graph:
        from offline.graph import mermaid

        print(mermaid(recording.resources, cap=WHOLE_STACK_CAP))
    else:
        print(render(args.stack, recording) + render_placeholders(stack_config(args.stack)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
