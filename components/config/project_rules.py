"""The rules on `projects` that need the rest of the stack: names that fit and stay apart, GPUs
that `compute` can provide, and what prod's serving needs, each naming its key as written
(`projects.iris.serve.minReplicas`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from components.config.errors import BrokenRule
from components.config.projects import check_project_name
from components.instance_types import GPU_INSTANCE_TYPES
from components.project_names import DerivedName, derived_names, name_prefix

if TYPE_CHECKING:
    from components.config.stack import StackConfig


def project_rules(stack: StackConfig) -> list[BrokenRule]:
    """Every project rule `stack` breaks, project by project, then the collisions between them."""
    broken: list[BrokenRule] = []
    for name in stack.projects:
        broken += _name_rules(stack, name) or [*_gpu_rules(stack, name), *_prod_rules(stack, name)]
    return broken + colliding_names({name: _names(stack, name) for name in stack.projects})


def _names(stack: StackConfig, project: str) -> list[DerivedName]:
    return derived_names(name_prefix(stack.project, stack.stack), project)


def _name_rules(stack: StackConfig, project: str) -> list[BrokenRule]:
    reason = check_project_name(project)
    if reason is not None:
        return [BrokenRule(f"projects.{project}", project, f"{reason}: it names the project's objects and identities")]
    return [
        BrokenRule(
            f"projects.{project}",
            project,
            f"is too long: its {derived.kind} {derived.value} has {len(derived.value)} characters, "
            f"more than the {derived.limit} allowed",
        )
        for derived in _names(stack, project)
        if len(derived.value) > derived.limit
    ][:1]


def colliding_names(names: dict[str, list[DerivedName]]) -> list[BrokenRule]:
    """A rule per derived name that two projects would share (the second project's names it)."""
    owners: dict[tuple[str, str], list[str]] = defaultdict(list)
    for project, derived in names.items():
        for name in derived:
            if project not in owners[(name.kind, name.value)]:
                owners[(name.kind, name.value)].append(project)
    return [
        BrokenRule(f"projects.{projects[1]}", projects[1], f"would share the {kind} {value} with project {projects[0]}")
        for (kind, value), projects in owners.items()
        if len(projects) > 1
    ]


def _gpu_rules(stack: StackConfig, project: str) -> list[BrokenRule]:
    train = stack.projects[project].train
    if train is None or train.gpus == 0:
        return []
    key = f"projects.{project}.train.gpus"
    if stack.compute.kind == "none":
        return [BrokenRule(key, train.gpus, "needs GPU capacity; compute.kind: none trains on the cluster's CPUs (use 0)")]
    if stack.compute.kind != "ec2":
        return []
    smallest = min(GPU_INSTANCE_TYPES[name].gpus for name in stack.compute.instance_type)
    if train.gpus <= smallest:
        return []
    return [
        BrokenRule(
            key,
            train.gpus,
            f"is more than the smallest of compute.instanceType has ({smallest}); "
            "the job would wait for an instance it can never get",
        )
    ]


def _prod_rules(stack: StackConfig, project: str) -> list[BrokenRule]:
    serve = stack.projects[project].serve
    if not stack.is_prod or serve is None or serve.min_replicas >= 2:
        return []
    return [
        BrokenRule(
            f"projects.{project}.serve.minReplicas",
            serve.min_replicas,
            "must be >= 2 in prod, so a rollout or a node loss keeps serving",
        )
    ]
