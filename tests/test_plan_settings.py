"""offline/plan_settings.py: every setting a reviewer checks is read from the right input, per type."""

from __future__ import annotations

import pytest

from offline.engine import Recording, run_program, stack_config_with
from offline.plan_text import render
from tests.registrations import reg


def test_the_deployment_line_shows_its_rollout_probes_and_security() -> None:
    container = {"image": "img@sha256:1", "ports": [{"containerPort": 8080}],
                 "startupProbe": {"httpGet": {"path": "/s"}}, "readinessProbe": {"httpGet": {"path": "/r"}},
                 "livenessProbe": {"httpGet": {"path": "/l"}}, "resources": {"limits": {"cpu": "1"}},
                 "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                     "capabilities": {"drop": ["ALL"]}}}
    deployment = reg("kubernetes:apps/v1:Deployment", "d", metadata={"name": "m"}, spec={
        "strategy": {"rollingUpdate": {"maxUnavailable": 0}},
        "template": {"spec": {"containers": [container], "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                              "automountServiceAccountToken": False}}})
    line = render("s", Recording(resources=[deployment])).splitlines()[2]
    assert line == ('└─ kubernetes:apps/v1:Deployment  d  name=m replicas=(HPA) maxUnavailable=0 image=img@sha256:1 ports=[8080] '
                    'probes={"startup": "/s", "readiness": "/r", "liveness": "/l"} limits={"cpu": "1"} runAsNonRoot=true '
                    'readOnlyRoot=true privilegeEscalation=false capsDropped=["ALL"] seccomp=RuntimeDefault tokenMounted=false')


def test_a_node_pool_line_shows_machine_gpu_nodes_spot_and_taints() -> None:
    pool = reg("gcp:container/nodePool:NodePool", "gpu", autoscaling={"totalMinNodeCount": 0, "totalMaxNodeCount": 2},
               nodeConfig={"machineType": "g2-standard-4", "spot": True, "guestAccelerators": [{"type": "nvidia-l4"}],
                           "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]})
    assert render("s", Recording(resources=[pool])).splitlines()[2] == (
        '└─ gcp:container/nodePool:NodePool  gpu  machine=g2-standard-4 gpu=nvidia-l4 nodes=0..2 spot=true '
        'taints=["nvidia.com/gpu=present:NO_SCHEDULE"]')


def test_a_kubernetes_provider_without_a_context_says_it_uses_the_current_one() -> None:
    assert render("s", Recording(resources=[reg("pulumi:providers:kubernetes", "k8s")])).splitlines()[2] == (
        "└─ pulumi:providers:kubernetes  k8s  context=(current kubeconfig context)")


def test_a_namespace_line_shows_its_pod_security_level() -> None:
    namespace = reg("kubernetes:core/v1:Namespace", "ns", metadata={"name": "mlops", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}})
    assert render("s", Recording(resources=[namespace])).splitlines()[2] == (
        "└─ kubernetes:core/v1:Namespace  ns  name=mlops podSecurity=restricted")


# --- every reviewed setting is on its resource's line ------------------------------------------
#
# Per type, the settings `make plan` shows for the stack files (dev, prod, prod on AWS, dev with
# cluster training, prod-aws and its GPU variant). A setting read from a wrong path is None and silently left off the line:
# the reviewer would not see that a bucket is force-destroyed or a pod may escalate.

SHOWN: dict[str, list[str]] = {
    'pulumi:providers:kubernetes': ['context'],
    'pulumi:providers:aws': ['region', 'defaultTags'],
    'aws:kms/key:Key': ['rotation', 'deletionWindowDays'],
    'aws:ec2/launchTemplate:LaunchTemplate': ['imdsTokens', 'imdsHopLimit', 'rootVolume', 'rootEncrypted'],
    'aws:cloudwatch/logGroup:LogGroup': ['name', 'retentionDays'],
    'kubernetes:core/v1:Namespace': ['name', 'podSecurity'],
    'aws:iam/role:Role': ['name'],
    'aws:s3/bucket:Bucket': ['bucketPrefix', 'forceDestroy'],
    'aws:ec2/vpc:Vpc': ['cidr', 'dnsHostnames'],
    'aws:iam/user:User': ['name', 'path'],
    'aws:ecr/repository:Repository': ['name', 'tags', 'scanOnPush', 'encryption'],
    'aws:iam/instanceProfile:InstanceProfile': ['role'],
    'aws:iam/rolePolicyAttachment:RolePolicyAttachment': ['role', 'policy'],
    'kubernetes:core/v1:ServiceAccount': ['name', 'tokenMounted'],
    'kubernetes:networking.k8s.io/v1:NetworkPolicy': ['name', 'types', 'ports'],
    'kubernetes:core/v1:Service': ['type', 'ports', 'class', 'scheme'],
    'aws:kms/alias:Alias': ['name'],
    'aws:s3/bucketOwnershipControls:BucketOwnershipControls': ['ownership'],
    'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'],
    'aws:s3/bucketVersioning:BucketVersioning': ['status'],
    'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': ['sse', 'bucketKey'],
    'aws:ec2/defaultSecurityGroup:DefaultSecurityGroup': [],
    'aws:ec2/internetGateway:InternetGateway': [],
    'aws:ec2/routeTable:RouteTable': [],
    'aws:ec2/securityGroup:SecurityGroup': ['description'],
    'aws:ec2/subnet:Subnet': ['cidr', 'zone', 'publicIpOnLaunch'],
    'aws:iam/userPolicy:UserPolicy': ['user'],
    'aws:ecr/lifecyclePolicy:LifecyclePolicy': ['keep'],
    'docker-build:index:Image': ['tags', 'platforms', 'push'],
    'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration': ['abort-incomplete-multipart-uploads', 'expire-noncurrent-versions', 'archive-to-glacier-ir'],
    'aws:ec2/route:Route': ['destination', 'via'],
    'aws:ec2/routeTableAssociation:RouteTableAssociation': ['subnet', 'routeTable'],
    'aws:ec2/vpcEndpoint:VpcEndpoint': ['service', 'type'],
    'aws:batch/computeEnvironment:ComputeEnvironment': ['namePrefix', 'market', 'instanceTypes', 'allocation', 'minvCpus', 'maxvCpus', 'ami'],
    'aws:iam/rolePolicy:RolePolicy': ['role'],
    'kubernetes:core/v1:Secret': ['name', 'type'],
    'aws:s3/bucketPolicy:BucketPolicy': [],
    'aws:batch/jobQueue:JobQueue': ['name', 'cancelRunnable'],
    'aws:batch/jobDefinition:JobDefinition': ['name', 'command', 'requires', 'timeoutSeconds', 'attempts', 'retryOn', 'readOnlyRoot'],
    'kubernetes:batch/v1:CronJob': ['schedule', 'timeZone', 'concurrency', 'backoffLimit', 'deadlineSeconds', 'image', 'limits', 'runAsNonRoot', 'readOnlyRoot', 'privilegeEscalation', 'capsDropped', 'seccomp', 'tokenMounted', 'suspended'],
    'kubernetes:apps/v1:Deployment': ['name', 'replicas', 'maxUnavailable', 'image', 'ports', 'probes', 'limits', 'runAsNonRoot', 'readOnlyRoot', 'privilegeEscalation', 'capsDropped', 'seccomp', 'tokenMounted'],
    'aws:scheduler/schedule:Schedule': ['schedule', 'timezone', 'window', 'target', 'deadLetters'],
    'aws:cloudwatch/eventTarget:EventTarget': ['rule', 'to', 'message'],
    'kubernetes:autoscaling/v2:HorizontalPodAutoscaler': ['replicas', 'cpuTarget', 'scaleDownWindow'],
    'gcp:artifactregistry/repository:Repository': ['id', 'immutableTags', 'scanning', 'cleanup'],
    'aws:s3/bucketLogging:BucketLogging': ['targetPrefix'],
    'gcp:projects/iAMMember:IAMMember': ['role'],
    'gcp:container/cluster:Cluster': ['location', 'privateNodes', 'authorizedNetworks', 'channel', 'datapath', 'workloadPool', 'deletionProtection'],
    'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember': ['role'],
    'gcp:compute/routerNat:RouterNat': ['ranges'],
    'gcp:container/nodePool:NodePool': ['machine', 'nodes', 'spot', 'gpu', 'taints'],
    'aws:s3/bucketReplicationConfig:BucketReplicationConfig': ['rule', 'deleteMarkers', 'kmsObjects'],
    'aws:iam/openIdConnectProvider:OpenIdConnectProvider': ['url', 'audiences'],
    'kubernetes:policy/v1:PodDisruptionBudget': ['maxUnavailable'],
    'aws:ec2/eip:Eip': ['domain'],
    'aws:ec2/natGateway:NatGateway': ['subnet', 'eip'],
    'aws:budgets/budget:Budget': ['name', 'limit', 'counts', 'alerts'],
    'gcp:billing/budget:Budget': ['billingAccount', 'amount', 'projects', 'alerts'],
    'kubernetes:monitoring.googleapis.com/v1:PodMonitoring': ['name', 'project', 'scrapes'],
    'gcp:monitoring/alertPolicy:AlertPolicy': ['name', 'severity', 'for', 'notifies'],
    'kubernetes:core/v1:ConfigMap': ['name', 'keys', 'grafanaDashboard'],
    'kubernetes:monitoring.coreos.com/v1:ServiceMonitor': ['name', 'selects', 'endpoints'],
    'kubernetes:monitoring.coreos.com/v1:PrometheusRule': ['name', 'alerts'],
    'kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig': ['name', 'groupBy', 'sns', 'sendResolved'],
    'aws:eks/cluster:Cluster': ['name', 'version', 'privateEndpoint', 'publicEndpoint', 'publicAccessCidrs', 'authenticationMode',
                                'autoMode', 'nodePools', 'encrypted', 'logs', 'support', 'deletionProtection'],
    'aws:eks/accessPolicyAssociation:AccessPolicyAssociation': ['principal', 'policy', 'scope'],
    'kubernetes:karpenter.sh/v1:NodePool': ['name', 'requirements', 'taints', 'consolidation', 'limits'],
}


@pytest.fixture(scope="module")
def stack_files(
    dev: Recording, prod: Recording, prod_on_aws: Recording, dev_cluster_training: Recording, dev_scheduled: Recording,
    prod_aws: Recording, prod_aws_gpu: Recording,
) -> list[Recording]:
    # prod with a Cloud Billing account too: the only stack that has a Google Cloud budget; dev
    # without Airflow, the only one with a Scheduler schedule; prod-aws serving on a GPU, the only
    # one with a NodePool.
    billing = {"mlops:monitoring": {"budget": {"gcpBillingAccount": "01A2B3-C4D5E6-F7A8B9"}}}
    return [
        dev, prod, prod_on_aws, dev_cluster_training, run_program("prod", stack_config_with("prod", billing)), dev_scheduled,
        prod_aws, prod_aws_gpu,
    ]


def test_every_type_with_its_own_line_is_in_the_table() -> None:
    from offline.plan_settings import SETTINGS

    assert set(SHOWN) == set(SETTINGS)


@pytest.mark.parametrize("type_", SHOWN)
def test_each_reviewed_setting_is_shown_for_its_type(type_: str, stack_files: list[Recording]) -> None:
    from offline.plan_settings import SETTINGS
    from offline.values import redact

    shown: list[str] = []
    for recording in stack_files:
        for resource in recording.of_type(type_):
            shown += [k for k, v in SETTINGS[type_](redact(resource.inputs)).items() if v is not None and k not in shown]
    assert shown == SHOWN[type_]


def test_a_budget_line_shows_its_limit_what_it_counts_and_whom_it_alerts() -> None:
    from offline.plan_settings import settings

    budget = {
        "name": "mlops-dev-monthly", "limitAmount": "10.00", "limitUnit": "USD", "timeUnit": "MONTHLY",
        "costFilters": [{"name": "TagKeyValue", "values": ["user:stack$dev"]}],
        "notifications": [{"notificationType": "FORECASTED", "threshold": 100.0, "subscriberSnsTopicArns": ["arn:aws:sns:us-east-1:1:t"]}],
    }
    assert settings("aws:budgets/budget:Budget", budget) == {
        "name": "mlops-dev-monthly",
        "limit": "10.00 USD monthly",
        "counts": ["TagKeyValue user:stack$dev"],
        "alerts": ["FORECASTED > 100% to arn:aws:sns:us-east-1:1:t"],
    }


def test_a_cloud_billing_budget_line_shows_its_amount_in_dollars_and_cents() -> None:
    from offline.plan_settings import settings

    budget = {
        "billingAccount": "01A2B3-C4D5E6-F7A8B9",
        "amount": {"specifiedAmount": {"currencyCode": "USD", "units": "250", "nanos": 50_000_000}},
        "budgetFilter": {"projects": ["projects/123"], "calendarPeriod": "MONTH"},
        "thresholdRules": [{"thresholdPercent": 0.9, "spendBasis": "FORECASTED_SPEND"}],
    }
    assert settings("gcp:billing/budget:Budget", budget) == {
        "billingAccount": "01A2B3-C4D5E6-F7A8B9",
        "amount": "250.05 USD month",
        "projects": ["projects/123"],
        "alerts": ["FORECASTED_SPEND > 90%"],
    }


def test_the_monitoring_lines_show_what_is_scraped_which_alerts_and_where_they_go() -> None:
    monitor = reg("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "sm", metadata={"name": "iris-server"}, spec={
        "selector": {"matchLabels": {"mlops/project": "iris"}}, "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}]})
    rules = reg("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "pr", metadata={"name": "iris-alerts"},
                spec={"groups": [{"rules": [{"alert": "Down"}, {"alert": "Slow"}]}]})
    routes = reg("kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig", "am", metadata={"name": "alerts"}, spec={
        "route": {"groupBy": ["alertname"]}, "receivers": [{"snsConfigs": [{"topicARN": "arn:t", "sendResolved": True}]}]})
    dashboard = reg("kubernetes:core/v1:ConfigMap", "cm", metadata={"name": "d", "labels": {"grafana_dashboard": "1"}},
                    data={"mlops.json": "{}"})
    lines = [render("s", Recording(resources=[one])).splitlines()[2].split("  ", 2)[2] for one in (monitor, rules, routes, dashboard)]
    assert lines == [
        'name=iris-server selects=iris endpoints=["http/metrics every 30s"]',
        'name=iris-alerts alerts=["Down", "Slow"]',
        'name=alerts groupBy=["alertname"] sns=["arn:t"] sendResolved=true',
        'name=d keys=["mlops.json"] grafanaDashboard=1',
    ]
