"""The rules that span sections: prod's, and what GKE and Artifact Registry need together."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from offline.engine import Recording, run_program, stack_config_with
from tests.config.support import gke_stack, iris, parse, problems


def test_every_broken_gke_rule_is_reported_in_one_run() -> None:
    changes = {"mlops:gke": {"project": None, "zones": None, "authorizedNetworks": None}}
    with pytest.raises(ConfigError) as raised:
        run_program("prod", stack_config_with("prod", changes), Recording())
    assert sorted(problem.split(": ", 1)[0] for problem in raised.value.problems) == [
        "mlops:gke.authorizedNetworks",
        "mlops:gke.project",
        "mlops:gke.zones",
    ]


def test_every_broken_prod_rule_is_reported_in_one_run() -> None:
    changes = {"mlops:storage": {"backupRegion": None}, "mlops:projects": {"iris": {"train": {"source": "images/train"}, "serve": {"minReplicas": 1}}}}
    with pytest.raises(ConfigError) as raised:
        run_program("prod", stack_config_with("prod", changes), Recording())
    assert [problem.split(": ", 1)[0] for problem in raised.value.problems] == [
        "mlops:storage.backupRegion",
        "mlops:projects.iris.serve.minReplicas",
    ]


def test_prod_accepts_two_serving_replicas() -> None:
    # Two is the floor prod needs; refusing it would force a third pod's bill.
    serve = parse("prod", **iris(serve={"minReplicas": 2})).projects["iris"].serve
    assert serve is not None and serve.min_replicas == 2


def test_every_kind_of_compute_and_cluster_is_accepted_where_it_fits() -> None:
    assert parse(compute={"kind": "ec2"}).compute.kind == "ec2"
    assert parse(compute={"kind": "none"}).compute.kind == "none"
    on_gke = gke_stack()
    assert (on_gke.compute.kind, on_gke.serving.cluster, on_gke.registry.kind) == ("gke", "gke", "artifact-registry")
    assert parse(compute={"kind": "none"}, registry={"kind": "artifact-registry"},
                 gke={"project": "mlops-dev-123456"}).registry.kind == "artifact-registry"


def test_gke_compute_needs_serving_on_gke() -> None:
    # Training runs as a CronJob on the GKE cluster's GPU pool; serving elsewhere splits the stack.
    with pytest.raises(ConfigError) as refused:
        parse(compute={"kind": "gke"}, registry={"kind": "artifact-registry"}, serving={"cluster": "kubeconfig"},
              gke={"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]})
    assert refused.value.problems == [
        'mlops:serving.cluster: "kubeconfig" must be gke with compute.kind: gke: training runs as a CronJob on '
        "the cluster's GPU pool, beside serving"
    ]


def test_broken_rules_are_reported_in_a_fixed_order() -> None:
    # Google Cloud's first, then the cluster (EKS's subnets), the backup, and the projects' (GPUs, then prod serving), project by project.
    broken = problems(
        "prod",
        registry={"kind": "artifact-registry"},
        serving={"cluster": "eks"},
        compute={"subnets": "public"},
        storage={"backupRegion": None},
        projects={
            "iris": {"train": {"source": "images/train", "gpus": 2}, "serve": {"minReplicas": 1}},
            "digits": {"train": {"source": "images/train", "gpus": 2}},
        },
    )
    assert [problem.split(": ", 1)[0] for problem in broken] == [
        "mlops:gke.project",
        "mlops:registry.kind",
        "mlops:compute.subnets",
        "mlops:storage.backupRegion",
        "mlops:projects.iris.train.gpus",
        "mlops:projects.iris.serve.minReplicas",
        "mlops:projects.digits.train.gpus",
    ]
