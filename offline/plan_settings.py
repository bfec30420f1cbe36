"""What a reviewer checks on each resource, by type, as one line of key=value settings.

Buckets' encryption and lifecycle, IAM and KMS names, CIDRs and zones, the training
schedule and settings, pod security. A type without its own entry shows its scalar inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from offline.values import json_document

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


def _aws_budget(inputs: dict[str, Any]) -> dict[str, Any]:
    """The limit, whose spend it counts (the cost filter) and when it alerts whom."""
    return {
        "name": inputs.get("name"),
        "limit": f"{inputs.get('limitAmount')} {inputs.get('limitUnit')} {str(inputs.get('timeUnit')).lower()}",
        "counts": [f"{f.get('name')} {', '.join(f.get('values') or [])}" for f in inputs.get("costFilters") or []],
        "alerts": [
            f"{n.get('notificationType')} > {float(n.get('threshold') or 0):g}% to {', '.join(n.get('subscriberSnsTopicArns') or [])}"
            for n in inputs.get("notifications") or []
        ],
    }


def _gcp_budget(inputs: dict[str, Any]) -> dict[str, Any]:
    amount = _get(inputs, "amount", "specifiedAmount") or {}
    cents = round(int(amount.get("nanos") or 0) / 10_000_000)
    return {
        "billingAccount": inputs.get("billingAccount"),
        "amount": f"{amount.get('units')}.{cents:02d} {amount.get('currencyCode')} {str(_get(inputs, 'budgetFilter', 'calendarPeriod')).lower()}",
        "projects": _get(inputs, "budgetFilter", "projects"),
        "alerts": [f"{r.get('spendBasis')} > {r.get('thresholdPercent', 0) * 100:g}%" for r in inputs.get("thresholdRules") or []],
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
        "deadLetters": _get(i, "target", "deadLetterConfig", "arn"),
    },
    "aws:cloudwatch/eventTarget:EventTarget": lambda i: {
        "rule": i.get("rule"),
        "to": i.get("arn"),
        "message": _get(i, "inputTransformer", "inputTemplate"),
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
        "type": _get(i, "spec", "type"),
        "class": _get(i, "spec", "loadBalancerClass"),
        "scheme": _get(i, "metadata", "annotations", "service.beta.kubernetes.io/aws-load-balancer-scheme"),
        "ports": [p.get("port") for p in _get(i, "spec", "ports") or []],
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
        # Suspended: its job template is what an Airflow run copies into a Job; it starts nothing itself.
        "suspended": _get(i, "spec", "suspend"),
        "backoffLimit": _get(i, "spec", "jobTemplate", "spec", "backoffLimit"),
        "deadlineSeconds": _get(i, "spec", "jobTemplate", "spec", "activeDeadlineSeconds"),
        **_workload(_get(i, "spec", "jobTemplate", "spec")),
    },
    "kubernetes:core/v1:ConfigMap": lambda i: {
        "name": _get(i, "metadata", "name"),
        "keys": sorted(i.get("data") or {}) or None,
        "grafanaDashboard": _get(i, "metadata", "labels", "grafana_dashboard"),
    },
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor": lambda i: {
        "name": _get(i, "metadata", "name"),
        "selects": _get(i, "spec", "selector", "matchLabels", "mlops/project"),
        "endpoints": [f"{e.get('port')}{e.get('path')} every {e.get('interval')}" for e in _get(i, "spec", "endpoints") or []],
    },
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": lambda i: {
        "name": _get(i, "metadata", "name"),
        "alerts": [r.get("alert") for g in _get(i, "spec", "groups") or [] for r in g.get("rules") or []],
    },
    "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig": lambda i: {
        "name": _get(i, "metadata", "name"),
        "groupBy": _get(i, "spec", "route", "groupBy"),
        "sns": [c.get("topicARN") for r in _get(i, "spec", "receivers") or [] for c in r.get("snsConfigs") or []] or None,
        "sendResolved": _get(i, "spec", "receivers", 0, "snsConfigs", 0, "sendResolved"),
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
    "aws:eks/cluster:Cluster": lambda i: {
        "name": i.get("name"),
        "version": i.get("version"),
        "privateEndpoint": _get(i, "vpcConfig", "endpointPrivateAccess"),
        "publicEndpoint": _get(i, "vpcConfig", "endpointPublicAccess"),
        "publicAccessCidrs": _get(i, "vpcConfig", "publicAccessCidrs"),
        "authenticationMode": _get(i, "accessConfig", "authenticationMode"),
        "autoMode": _get(i, "computeConfig", "enabled"),
        "nodePools": _get(i, "computeConfig", "nodePools"),
        "encrypted": _get(i, "encryptionConfig", "resources"),
        "logs": i.get("enabledClusterLogTypes"),
        "support": _get(i, "upgradePolicy", "supportType"),
        "deletionProtection": i.get("deletionProtection"),
    },
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": lambda i: {
        "principal": i.get("principalArn"),
        "policy": str(i.get("policyArn", "")).rsplit("/", 1)[-1],
        "scope": _get(i, "accessScope", "type"),
    },
    "kubernetes:karpenter.sh/v1:NodePool": lambda i: {
        "name": _get(i, "metadata", "name"),
        "requirements": [f"{r.get('key')} {r.get('operator')} {r.get('values')}" for r in _get(i, "spec", "template", "spec", "requirements") or []],
        "taints": [f"{t.get('key')}={t.get('value')}:{t.get('effect')}" for t in _get(i, "spec", "template", "spec", "taints") or []] or None,
        "consolidation": f"{_get(i, 'spec', 'disruption', 'consolidationPolicy')} after {_get(i, 'spec', 'disruption', 'consolidateAfter')}",
        "limits": _get(i, "spec", "limits"),
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
    "kubernetes:monitoring.googleapis.com/v1:PodMonitoring": lambda i: {
        "name": _get(i, "metadata", "name"),
        "project": _get(i, "spec", "selector", "matchLabels", "mlops/project"),
        "scrapes": [f"{e.get('port')}{e.get('path')} every {e.get('interval')}" for e in _get(i, "spec", "endpoints") or []],
    },
    "gcp:monitoring/alertPolicy:AlertPolicy": lambda i: {
        "name": i.get("displayName"),
        "severity": i.get("severity"),
        "for": _get(i, "conditions", 0, "conditionPrometheusQueryLanguage", "duration"),
        "notifies": len(i.get("notificationChannels") or []),
    },
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda i: {"url": i.get("url"), "audiences": i.get("clientIdLists")},
    "aws:budgets/budget:Budget": _aws_budget,
    "gcp:billing/budget:Budget": _gcp_budget,
}


def _generic_settings(inputs: dict[str, Any]) -> dict[str, Any]:
    """For a type without its own renderer: its scalar inputs (a schedule, a timeout, a name)."""
    return {
        key: value
        for key, value in sorted(inputs.items())
        if isinstance(value, (str, int, float, bool)) and json_document(value) is None and key != "tags"
    }


def settings(type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The settings a reviewer checks on a resource of `type_`, from its inputs."""
    return SETTINGS[type_](inputs) if type_ in SETTINGS else _generic_settings(inputs)
