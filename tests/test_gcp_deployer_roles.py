"""docs/gcp-deployer-roles.json: the roles prod's deploying identity needs on Google Cloud, and no others."""

from __future__ import annotations

import json
import re

from offline.engine import ROOT, Recording

DOC = json.loads((ROOT / "docs" / "gcp-deployer-roles.json").read_text())


def test_every_gcp_type_prod_registers_is_mapped(prod: Recording) -> None:
    # An unmapped type has no role behind it: the first `up` would stop on a 403.
    used = {r.type for r in prod.resources if r.type.startswith("gcp:")}
    assert used - DOC["types"].keys() == set()


def test_every_mapped_role_is_granted_in_the_doc() -> None:
    assert {role for roles in DOC["types"].values() for role in roles} - DOC["roles"].keys() == set()


def test_every_granted_role_is_needed(prod: Recording) -> None:
    # A role no registered type needs is a grant nobody reviews.
    used = {r.type for r in prod.resources if r.type.startswith("gcp:")}
    needed = {role for type_ in used for role in DOC["types"][type_]}
    assert set(DOC["roles"]) == needed


def test_project_iam_admin_may_grant_exactly_the_node_roles(prod: Recording) -> None:
    # Unconditioned, projectIamAdmin could grant itself roles/owner.
    expression = DOC["roles"]["roles/resourcemanager.projectIamAdmin"]["condition"]["expression"]
    allowed = set(re.findall(r"'(roles/[^']+)'", expression))
    granted = {r.inputs["role"] for r in prod.of_type("gcp:projects/iAMMember:IAMMember")}
    assert granted <= allowed
    # Stacks made before the node role existed hold these two grants; the upgrade's `up` removes
    # them, and a removal is a modified grant the condition must admit.
    assert allowed - granted == {"roles/logging.logWriter", "roles/monitoring.metricWriter"}
