"""Each project's derived names, labels and tags: one module for the components and the config check."""

from __future__ import annotations

from components.project_names import (
    DerivedName,
    cloud_name,
    derived_names,
    job_definition_name,
    name_prefix,
    project_labels,
    project_tags,
    server_ingress_name,
    server_name,
    trainer_name,
)


def test_kubernetes_names_carry_the_project() -> None:
    assert (server_name("iris"), server_ingress_name("iris"), trainer_name("iris")) == (
        "iris-server",
        "iris-server-ingress",
        "iris-train",
    )


def test_cloud_names_carry_the_stack_and_the_project() -> None:
    prefix = name_prefix("mlops", "dev")
    assert prefix == "mlops-dev"
    assert cloud_name(prefix, server_name("iris")) == "mlops-dev-iris-server"
    assert cloud_name(prefix, trainer_name("iris")) == "mlops-dev-iris-train"
    assert job_definition_name(prefix, "iris") == "mlops-dev-iris-train"


def test_the_project_label_and_tag() -> None:
    assert project_labels("iris") == {"mlops/project": "iris"}
    # Not `project`: the provider's default tags give that key the Pulumi project (mlops).
    assert project_tags("iris") == {"ml-project": "iris"}


def test_every_derived_name_comes_with_its_limit() -> None:
    assert derived_names("mlops-dev", "iris") == [
        DerivedName("Kubernetes name", "iris-server-ingress", 63),
        DerivedName("Kubernetes name", "iris-train", 63),
        DerivedName("IAM role/user name", "mlops-dev-iris-server", 64),
        DerivedName("IAM role/user name", "mlops-dev-iris-train", 64),
        DerivedName("Scheduler schedule name", "mlops-dev-iris-train", 64),
        DerivedName("Batch job definition name", "mlops-dev-iris-train", 128),
        DerivedName("EventBridge rule name", "mlops-dev-iris-failed", 64),
        DerivedName("SQS queue name", "mlops-dev-iris-train-dlq", 80),
    ]
