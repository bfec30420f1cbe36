"""The rules on projects that need the rest of the stack: names, GPUs and prod serving, per project."""

from __future__ import annotations

import pytest

from components.config.project_rules import colliding_names
from components.project_names import DerivedName
from tests.config.support import gke_sections, iris, parse, problems

BUILTIN = {"source": "images/train"}


@pytest.mark.parametrize("name", ["Iris", "iris_v2", "2iris", "iris-", "-iris", "a" * 64])
def test_a_project_name_must_be_a_dns_label(name: str) -> None:
    assert problems(projects={name: {"train": BUILTIN}}) == [
        f'mlops:projects.{name}: "{name}" is not a DNS label: lowercase letters, digits and \'-\', starting with a '
        "letter, at most 63: it names the project's objects and identities"
    ]


def test_a_name_whose_iam_names_pass_64_characters_is_refused() -> None:
    # mlops-dev- (10) + the name + -server (7): a 48-character name makes a 65-character user name.
    name = "a" * 48
    assert problems(projects={name: {"train": BUILTIN}}) == [
        f'mlops:projects.{name}: "{name}" is too long: its IAM role/user name mlops-dev-{name}-server has 65 '
        "characters, more than the 64 allowed"
    ]


def test_the_longest_name_that_fits_is_accepted() -> None:
    assert list(parse(projects={"a" * 47: {"train": BUILTIN}}).projects) == ["a" * 47]


def test_two_projects_that_would_share_a_derived_name_are_refused() -> None:
    # The suffixes keep today's names apart; the check stays, so a new derived name cannot collide silently.
    names = {
        "iris": [DerivedName("Kubernetes name", "shared", 63)],
        "digits": [DerivedName("Kubernetes name", "shared", 63), DerivedName("Kubernetes name", "digits-train", 63)],
    }
    assert [str(rule) for rule in colliding_names(names)] == [
        "projects.digits='digits' would share the Kubernetes name shared with project iris"
    ]


def test_projects_of_a_real_stack_share_no_name() -> None:
    assert len(parse(projects={"iris": {"train": BUILTIN}, "digits": {"train": BUILTIN}}).projects) == 2


def test_training_gpus_need_gpu_compute() -> None:
    assert problems(compute={"kind": "none"}, **iris(gpus=1)) == [
        "mlops:projects.iris.train.gpus: 1 needs GPU capacity; compute.kind: none trains on the cluster's CPUs (use 0)"
    ]
    train = parse(compute={"kind": "none"}, **iris(gpus=0)).projects["iris"].train
    assert train is not None and train.gpus == 0


def test_gke_gives_training_the_gpus_it_asks_for() -> None:
    train = parse(**gke_sections(), **iris(gpus=4)).projects["iris"].train
    assert train is not None and train.gpus == 4


def test_each_project_is_held_to_the_smallest_instance_type() -> None:
    projects = {"iris": {"train": {**BUILTIN, "gpus": 1}}, "digits": {"train": {**BUILTIN, "gpus": 2}}}
    assert problems(projects=projects) == [
        "mlops:projects.digits.train.gpus: 2 is more than the smallest of compute.instanceType has (1); the job would "
        "wait for an instance it can never get"
    ]


def test_prod_needs_two_replicas_for_each_served_project() -> None:
    projects = {
        "iris": {"train": BUILTIN, "serve": {"minReplicas": 2}},
        "digits": {"train": BUILTIN, "serve": {"minReplicas": 1}},
        "batch-only": {"train": BUILTIN},
    }
    assert problems("prod", storage={"backupRegion": "us-west-2"}, projects=projects) == [
        "mlops:projects.digits.serve.minReplicas: 1 must be >= 2 in prod, so a rollout or a node loss keeps serving"
    ]
