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


def _instance(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "instanceType": inputs.get("instanceType"),
        "ami": inputs.get("ami"),
        "market": _get(inputs, "instanceMarketOptions", "marketType") or "on-demand",
        "publicIp": inputs.get("associatePublicIpAddress"),
        "imdsTokens": _get(inputs, "metadataOptions", "httpTokens"),
        "imdsHopLimit": _get(inputs, "metadataOptions", "httpPutResponseHopLimit"),
        "rootVolume": _get(inputs, "rootBlockDevice", "volumeType"),
        "rootEncrypted": _get(inputs, "rootBlockDevice", "encrypted"),
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
    "aws:ec2/instance:Instance": _instance,
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda i: {"service": i.get("serviceName"), "type": i.get("vpcEndpointType")},
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
    "aws:ec2/securityGroup:SecurityGroup": lambda i: {"ingress": len(i.get("ingress") or []), "egress": [
        f"{e.get('protocol')}/{e.get('toPort')}" for e in i.get("egress") or []
    ]},
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
        lines.append(f"  {key}: {'[secret]' if key in recording.secret_outputs else _show(value)}")
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
