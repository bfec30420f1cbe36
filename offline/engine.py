"""Run the real Pulumi program offline, under the SDK's mock engine, and record it.

`make plan` and the tests both go through `run_stack()`: the stack file is loaded the way
the Pulumi CLI would pass it (scalars as strings, objects as JSON), `__main__.py` runs as
the CLI runs it, and every resource registration is recorded with its inputs *and* its
options (parent, provider, protect, retainOnDelete, deleteBeforeReplace), which the SDK's stock
mocks do not expose.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import json
import runpy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
STACKS_DIR = ROOT / "stacks"
PROJECT = "mlops"
ACCOUNT_ID = "123456789012"
MOCK_SECRET_ACCESS_KEY = "mock-secret-access-key"  # what every IAM access key's secret reads as
MOCK_GKE_ENDPOINT = "34.118.0.10"  # a GKE control plane's public endpoint address
# Its DNS-based endpoint: gke-<32 hex>-<project number>.<region>.gke.goog, as GKE reports it.
MOCK_GKE_DNS_ENDPOINT = "gke-0f1e2d3c4b5a69788796a5b4c3d2e1f0-123456789012.{region}.gke.goog"
# A base64 PEM, as GKE's masterAuth.clusterCaCertificate is (placeholder content).
MOCK_GKE_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm1vY2sKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
MOCK_GCP_ACCESS_TOKEN = "ya29.mock-access-token"
MOCK_GCP_PROJECT_NUMBER = "123456789012"  # the number Google Cloud gives a project (the GKE DNS endpoint's)
MOCK_RANDOM_PASSWORD = "mockRandomPassword0123456789"  # repeated to the asked length
MOCK_SQL_PRIVATE_IP = "10.40.0.3"
# An EKS API server's endpoint, https://<32 hex>.<suffix>.<region>.eks.amazonaws.com, as EKS reports it.
MOCK_EKS_ENDPOINT = "https://0F1E2D3C4B5A69788796A5B4C3D2E1F0.gr7.{region}.eks.amazonaws.com"
MOCK_EKS_CREATED_AT = "2026-12-01T00:00:00Z"


@dataclass(frozen=True)
class Registration:
    """One resource the program asked the engine to create."""

    type: str
    name: str
    urn: str
    id: str
    """The id the engine gave it (offline: `<name>-<hash>`, a bucket's name, an ARN, `lt-...`)."""
    inputs: dict[str, Any]
    state: dict[str, Any]
    """Inputs plus what the engine computed (arn, generated name, ...)."""
    parent: str
    provider: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    """True when a replacement deletes the old resource before creating the new one."""
    custom: bool
    dependencies: tuple[str, ...] = ()
    """URNs of the resources this one must wait for (`depends_on`)."""
    aliases: tuple[str, ...] = ()
    """URNs this resource was known by before (the `aliases` option, as full URNs)."""
    ignore_changes: tuple[str, ...] = ()
    """Input paths the engine never diffs after creation (the `ignore_changes` option)."""


@dataclass
class Recording:
    """Everything one program run registered, invoked and exported."""

    resources: list[Registration] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    invoke_providers: list[tuple[str, str]] = field(default_factory=list)
    """(token, provider reference) of each invoke, in the order of `invokes`; "" for a default provider."""
    outputs: dict[str, Any] = field(default_factory=dict)
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What each component registered as its own outputs (kept in its state), by URN; secrets stay
    wrapped (offline.values.reveal unwraps them). The engine imports nothing of offline/: make diff
    loads it by path into another checkout."""
    secret_outputs: set[str] = field(default_factory=set)
    """Names of the stack outputs that are secrets (shown as [secret] by the CLI)."""

    def of_type(self, type_: str) -> list[Registration]:
        """The resources of one type, by logical name: the engine registers them from a thread
        pool, so the order they arrive in can change from run to run."""
        return sorted((r for r in self.resources if r.type == type_), key=lambda r: (r.name, r.urn))

    def named(self, name: str) -> Registration:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one resource named {name!r}, found {len(matches)}")
        return matches[0]

    def outputs_of(self, type_: str, name: str) -> dict[str, Any]:
        """The outputs the component `name` of `type_` registered."""
        return self.component_outputs[self.get(type_, name).urn]

    def get(self, type_: str, name: str) -> Registration:
        matches = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_} named {name!r}, found {len(matches)}")
        return matches[0]

    def one(self, type_: str) -> Registration:
        matches = self.of_type(type_)
        if len(matches) != 1:
            raise LookupError(f"expected one {type_}, found {[r.name for r in matches]}")
        return matches[0]

    def children_of(self, parent: Registration) -> list[Registration]:
        return [r for r in self.resources if r.parent == parent.urn]


def _gke_endpoints(configured: dict[str, Any], region: str) -> dict[str, Any]:
    """A cluster's controlPlaneEndpointsConfig as GKE reports it: the inputs plus the DNS endpoint it always has."""
    dns = {**(configured.get("dnsEndpointConfig") or {}), "endpoint": MOCK_GKE_DNS_ENDPOINT.format(region=region)}
    return {**configured, "dnsEndpointConfig": dns, "ipEndpointsConfig": configured.get("ipEndpointsConfig") or {"enabled": True}}


def _fake_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


_MONITORING_COLLECTIONS = {
    "gcp:monitoring/notificationChannel:NotificationChannel": "notificationChannels",
    "gcp:monitoring/alertPolicy:AlertPolicy": "alertPolicies",
    "gcp:monitoring/dashboard:Dashboard": "dashboards",
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers provider calls with plausible values, shaped like the real providers' outputs."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.recording = Recording()
        self._provider_regions: dict[str, str] = {}
        self._gcp_providers: dict[str, dict[str, str]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        resource_id = f"{args.name}-{_fake_id(args.typ, args.name)}"
        state: dict[str, Any] = {**inputs}
        if args.typ == "pulumi:providers:aws":
            self._provider_regions[args.name] = inputs.get("region", self.region)
        if args.typ == "pulumi:providers:gcp":
            self._gcp_providers[args.name] = {"project": inputs.get("project", ""), "region": inputs.get("region", "")}
        # A provider reference is "<urn>::<id>"; the URN ends with the provider's name.
        provider_name = args.provider.split("::")[-2] if args.provider else ""
        if args.typ.startswith("gcp:"):
            resource_id, gcp_state = self._gcp_resource(args, inputs, self._gcp_providers.get(provider_name, {}))
            return resource_id or f"{args.name}-{_fake_id(args.typ, args.name)}", {**state, **gcp_state}
        region = inputs.get("region") or self._provider_regions.get(provider_name, self.region)
        if args.typ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix', args.name)}{_fake_id(args.name)}"
            resource_id = bucket
            state.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}", region=region)
        elif args.typ == "aws:ecr/repository:Repository":
            host = f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com"
            state.update(
                repositoryUrl=f"{host}/{inputs['name']}",
                registryId=ACCOUNT_ID,
                arn=f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{inputs['name']}",
            )
        elif args.typ == "docker-build:index:Image":
            digest = "sha256:" + hashlib.sha256(json.dumps(inputs.get("tags", [])).encode()).hexdigest()
            state.update(digest=digest, ref=f"{inputs['tags'][0].rsplit(':', 1)[0]}@{digest}")
        elif args.typ == "aws:kms/key:Key":
            digits = _fake_id(args.typ, args.name, "key") + _fake_id(args.name, "key")
            key_id = f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"
            resource_id = key_id
            state.update(keyId=key_id, arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}")
        elif args.typ in ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"):
            state.setdefault("name", f"{args.name}-{_fake_id(args.name)[:7]}")
            if args.typ == "aws:iam/role:Role":
                resource_id = state["name"]
                state["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:role{inputs.get('path', '/')}{state['name']}"
        elif args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            # IAM names the provider by its URL without the scheme.
            host_path = str(inputs["url"]).removeprefix("https://")
            state.update(arn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host_path}")
            resource_id = state["arn"]
        elif args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            resource_id = f"lt-{_fake_id(args.name)}"
            state.update(latestVersion=1, defaultVersion=1)
        elif args.typ == "aws:batch/computeEnvironment:ComputeEnvironment":
            # name_prefix + a unique suffix, as the provider generates it.
            name = inputs.get("name") or f"{inputs.get('namePrefix', args.name)}{_fake_id(args.name)[:12]}"
            resource_id = name
            state.update(
                name=name,
                arn=f"arn:aws:batch:{region}:{ACCOUNT_ID}:compute-environment/{name}",
                ecsClusterArn=f"arn:aws:ecs:{region}:{ACCOUNT_ID}:cluster/AWSBatch-{name}",
                status="VALID",
            )
        elif args.typ == "aws:batch/jobQueue:JobQueue":
            resource_id = f"arn:aws:batch:{region}:{ACCOUNT_ID}:job-queue/{inputs['name']}"
            state.update(arn=resource_id)
        elif args.typ == "aws:batch/jobDefinition:JobDefinition":
            prefix = f"arn:aws:batch:{region}:{ACCOUNT_ID}:job-definition/{inputs['name']}"
            resource_id = f"{prefix}:1"
            state.update(arn=resource_id, arnPrefix=prefix, revision=1)
        elif args.typ == "aws:cloudwatch/logGroup:LogGroup":
            resource_id = inputs["name"]
            state.update(arn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{inputs['name']}")
        elif args.typ == "aws:rds/parameterGroup:ParameterGroup":
            # name_prefix + 26 characters, as the provider's PrefixedUniqueId makes them.
            name = inputs.get("name") or f"{inputs.get('namePrefix', args.name)}{(_fake_id(args.name) * 2)[:26]}"
            resource_id = name
            state.update(name=name, arn=f"arn:aws:rds:{region}:{ACCOUNT_ID}:pg:{name}")
        elif args.typ == "aws:rds/instance:Instance":
            # <identifier>.<12 characters of the account's and region's>.<region>.rds.amazonaws.com
            address = f"{inputs['identifier']}.c{_fake_id(region)[:11]}.{region}.rds.amazonaws.com"
            resource_id = f"db-{_fake_id(args.name).upper()[:26]}"
            port = int(inputs.get("port") or 5432)
            state.update(address=address, endpoint=f"{address}:{port}", port=port,
                         arn=f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{inputs['identifier']}")
        elif args.typ == "aws:sns/topic:Topic":
            resource_id = f"arn:aws:sns:{region}:{ACCOUNT_ID}:{inputs['name']}"
            state.update(arn=resource_id)
        elif args.typ == "aws:sns/topicSubscription:TopicSubscription":
            # A subscription's ARN is its topic's and an id; pending ones get one too (ReturnSubscriptionArn).
            digits = _fake_id(args.typ, args.name) + _fake_id(args.name, "subscription")
            resource_id = f"{inputs['topic']}:{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"
            state.update(arn=resource_id, pendingConfirmation=True)
        elif args.typ == "aws:sqs/queue:Queue":
            resource_id = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{inputs['name']}"
            state.update(url=resource_id, arn=f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{inputs['name']}")
        elif args.typ == "aws:cloudwatch/eventRule:EventRule":
            resource_id = inputs["name"]
            state.update(arn=f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{inputs['name']}")
        elif args.typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            resource_id = inputs["name"]
            state.update(arn=f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{inputs['name']}")
        elif args.typ == "aws:eks/cluster:Cluster":
            name = inputs.get("name") or f"{args.name}-{_fake_id(args.name)[:7]}"
            resource_id = name
            state.update(
                name=name,
                arn=f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{name}",
                endpoint=MOCK_EKS_ENDPOINT.format(region=region),
                # A base64 PEM, as EKS's certificateAuthority.data is (placeholder content).
                certificateAuthority={"data": MOCK_GKE_CA},
                createdAt=MOCK_EKS_CREATED_AT,
                status="ACTIVE",
                # The security group EKS makes for the control plane and the Auto Mode nodes.
                vpcConfig={**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{_fake_id(args.name, 'cluster')}"},
            )
        elif args.typ == "aws:iam/accessKey:AccessKey":
            # The id is the access key id; the secret is known only once, at creation.
            resource_id = f"AKIA{_fake_id(args.name)[:16].upper()}"
            state.update(secret=MOCK_SECRET_ACCESS_KEY, status="Active")
        elif args.typ == "random:index/randomPassword:RandomPassword":
            # Letters and digits of the asked length, as `special: false` makes them.
            state.update(result=(MOCK_RANDOM_PASSWORD * 8)[: int(inputs["length"])], bcryptHash="")
        elif args.typ == "random:index/randomBytes:RandomBytes":
            # Bytes of the asked length, the same on every run; the provider's id is the constant `none`.
            raw = (hashlib.sha256(args.name.encode()).digest() * 8)[: int(inputs["length"])]
            resource_id = "none"
            state.update(base64=base64.b64encode(raw).decode(), hex=raw.hex())
        elif args.typ == "random:index/randomId:RandomId":
            # `byte_length` bytes as lower-case hex, after the prefix, as `hex` reports them.
            digits, prefix = _fake_id(args.typ, args.name)[: 2 * int(inputs["byteLength"])], inputs.get("prefix", "")
            state.update(hex=f"{prefix}{digits}", dec=f"{prefix}{int(digits, 16)}")
        if args.typ.startswith("aws:") and "arn" not in state:
            service = args.typ.split(":")[1].split("/")[0]
            state["arn"] = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{args.name}/{resource_id}"
        return resource_id, state

    def _gcp_resource(
        self, args: pulumi.runtime.MockResourceArgs, inputs: dict[str, Any], provider: dict[str, str]
    ) -> tuple[str | None, dict[str, Any]]:
        """Ids and computed attributes of Google Cloud resources, shaped as the provider reports them."""
        project = inputs.get("project") or provider.get("project", "")
        region = inputs.get("region") or provider.get("region", "")
        location = inputs.get("location") or region
        name = inputs.get("name") or f"{args.name}-{_fake_id(args.name)[:7]}"
        compute = f"https://www.googleapis.com/compute/v1/projects/{project}"
        state: dict[str, Any] = {"project": project}
        resource_id: str | None = None
        if args.typ == "gcp:compute/network:Network":
            resource_id = f"projects/{project}/global/networks/{name}"
            state.update(name=name, selfLink=f"{compute}/global/networks/{name}")
        elif args.typ in ("gcp:compute/subnetwork:Subnetwork", "gcp:compute/router:Router"):
            kind = "subnetworks" if args.typ.endswith("Subnetwork") else "routers"
            resource_id = f"projects/{project}/regions/{region}/{kind}/{name}"
            state.update(name=name, region=region, selfLink=f"{compute}/regions/{region}/{kind}/{name}")
        elif args.typ == "gcp:compute/routerNat:RouterNat":
            resource_id = f"{project}/{region}/{inputs.get('router')}/{name}"
            state.update(name=name, region=region)
        elif args.typ == "gcp:serviceaccount/account:Account":
            email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
            resource_id = f"projects/{project}/serviceAccounts/{email}"
            state.update(email=email, member=f"serviceAccount:{email}", name=resource_id, uniqueId="1" + _fake_id(email)[:20])
        elif args.typ == "gcp:container/cluster:Cluster":
            resource_id = f"projects/{project}/locations/{location}/clusters/{name}"
            state.update(
                name=name,
                location=location,
                endpoint=MOCK_GKE_ENDPOINT,
                controlPlaneEndpointsConfig=_gke_endpoints(inputs.get("controlPlaneEndpointsConfig") or {}, region),
                masterAuth={"clusterCaCertificate": MOCK_GKE_CA, "clientCertificateConfig": {"issueClientCertificate": False}},
                selfLink=f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}",
                labelFingerprint=_fake_id(name)[:8],
            )
        elif args.typ == "gcp:container/nodePool:NodePool":
            cluster = str(inputs.get("cluster", ""))
            resource_id = f"{cluster}/nodePools/{name}"
            state.update(name=name, instanceGroupUrls=[], managedInstanceGroupUrls=[])
        elif args.typ == "gcp:artifactregistry/repository:Repository":
            # The provider's id is the full path; its `name` only the repository id.
            resource_id = f"projects/{project}/locations/{location}/repositories/{inputs['repositoryId']}"
            state.update(name=inputs["repositoryId"], location=location, createTime="2026-01-01T00:00:00Z")
        elif args.typ == "gcp:projects/service:Service":
            resource_id = f"{project}/{inputs['service']}"
        elif args.typ == "gcp:compute/globalAddress:GlobalAddress":
            resource_id = f"projects/{project}/global/addresses/{name}"
            state.update(name=name, selfLink=f"{compute}/global/addresses/{name}")
        elif args.typ == "gcp:servicenetworking/connection:Connection":
            # The provider's id is "<network>:<service>"; the peering it makes is named by Google.
            resource_id = f"{inputs['network']}:{inputs['service']}"
            state.update(peering="servicenetworking-googleapis-com")
        elif args.typ == "gcp:sql/databaseInstance:DatabaseInstance":
            # A private-IP instance's first address comes from the peering range (its first /24).
            resource_id = f"projects/{project}/instances/{name}"
            state.update(
                name=name,
                connectionName=f"{project}:{region}:{name}",
                privateIpAddress=MOCK_SQL_PRIVATE_IP,
                selfLink=f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{name}",
            )
        elif args.typ == "gcp:sql/database:Database":
            resource_id = f"projects/{project}/instances/{inputs['instance']}/databases/{name}"
            state.update(name=name)
        elif args.typ == "gcp:sql/user:User":
            # <name>/<host>/<instance>, the host empty for Postgres.
            resource_id = f"{name}//{inputs['instance']}"
            state.update(name=name)
        elif args.typ in _MONITORING_COLLECTIONS:
            # Cloud Monitoring names its objects projects/<p>/<collection>/<number>; the id is the name.
            number = str(int(_fake_id(args.typ, args.name), 16))
            resource_id = f"projects/{project}/{_MONITORING_COLLECTIONS[args.typ]}/{number}"
            state.update(name=resource_id)
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.recording.invokes.append((args.token, dict(args.args)))
        self.recording.invoke_providers.append((args.token, args.provider or ""))
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{suffix}" for suffix in "abc"]
            return {"names": names, "zoneIds": names, "id": self.region}, []
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "mock-registry-token",
                    "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com",
                    "authorizationToken": "", "expiresAt": "", "id": self.region}, []
        if args.token == "aws:index/getRegion:getRegion":
            region = args.args.get("region") or self.region
            return {"region": region, "name": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com",
                    "description": region}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline",
                    "userId": "AIDAOFFLINE", "id": ACCOUNT_ID}, []
        if args.token == "aws:iam/getSessionContext:getSessionContext":
            # An assumed-role session's issuer is its role; any other ARN is its own issuer.
            arn = str(args.args["arn"])
            account, _, rest = arn.removeprefix("arn:aws:sts::").partition(":assumed-role/")
            issuer = f"arn:aws:iam::{account}:role/{rest.split('/')[0]}" if rest else arn
            return {"arn": arn, "issuerArn": issuer, "issuerId": "AROAOFFLINE", "issuerName": issuer.rsplit("/", 1)[-1],
                    "sessionName": rest.split("/")[-1] if rest else "", "id": arn}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "gcp:organizations/getClientConfig:getClientConfig":
            provider = next(iter(self._gcp_providers.values()), {"project": "", "region": ""})
            return {"accessToken": MOCK_GCP_ACCESS_TOKEN, "id": provider["project"], "project": provider["project"],
                    "region": provider["region"], "zone": "", "defaultLabels": {}}, []
        if args.token == "gcp:organizations/getProject:getProject":
            project = args.args.get("projectId", "")
            return {"projectId": project, "number": MOCK_GCP_PROJECT_NUMBER, "name": project, "id": f"projects/{project}",
                    "labels": {}, "effectiveLabels": {}}, []
        raise NotImplementedError(f"the offline engine has no answer for the call {args.token}")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping each registration's resource options."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks.recording
        self._aliases: dict[str, tuple[str, ...]] = {}
        """URN -> every URN it was known by before, inherited ones included (its children inherit them)."""

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if "::pulumi:pulumi:Stack::" not in request.urn:  # the stack's own are `outputs`
            self.recording.component_outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            state = self.resources[response.urn].state
            inputs = {k: v for k, v in state.items() if k in _input_keys(request)}
            self.recording.resources.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    id=response.id,
                    inputs=inputs,
                    state=dict(state),
                    parent=request.parent,
                    provider=request.provider,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    custom=bool(request.custom),
                    # The SDK gathers them in a set: sorted, two runs of the same program record the same tuple.
                    dependencies=tuple(sorted(request.dependencies)),
                    aliases=self._aliases_of(request, response.urn),
                    ignore_changes=tuple(request.ignoreChanges),
                )
            )
        return response


    def _aliases_of(self, request: Any, urn: str) -> tuple[str, ...]:
        """The resource's own aliases and those it inherits from its parent's, as the engine computes them."""
        aliases = (set(self._alias_urns(request)) | set(self._inherited_aliases(request))) - {urn}
        self._aliases[urn] = tuple(sorted(aliases))
        return self._aliases[urn]

    def _inherited_aliases(self, request: Any) -> list[str]:
        """For each URN the parent had before, the URN this child had under it. As pulumi/pulumi's
        pkg/resource/deploy/step_generator.go (inheritedChildAlias): a child named `<parent>-x` was
        `<old parent name>-x`, so a renamed component keeps its children."""
        parent_name = request.parent.rsplit("::", 1)[-1] if request.parent else ""
        inherited = []
        for parent_alias in self._aliases.get(request.parent, ()):
            old_name = parent_alias.rsplit("::", 1)[-1]
            name = old_name + request.name.removeprefix(parent_name) if request.name.startswith(parent_name) else request.name
            inherited.append(self.make_urn(parent_alias, request.type, name))
        return inherited

    def _alias_urns(self, request: Any) -> tuple[str, ...]:
        """Every alias as a URN: given as one, or built from a spec (name, type, parent) as this engine builds URNs."""
        urns = [str(urn) for urn in getattr(request, "aliasURNs", [])]
        for alias in getattr(request, "aliases", []):
            kind = alias.WhichOneof("alias")
            if kind == "urn":
                urns.append(alias.urn)
            elif kind == "spec":
                spec = alias.spec
                which = spec.WhichOneof("parent")
                # "No parent" means the stack itself, which this engine's URNs name as a parent.
                root = self.make_urn("", "pulumi:pulumi:Stack", f"{pulumi.get_project()}-{pulumi.get_stack()}")
                # An empty parentUrn (the SDK's Alias(name=...)) means the resource's own parent, as the engine reads it.
                parent = root if which == "noParent" else (spec.parentUrn if which == "parentUrn" else "") or request.parent
                urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
        return tuple(sorted(set(urns)))


def _input_keys(request: Any) -> set[str]:
    return set(request.object.fields.keys())


class StackFileError(Exception):
    """A stack file that is not valid YAML, as one `file:line:column: problem` line."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML as the Pulumi CLI reads it: a key given twice in one mapping is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def stack_names(stacks_dir: Path | None = None) -> list[str]:
    """The stacks that have a file in `stacks_dir` (default: this checkout's stacks/)."""
    directory = stacks_dir or STACKS_DIR
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in directory.glob("Pulumi.*.yaml"))


def stack_config(stack: str, stacks_dir: Path | None = None) -> dict[str, str]:
    """A stack file's config as the CLI hands it to the program: strings, objects as JSON."""
    directory = stacks_dir or STACKS_DIR
    path = directory / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = stack_names(directory)
        raise SystemExit(f"no stack file {_shown(path)}; stacks: {', '.join(known)}")
    try:
        document = yaml.load(path.read_text(), Loader=_UniqueKeyLoader) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{_shown(path)}:{mark.line + 1}:{mark.column + 1}" if mark else _shown(path)
        raise StackFileError(f"{where}: {_yaml_problem(error, path.read_text())}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackFileError(f"{_shown(path)}: needs a `config:` mapping of settings")
    return {key: _as_config_string(value) for key, value in config.items()}


def _yaml_problem(error: yaml.MarkedYAMLError, text: str) -> str:
    """PyYAML's problem in plain words where it is a usual mistake; else its own text."""
    problem, mark, start = error.problem or "", error.problem_mark, error.context_mark
    if "'\\t'" in problem:  # PyYAML shows the tab escaped
        return "a tab character: YAML indents with spaces only"
    if problem.startswith("expected <block end>") and mark is not None and start is not None:
        line = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        # At the line's first word, and not where the mapping's keys are: an indent.
        if len(line) - len(line.lstrip(" ")) == mark.column != start.column:
            return (
                f"bad indentation: this line starts at column {mark.column + 1}, but the mapping it "
                f"continues (from line {start.line + 1}) has its keys at column {start.column + 1}; "
                "indent the keys of one mapping equally"
            )
    if problem == "could not find expected ':'":
        return "a key without ':' (write `key: value`), or a line indented as if it continued the one above"
    context = f" ({error.context})" if error.context else ""
    return f"{problem}{context}"


def _shown(path: Path) -> str:
    """The path as a user would type it: relative to the project when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def stack_config_with(stack: str, changes: dict[str, Any]) -> dict[str, str]:
    """A stack file's config with some settings changed.

    `{"mlops:projects": {"iris": {"serve": {"minReplicas": 1}}}}` changes one field of an
    object key, at any depth, and keeps the others; a value of None removes that field or key.
    """
    config = stack_config(stack)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        elif isinstance(value, dict):
            config[key] = json.dumps(_merged(json.loads(config.get(key, "{}")), value))
        else:
            config[key] = str(value)
    return config


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` merged in, objects field by field; None removes a field."""
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def run_program(
    stack: str,
    config: dict[str, str],
    recording: Recording | None = None,
    *,
    program: Path | None = None,
    preview: bool = False,
) -> Recording:
    """Run `__main__.py` (or `program`) under the mock engine with `config`; return what it registered.

    Exceptions the program raises (a `ConfigError`, say) propagate to the caller; pass
    your own `recording` to see what was registered before the failure. `program` lets
    `make diff` run another checkout's program with this engine (see offline/snapshot.py);
    that checkout's root must come first on sys.path so its `components` are imported.
    `preview` runs it as `pulumi preview` does (`pulumi.runtime.is_dry_run()` is true).
    """
    # A fresh root Stack per run, so one run's outputs and URNs never leak into the next.
    pulumi.runtime.settings.ROOT.set(None)
    mocks = RecordingMocks(region=config.get("aws:region", "us-east-1"))
    if recording is not None:
        mocks.recording = recording
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(config)
    recording = mocks.recording

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        runpy.run_path(str(program or PROGRAM), run_name="__main__")
        stack_resource = pulumi.runtime.get_root_resource()
        exported: dict[str, Any] = getattr(stack_resource, "outputs", {})

        async def secrets() -> None:
            for key, value in exported.items():
                if isinstance(value, pulumi.Output) and await value.is_secret():
                    recording.secret_outputs.add(key)

        return pulumi.Output.all(
            pulumi.Output.from_input(exported).apply(recording.outputs.update),
            pulumi.Output.from_input(asyncio.ensure_future(secrets())),
        )

    with _no_cyclic_gc():
        run()
    return recording


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for one program run.

    A run keeps what it builds alive (the recording holds every resource), so a collection
    in the middle finds next to nothing, but each one walks a heap that grows with the
    resources: with it on, the plan's CPU time per resource grew with the number of projects
    (2.3 ms at 1 project, 5.7 ms at 50: bench/plan_scale.py); paused, it stays about flat
    (3.0 ms at 50). The run's few cycles are collected as usual once it is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_stack(stack: str, *, root: Path | None = None) -> Recording:
    """Run the program with a stack file's config; `root` is another checkout (default: this one)."""
    if root is None:
        return run_program(stack, stack_config(stack))
    return run_program(stack, stack_config(stack, root / "stacks"), program=root / "__main__.py")
