"""docs/gcp-deployer-roles.json: the roles prod's deploying identity needs on Google Cloud, and no others."""

from __future__ import annotations

import json
import re

import pytest

from offline.engine import ROOT, Recording, run_program, stack_config_with

DOC = json.loads((ROOT / "docs" / "gcp-deployer-roles.json").read_text())


@pytest.fixture(scope="module")
def prod_with_gcp_budget() -> Recording:
    """prod with monitoring.budget.gcpBillingAccount: a Cloud Billing budget beside the AWS one."""
    budget = {"budget": {"gcpBillingAccount": "01A2B3-C4D5E6-F7A8B9"}}
    return run_program("prod", stack_config_with("prod", {"mlops:monitoring": budget}))


@pytest.fixture(scope="module")
def prod_notifying() -> Recording:
    """prod once monitoring.notify lists someone: its alert policies then notify channels of their own."""
    return run_program("prod", stack_config_with("prod", {"mlops:monitoring": {"notify": {"emails": ["oncall@example.com"]}}}))


def gcp_types(*recordings: Recording) -> set[str]:
    return {r.type for recording in recordings for r in recording.resources if r.type.startswith("gcp:")}


def test_every_gcp_type_prod_registers_is_mapped(
    prod: Recording, prod_notifying: Recording, prod_with_gcp_budget: Recording
) -> None:
    # An unmapped type has no role behind it: the first `up` would stop on a 403. prod has Airflow's
    # Cloud SQL database.
    assert gcp_types(prod, prod_notifying, prod_with_gcp_budget) - DOC["types"].keys() == set()


def test_every_mapped_role_is_granted_in_the_doc() -> None:
    granted = DOC["roles"].keys() | DOC["billingAccountRoles"].keys()
    assert {role for roles in DOC["types"].values() for role in roles} - granted == set()


def test_the_billing_account_roles_are_exactly_what_a_cloud_billing_budget_adds(
    prod: Recording, prod_with_gcp_budget: Recording
) -> None:
    # Granted on the billing account, which a project-level grant cannot reach; and only for this.
    added = {role for type_ in gcp_types(prod_with_gcp_budget) - gcp_types(prod) for role in DOC["types"][type_]}
    assert added == set(DOC["billingAccountRoles"]) == {"roles/billing.costsManager"}


def test_every_granted_role_is_needed(prod: Recording, prod_notifying: Recording) -> None:
    # A role no registered type needs is a grant nobody reviews.
    needed = {role for type_ in gcp_types(prod, prod_notifying) for role in DOC["types"][type_]}
    assert set(DOC["roles"]) == needed


def test_the_pipeline_database_needs_cloud_sql_admin_and_the_peering_roles(prod: Recording) -> None:
    database = prod.get("mlops:pipeline:CloudSqlDatabase", "airflow-database")
    types = {r.type for r in prod.children_of(database) if r.type.startswith("gcp:")}
    assert {type_: DOC["types"][type_] for type_ in types} == {
        "gcp:compute/globalAddress:GlobalAddress": ["roles/compute.networkAdmin"],
        "gcp:servicenetworking/connection:Connection": ["roles/servicenetworking.networksAdmin", "roles/compute.networkAdmin"],
        "gcp:sql/databaseInstance:DatabaseInstance": ["roles/cloudsql.admin"],
        "gcp:sql/database:Database": ["roles/cloudsql.admin"],
        "gcp:sql/user:User": ["roles/cloudsql.admin"],
    }


def test_monitoring_is_granted_per_kind_of_object_not_monitoring_editor() -> None:
    # roles/monitoring.editor could also write metrics, uptime checks and snoozes.
    assert {type_: DOC["types"][type_] for type_ in DOC["types"] if type_.startswith("gcp:monitoring/")} == {
        "gcp:monitoring/alertPolicy:AlertPolicy": ["roles/monitoring.alertPolicyEditor"],
        "gcp:monitoring/notificationChannel:NotificationChannel": ["roles/monitoring.notificationChannelEditor"],
        "gcp:monitoring/dashboard:Dashboard": ["roles/monitoring.dashboardEditor"],
    }


def test_project_iam_admin_may_grant_exactly_the_node_roles(prod: Recording) -> None:
    # Unconditioned, projectIamAdmin could grant itself roles/owner.
    expression = DOC["roles"]["roles/resourcemanager.projectIamAdmin"]["condition"]["expression"]
    allowed = set(re.findall(r"'(roles/[^']+)'", expression))
    granted = {r.inputs["role"] for r in prod.of_type("gcp:projects/iAMMember:IAMMember")}
    assert granted <= allowed
    # Stacks made before the node role existed hold these two grants; the upgrade's `up` removes
    # them, and a removal is a modified grant the condition must admit.
    assert allowed - granted == {"roles/logging.logWriter", "roles/monitoring.metricWriter"}
