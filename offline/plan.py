"""`make plan`: show what a stack would create, offline, without the Pulumi CLI or a cloud.

The real program runs under the mock engine with the stack file's config. The output is
the resource tree (type, name, under its parent), the settings a reviewer checks on each
resource, the stack outputs, and a count by type. Values only known after deployment
(ids, digests, AMI) are shown as the offline engine's placeholders.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from components.config import ConfigError
from offline.engine import Recording, Registration, StackFileError, run_stack

Settings = Callable[[dict[str, Any]], dict[str, Any]]


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


def _policy_statements(inputs: dict[str, Any]) -> dict[str, Any]:
    policy = json.loads(inputs.get("policy", "{}"))
    return {"statements": [s.get("Sid", s.get("Effect")) for s in policy.get("Statement", [])]}


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
    "aws:s3/bucketPolicy:BucketPolicy": _policy_statements,
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
    "aws:ec2/securityGroup:SecurityGroup": lambda i: {"ingress": len(i.get("ingress") or []), "egress": [
        f"{e.get('protocol')}/{e.get('toPort')}" for e in i.get("egress") or []
    ]},
    "aws:ec2/subnet:Subnet": lambda i: {"zone": i.get("availabilityZone"), "publicIp": i.get("mapPublicIpOnLaunch")},
    "aws:ec2/natGateway:NatGateway": lambda i: {"connectivity": i.get("connectivityType") or "public"},
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
    "aws:scheduler/schedule:Schedule": lambda i: {
        "expression": i.get("scheduleExpression"),
        "timezone": i.get("scheduleExpressionTimezone"),
        "target": _get(i, "target", "arn"),
    },
    "aws:iam/user:User": lambda i: {"name": i.get("name"), "path": i.get("path")},
    "aws:iam/userPolicy:UserPolicy": _policy_statements,
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
}


def _plain(value: Any) -> Any:
    """The engine hands numbers over as floats; show 30 rather than 30.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _describe(resource: Registration) -> str:
    settings = SETTINGS.get(resource.type, lambda _: {})(_plain(resource.inputs))
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
            walk(children.get(node.urn, []), prefix + ("   " if last else "│  "))

    walk(roots, "")
    lines += ["", "Outputs:"]
    for key, value in recording.outputs.items():
        lines.append(f"  {key}: {_show(value)}")
    counts = Counter(r.type for r in recording.resources if r.custom)
    lines += ["", f"{sum(counts.values())} resources to create:"]
    lines += [f"  {count:3d}  {type_}" for type_, count in sorted(counts.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="dev", help="stack name: stacks/Pulumi.<stack>.yaml (default: dev)")
    args = parser.parse_args(argv)
    try:
        recording = run_stack(args.stack)
    except StackFileError as error:
        print(error, file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render(args.stack, recording))
    return 0


if __name__ == "__main__":
    sys.exit(main())
