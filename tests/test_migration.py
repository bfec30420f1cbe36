"""Stacks made before projects served one model, iris: its project keeps those resources' URNs."""

from __future__ import annotations

import pytest

from components.migration import FIRST_PROJECT, old_names, renamed
from offline.engine import Recording, run_program, stack_config_with

STACK = "urn:pulumi:{stack}::mlops::pulumi:pulumi:Stack"
BATCH = "urn:pulumi:dev::mlops::mlops:batch:BatchTraining"
# What the dev stack registered under its serving component before projects (issue 15's tree).
OLD_SERVING_NAMES = {
    "serving", "serving-identity", "serving-identity-user", "serving-identity-policy", "serving-identity-key",
    "serving-identity-credentials", "serving-sa", "serving-service", "serving-ingress", "serving-deployment", "serving-hpa",
}


def test_the_first_project_is_the_one_model_stacks_served() -> None:
    assert FIRST_PROJECT == "iris"


def test_only_the_first_project_gets_aliases() -> None:
    assert [alias.name for alias in old_names("iris", "serving")] == ["serving"]  # type: ignore[union-attr]
    assert old_names("digits", "serving") == []
    assert renamed("digits", "serving").aliases == []


def test_iris_serving_is_the_old_serving_component(dev: Recording) -> None:
    assert dev.named("serving-iris").aliases == (f"{STACK.format(stack='dev')}$mlops:serving:ModelServing::serving",)


def test_its_children_are_named_so_the_engine_carries_the_alias_down(dev: Recording) -> None:
    # The engine aliases a child of an aliased parent by swapping the parent's name in its own:
    # serving-iris-deployment was serving-deployment. Each old name must come out of the swap.
    descendants = {r.name for r in dev.resources if r.name.startswith("serving-iris")}
    assert {name.replace("serving-iris", "serving", 1) for name in descendants} == OLD_SERVING_NAMES


def test_each_child_of_iris_serving_carries_its_old_urn(dev: Recording) -> None:
    # Without it `pulumi up` would create a second set and delete the first, instead of updating it.
    children = [r for r in dev.resources if r.name.startswith("serving-iris-")]
    carried = {r.name.replace("serving-iris", "serving", 1) for r in children
               if f"{r.urn.rsplit('::', 1)[0]}::{r.name.replace('serving-iris', 'serving', 1)}" in r.aliases}
    assert carried == OLD_SERVING_NAMES - {"serving"}


@pytest.mark.parametrize(
    ("name", "type_", "old"),
    [
        ("training-iris-job", "aws:batch/jobDefinition:JobDefinition", "training-job"),
        ("training-iris-job-role", "aws:iam/role:Role", "training-job-role"),
        ("training-iris-job-access", "aws:iam/rolePolicy:RolePolicy", "training-job-access"),
        ("training-iris-schedule", "aws:scheduler/schedule:Schedule", "training-schedule"),
    ],
)
def test_iris_batch_resources_keep_their_urns(dev_scheduled: Recording, name: str, type_: str, old: str) -> None:
    # Their parent (the shared BatchTraining) keeps its name, so each carries its own alias.
    assert dev_scheduled.get(type_, name).aliases == (f"{BATCH}${type_}::{old}",)


def test_iris_training_on_the_cluster_is_the_old_training_component(prod: Recording) -> None:
    assert prod.named("training-iris").aliases == (f"{STACK.format(stack='prod')}$mlops:training:TrainingCronJob::training",)


def test_a_new_project_takes_over_nothing() -> None:
    run = run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": {"train": {"source": "images/train"}}}}))
    assert [r.name for r in run.resources if "digits" in r.name and r.aliases] == []


def test_the_shared_capacity_keeps_its_names(dev_scheduled: Recording) -> None:
    # The queue, compute environment, log group and Scheduler role are the stack's, not a project's.
    shared = ["training", "training-queue", "training-ce", "training-logs", "training-schedule-role", "training-net"]
    assert all(dev_scheduled.named(name).aliases == () for name in shared)
