"""The one list of rules, `RULES`, in report order, and `evaluate`, which runs it offline.

Each entry is a rule's name, description, severity, resource types and check. The CrossGuard
pack (`policy/__main__.py`), `make diff` and `python -m offline.policy_check` all run this
list; the checks live in the module of what they guard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from policy.rules import cluster, compute, data, database, eks, exposure, identity, messaging, pipeline, pods, registry
from policy.rules.core import Context, ResourceRule, ResourceView, Rule, StackRule, Violation
from policy.rules.exposure import AUTH_TOKEN_ENV

_BUCKET_SETTINGS = data.BUCKET | data.PUBLIC_ACCESS_BLOCK | data.SSE_CONFIG | data.OWNERSHIP | data.BUCKET_POLICY | data.VERSIONING

RULES: tuple[Rule, ...] = (
    # S3
    ResourceRule("s3-encryption", "S3 buckets are encrypted at rest with SSE-KMS or SSE-S3.", "mandatory",
                 data.SSE_CONFIG, data.check_s3_encryption),
    ResourceRule("s3-bucket-key", "SSE-KMS buckets use an S3 bucket key (fewer KMS calls, lower cost).", "advisory",
                 data.SSE_CONFIG, data.check_s3_bucket_key),
    ResourceRule("s3-public-access-block", "S3 public access blocks set all four flags.", "mandatory",
                 data.PUBLIC_ACCESS_BLOCK, data.check_s3_public_access_block),
    ResourceRule("s3-tls-only", "S3 bucket policies deny requests not made over TLS.", "mandatory",
                 data.BUCKET_POLICY, data.check_s3_tls_only),
    ResourceRule("s3-no-public-policy", "S3 bucket policies grant nothing to everyone without a condition.",
                 "mandatory", data.BUCKET_POLICY, data.check_s3_no_public_policy),
    ResourceRule("s3-ownership-enforced", "S3 buckets enforce bucket-owner ownership (ACLs disabled).", "mandatory",
                 data.OWNERSHIP, data.check_s3_ownership_enforced),
    ResourceRule("s3-no-public-acl", "S3 buckets and ACL resources use no public canned ACL.", "mandatory",
                 data.BUCKET | data.BUCKET_ACL, data.check_s3_no_public_acl),
    ResourceRule("s3-versioning", "S3 bucket versioning is enabled, so data can be recovered.", "mandatory",
                 data.VERSIONING, data.check_s3_versioning),
    StackRule("s3-bucket-guarded", "Every S3 bucket has a public access block, encryption, ownership controls, "
              "a (TLS-only) bucket policy and versioning.", "mandatory", data.check_buckets_guarded, _BUCKET_SETTINGS),
    StackRule("prod-data-protected", "In prod, buckets and the KMS keys that encrypt them are protected, and "
              "buckets are not force-destroyed.", "mandatory", data.check_prod_data_protected,
              data.BUCKET | data.KMS_KEY | data.SSE_CONFIG),
    # Registry and keys
    ResourceRule("ecr-immutable-tags", "ECR repositories have immutable tags.", "mandatory",
                 registry.ECR_REPOSITORY, registry.check_ecr_immutable_tags),
    ResourceRule("ecr-scan-on-push", "ECR repositories scan images on push.", "mandatory",
                 registry.ECR_REPOSITORY, registry.check_ecr_scan_on_push),
    ResourceRule("kms-key-rotation", "Symmetric KMS keys rotate automatically.", "mandatory",
                 data.KMS_KEY, data.check_kms_rotation),
    # Notifications
    ResourceRule("sns-topic-encrypted", "SNS topics are encrypted with a customer-managed KMS key (AWS services "
                 "cannot publish under alias/aws/sns).", "mandatory", messaging.TOPIC, messaging.check_sns_topic_encrypted),
    ResourceRule("sqs-queue-encrypted", "SQS queues are encrypted at rest (SSE-SQS or SSE-KMS).", "mandatory",
                 messaging.QUEUE, messaging.check_sqs_queue_encrypted),
    # Compute and network
    ResourceRule("ec2-imdsv2", "Instances and launch templates require IMDSv2 tokens.", "mandatory",
                 compute.INSTANCE | compute.LAUNCH_TEMPLATE, compute.check_imdsv2),
    ResourceRule("ec2-instance-no-public-ip", "EC2 instances get no public IP; they are reached through SSM.",
                 "mandatory", compute.INSTANCE, compute.check_instance_no_public_ip),
    ResourceRule("ec2-no-public-ip-on-launch", "Subnets and launch templates do not hand out public IPv4 "
                 "addresses (advisory: dev Batch jobs may run in public subnets, behind no-ingress security groups).",
                 "advisory", compute.SUBNET | compute.LAUNCH_TEMPLATE, compute.check_no_public_ip_on_launch),
    ResourceRule("ec2-encrypted-volumes", "Instance root and EBS volumes, and launch template EBS mappings, are "
                 "encrypted.", "mandatory", compute.INSTANCE | compute.LAUNCH_TEMPLATE, compute.check_encrypted_volumes),
    ResourceRule("ec2-no-internet-ingress", "Security groups take no inbound traffic from 0.0.0.0/0 or ::/0.",
                 "mandatory", compute.INGRESS_TYPES, compute.check_no_internet_ingress),
    ResourceRule("ec2-no-ssh-ingress", "No security group opens port 22; shells go through SSM Session Manager.",
                 "mandatory", compute.INGRESS_TYPES, compute.check_no_ssh_ingress),
    # IAM
    ResourceRule("iam-no-wildcard-action", "IAM policies allow named actions, never * or service:*.", "mandatory",
                 identity.POLICY_DOCUMENT, identity.check_iam_no_wildcard_action),
    ResourceRule("iam-no-wildcard-resource", "IAM policies allow actions on named resources; Resource * only for "
                 "actions that have no resource-level permissions (ecr:GetAuthorizationToken, batch:DescribeJobs, "
                 "batch:DescribeJobDefinitions).", "mandatory",
                 identity.POLICY_DOCUMENT, identity.check_iam_no_wildcard_resource),
    ResourceRule("iam-no-admin-policy", "No principal gets AdministratorAccess, PowerUserAccess or IAMFullAccess.",
                 "mandatory", identity.POLICY_ATTACHMENT, identity.check_iam_no_admin_policy),
    # Kubernetes workloads (serving and training pods)
    ResourceRule("k8s-run-as-non-root", "Pods run as a non-root user.", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_run_as_non_root),
    ResourceRule("k8s-no-privilege-escalation", "Containers set allowPrivilegeEscalation false.", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_no_privilege_escalation),
    ResourceRule("k8s-read-only-root-filesystem", "Containers have a read-only root filesystem.", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_read_only_root_filesystem),
    ResourceRule("k8s-drop-all-capabilities", "Containers drop ALL Linux capabilities.", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_drop_all_capabilities),
    ResourceRule("k8s-seccomp-runtime-default", "Pods use the RuntimeDefault seccomp profile.", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_seccomp_runtime_default),
    ResourceRule("k8s-resource-limits", "Containers set CPU and memory limits.", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_resource_limits),
    ResourceRule("k8s-image-digest", "Container images are pinned by digest (@sha256:).", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_image_digest),
    ResourceRule("k8s-no-privileged-or-host", "Pods are not privileged and share no host namespace.", "mandatory",
                 pods.WORKLOAD, pods.check_k8s_no_privileged_or_host),
    # The pipeline: Airflow's chart, whose objects only its values show
    ResourceRule("airflow-release-hardened", "Airflow's Helm release gives every component restricted security contexts "
                 "and limits, runs the KubernetesExecutor, logs in through a real auth manager (not the SimpleAuthManager), "
                 "and exposes its api-server on a LoadBalancer only with pipeline.publicApi.", "mandatory",
                 pipeline.RELEASE, pipeline.check_airflow_release),
    # GKE
    ResourceRule("gke-private-nodes", "GKE nodes have no public address.", "mandatory",
                 cluster.GKE_CLUSTER, cluster.check_gke_private_nodes),
    ResourceRule("gke-control-plane-not-open", "The GKE control plane admits only authorized networks, never "
                 "0.0.0.0/0.", "mandatory", cluster.GKE_CLUSTER, cluster.check_gke_control_plane_not_open),
    ResourceRule("gke-workload-identity", "GKE pods get Workload Identity, never the node's credentials.",
                 "mandatory", cluster.GKE_CLUSTER, cluster.check_gke_workload_identity),
    ResourceRule("gke-network-policy-enforced", "GKE enforces NetworkPolicies (Dataplane V2).", "mandatory",
                 cluster.GKE_CLUSTER, cluster.check_gke_network_policy_enforced),
    ResourceRule("gke-shielded-nodes", "GKE nodes are shielded (secure boot, integrity monitoring).", "mandatory",
                 cluster.GKE_CLUSTER, cluster.check_gke_shielded_nodes),
    ResourceRule("gke-prod-deletion-protection", "A prod GKE cluster has deletion protection.", "mandatory",
                 cluster.GKE_CLUSTER, cluster.check_gke_prod_deletion_protection),
    # EKS
    ResourceRule("eks-endpoint-not-open", "The EKS API server's public endpoint, where there is one, admits only "
                 "listed networks, never 0.0.0.0/0.", "mandatory", eks.EKS_CLUSTER, eks.check_eks_endpoint_not_open),
    ResourceRule("eks-control-plane-logs", "EKS logs the api, audit and authenticator streams of its control plane.",
                 "mandatory", eks.EKS_CLUSTER, eks.check_eks_control_plane_logs),
    ResourceRule("eks-secrets-encrypted", "EKS envelope-encrypts Kubernetes Secrets with a KMS key.", "mandatory",
                 eks.EKS_CLUSTER, eks.check_eks_secrets_encrypted),
    ResourceRule("eks-prod-deletion-protection", "A prod EKS cluster has deletion protection.", "mandatory",
                 eks.EKS_CLUSTER, eks.check_eks_prod_deletion_protection),
    # RDS
    ResourceRule("rds-not-public", "RDS databases have no public address.", "mandatory",
                 database.RDS_INSTANCE, database.check_rds_not_public),
    ResourceRule("rds-storage-encrypted", "RDS storage, backups and snapshots are encrypted.", "mandatory",
                 database.RDS_INSTANCE, database.check_rds_storage_encrypted),
    ResourceRule("rds-backups", "RDS keeps automated backups (a point-in-time restore needs them).", "mandatory",
                 database.RDS_INSTANCE, database.check_rds_backups),
    ResourceRule("rds-prod-deletion-protection", "A prod RDS database has deletion protection.", "mandatory",
                 database.RDS_INSTANCE, database.check_rds_prod_deletion_protection),
    # Exposure
    StackRule("prod-public-endpoint-authenticated", "In prod, a public LoadBalancer Service's pods check a bearer "
              f"token ({AUTH_TOKEN_ENV} from a Secret).", "mandatory", exposure.check_prod_public_endpoint_authenticated,
              exposure.SERVICE | exposure.DEPLOYMENT),
    StackRule("public-endpoint-authenticated", "Outside prod, a public LoadBalancer Service without a bearer token "
              "is reported (advisory).", "advisory", exposure.check_public_endpoint_authenticated,
              exposure.SERVICE | exposure.DEPLOYMENT),
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
