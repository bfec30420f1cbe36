"""What lets the pipeline run training on the cluster: a Role and RoleBinding in the workloads'
namespace for Airflow's ServiceAccount (in its own namespace).

A pipeline run reads the project's suspended CronJob, creates a Job from its job template,
follows the Job and its pod until it ends, reads the pod's log into the task's, and deletes
the Job when the task is cleared or killed. Nothing else: no Secrets, no CronJob changes, no
pods of its own in this namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.pods import labels

NAME = "pipeline-runner"


def runner_rules(cronjobs: Sequence[str]) -> list[k8s.rbac.v1.PolicyRuleArgs]:
    """The Role's rules: the projects' CronJobs by name; Jobs, pods and logs of the namespace
    (a Job's name is made per run, and list and watch cannot be narrowed by name)."""
    return [
        k8s.rbac.v1.PolicyRuleArgs(api_groups=["batch"], resources=["cronjobs"], resource_names=sorted(cronjobs), verbs=["get"]),
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=["batch"], resources=["jobs"], verbs=["create", "get", "list", "watch", "delete"]
        ),
        k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["pods"], verbs=["get", "list", "watch"]),
        k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["pods/log"], verbs=["get"]),
    ]


def allow_runner(
    name: str,
    *,
    workloads_namespace: pulumi.Input[str],
    instance: str,
    cronjobs: Sequence[str],
    runner_namespace: str,
    service_account: str,
    opts: pulumi.ResourceOptions,
) -> None:
    """Bind `runner_namespace/service_account` to the runner Role in `workloads_namespace`."""
    metadata = k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=workloads_namespace, labels=labels(NAME, instance=instance))
    role = k8s.rbac.v1.Role(f"{name}-role", metadata=metadata, rules=runner_rules(cronjobs), opts=opts)
    k8s.rbac.v1.RoleBinding(
        f"{name}-binding",
        metadata=metadata,
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=service_account, namespace=runner_namespace)],
        opts=opts,
    )
