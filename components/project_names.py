"""The names each ML project derives from its own: Kubernetes objects, cloud identities, Batch
jobs and schedules, and the labels and tags that name the project.

One module, read by the components that create the objects and by the config check that
refuses a project whose names would collide or pass a limit, so the two can never drift.
"""

from __future__ import annotations

from dataclasses import dataclass

PROJECT_LABEL = "mlops/project"
"""The Kubernetes label that names an object's ML project."""
PROJECT_TAG = "ml-project"
"""The AWS tag (and GCP label) key of a resource's ML project: `project` is already the Pulumi
project's (the provider's default tags), which the deployer policy's KMS conditions read."""

# The limits each kind of name must fit, as the APIs enforce them.
KUBERNETES_NAME_LIMIT = 63
IAM_NAME_LIMIT = 64
SCHEDULE_NAME_LIMIT = 64
JOB_DEFINITION_NAME_LIMIT = 128
EVENT_RULE_NAME_LIMIT = 64
QUEUE_NAME_LIMIT = 80


def name_prefix(project: str, stack: str) -> str:
    """What every cloud name of a stack starts with, e.g. `mlops-dev`."""
    return f"{project}-{stack}"


def server_name(project: str) -> str:
    """The serving Deployment, Service, HPA, PDB and ServiceAccount, e.g. `iris-server`."""
    return f"{project}-server"


def server_ingress_name(project: str) -> str:
    """The serving NetworkPolicy that admits the serving port."""
    return f"{server_name(project)}-ingress"


def alert_rules_name(project: str) -> str:
    """The project's PrometheusRule (its alert rules), e.g. `iris-alerts`."""
    return f"{project}-alerts"


def trainer_name(project: str) -> str:
    """The training CronJob and its ServiceAccount, e.g. `iris-train`."""
    return f"{project}-train"


def cloud_name(prefix: str, workload: str) -> str:
    """A cloud identity of a workload (its ServiceAccount name): `<prefix>-<project>-server`."""
    return f"{prefix}-{workload}"


def job_definition_name(prefix: str, project: str) -> str:
    """The Batch job definition and the Scheduler schedule of a project's training."""
    return cloud_name(prefix, trainer_name(project))


REPRODUCE_SUFFIX = "-reproduce"


def reproduce_job_definition_name(prefix: str, project: str) -> str:
    """The job definition family a `reproduce: <version>` run registers revisions of, with that
    version's image: `<job definition name>-reproduce` (the project's own family stays Pulumi's)."""
    return f"{job_definition_name(prefix, project)}{REPRODUCE_SUFFIX}"


def failure_rule_name(prefix: str, project: str) -> str:
    """The EventBridge rule that tells the stack's topic of the project's failed Batch jobs."""
    return f"{prefix}-{project}-failed"


def dead_letter_queue_name(prefix: str, project: str) -> str:
    """The SQS queue that keeps the project's scheduled submits that never reached Batch."""
    return f"{job_definition_name(prefix, project)}-dlq"


def project_labels(project: str) -> dict[str, str]:
    """The label every Kubernetes object of a project carries (and its Deployment selects on)."""
    return {PROJECT_LABEL: project}


def project_tags(project: str) -> dict[str, str]:
    """The tag (AWS) or label (GCP) every cloud resource of a project carries, to split the cost."""
    return {PROJECT_TAG: project}


@dataclass(frozen=True)
class DerivedName:
    kind: str
    """What it names, as a reader of the error sees it: `Kubernetes name`, `IAM role/user name`..."""
    value: str
    limit: int


def derived_names(prefix: str, project: str) -> list[DerivedName]:
    """Every name a project derives, with the limit it must fit."""
    return [
        DerivedName("Kubernetes name", server_ingress_name(project), KUBERNETES_NAME_LIMIT),
        DerivedName("Kubernetes name", trainer_name(project), KUBERNETES_NAME_LIMIT),
        DerivedName("IAM role/user name", cloud_name(prefix, server_name(project)), IAM_NAME_LIMIT),
        DerivedName("IAM role/user name", cloud_name(prefix, trainer_name(project)), IAM_NAME_LIMIT),
        DerivedName("Scheduler schedule name", job_definition_name(prefix, project), SCHEDULE_NAME_LIMIT),
        DerivedName("Batch job definition name", job_definition_name(prefix, project), JOB_DEFINITION_NAME_LIMIT),
        DerivedName("EventBridge rule name", failure_rule_name(prefix, project), EVENT_RULE_NAME_LIMIT),
        DerivedName("SQS queue name", dead_letter_queue_name(prefix, project), QUEUE_NAME_LIMIT),
    ]
