"""Every Kubernetes object a stack registers passes the strict schema and checkov's Kubernetes checks.

A custom resource (ServiceMonitor, PrometheusRule, ...) has no schema in kubernetes-validate: it is
checked against its CRD's (tests/crd_schemas.py), and its metadata as any object's."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from offline.engine import ROOT, Recording
from tests.crd_schemas import custom_resource_problems, known_kinds
from tests.manifests import manifests

# The Kubernetes version whose strict schema (no unknown fields) the objects must meet:
# the newest that kubernetes-validate ships.
KUBERNETES_VERSION = kubernetes_validate.latest_version()
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# The recordings checked: the stack files, dev with the training CronJob, prod with a public
# endpoint (its token Secret, and the server reading it), and prod-aws serving on a GPU (its NodePool).
RUNS = ["dev", "prod", "prod_aws", "dev_cluster_training", "prod_public", "prod_aws_gpu"]

# checkov checks skipped for every object, each with its reason. None is needed today:
# CKV_K8S_15 (imagePullPolicy Always) accepts IfNotPresent for an image pinned by digest.
SKIPPED_CHECKS: dict[str, str] = {}
# Failures accepted on one object only, each with its reason: (check, checkov's resource id).
ACCEPTED_FAILURES: dict[tuple[str, str], str] = {
    ("CKV_K8S_35", "Deployment.mlops-prod.iris-server"): (
        "a public endpoint's bearer token reaches the server as MLOPS_AUTH_TOKEN, the serve image's "
        "contract; it comes from the Secret by secretKeyRef, so it is not in the Deployment's spec, and "
        "the server neither logs its environment nor starts other programs"
    ),
}


def objects(request: pytest.FixtureRequest, run: str) -> list[dict[str, Any]]:
    recording: Recording = request.getfixturevalue(run)
    return manifests(recording)


def schema_problems(manifest: dict[str, Any]) -> list[str]:
    """What the API server would refuse in `manifest`, strictly; a kind no schema knows is a problem."""
    if (manifest["apiVersion"], manifest["kind"]) in known_kinds():
        # The CRD's schema has no metadata: checked as the ObjectMeta of an object that has nothing else.
        only_metadata = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": manifest["metadata"]}
        return custom_resource_problems(manifest) + schema_problems(only_metadata)
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{error.message} at {'.'.join(map(str, error.path))}"]
    except kubernetes_validate.SchemaNotFoundError:
        return ["no schema: a custom resource's CRD schema belongs in tests/data/crds (see SOURCE.txt there)"]
    return []


@pytest.mark.parametrize("run", RUNS)
def test_objects_meet_the_strict_kubernetes_schema(request: pytest.FixtureRequest, run: str) -> None:
    found = objects(request, run)
    assert found, "the stack registers Kubernetes objects"
    problems = {f"{m['kind']}/{m['metadata']['name']}": schema_problems(m) for m in found}
    assert {where: found for where, found in problems.items() if found} == {}


def test_custom_resources_are_checked_against_their_crd_schema(dev: Recording) -> None:
    [monitor] = [m for m in manifests(dev) if m["kind"] == "ServiceMonitor"]
    assert schema_problems(monitor) == []
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    monitor["metadata"]["labelz"] = {}
    assert schema_problems(monitor) == [
        "spec.endpoints.0: Additional properties are not allowed ('intervall' was unexpected)",
        "Additional properties are not allowed ('labelz' was unexpected) at metadata",
    ]


def test_a_kind_with_no_schema_is_a_problem_not_a_pass() -> None:
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
    assert schema_problems(unknown) == [
        "no schema: a custom resource's CRD schema belongs in tests/data/crds (see SOURCE.txt there)"
    ]


def test_strict_schema_catches_an_unknown_field(dev: Recording) -> None:
    # The check above is only worth something if a misspelt field fails it.
    [deployment] = [m for m in manifests(dev) if m["kind"] == "Deployment"]
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module")
def checkov_results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One checkov run over every run's objects, one folder per run."""
    assert CHECKOV.exists(), "checkov missing: `make test` creates .venv-checkov"
    root = tmp_path_factory.mktemp("manifests")
    for run in RUNS:
        folder = root / run
        folder.mkdir()
        for index, manifest in enumerate(objects(request, run)):
            name = f"{index:02d}-{manifest['kind'].lower()}-{manifest['metadata']['name']}.yaml"
            (folder / name).write_text(yaml.safe_dump(manifest, sort_keys=False))
    skips = ["--skip-check", ",".join(SKIPPED_CHECKS)] if SKIPPED_CHECKS else []
    result = subprocess.run(
        [str(CHECKOV), "--framework", "kubernetes", "-d", str(root), *skips, "--skip-download", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    checks: dict[str, list[dict[str, Any]]] = {"passed": [], "failed": []}
    for one in reports:
        for outcome in checks:
            checks[outcome] += one.get("results", {}).get(f"{outcome}_checks", [])
    parsing_errors = sum(one.get("summary", {}).get("parsing_errors", 0) for one in reports)
    return {"root": root, "parsing_errors": parsing_errors, **checks}


def test_checkov_parsed_every_object(checkov_results: dict[str, Any]) -> None:
    # A file checkov cannot parse (a custom resource's Go templates, say) is skipped, not failed.
    assert checkov_results["parsing_errors"] == 0


def _in_run(checks: list[dict[str, Any]], root: Path, run: str) -> list[dict[str, Any]]:
    prefix = f"/{run}/"
    return [c for c in checks if c["file_path"].startswith(prefix) or c["file_abs_path"].startswith(str(root / run) + "/")]


@pytest.mark.parametrize("run", RUNS)
def test_checkov_kubernetes_checks_pass(checkov_results: dict[str, Any], run: str) -> None:
    root = checkov_results["root"]
    failed = _in_run(checkov_results["failed"], root, run)
    unaccepted = [c for c in failed if (c["check_id"], c["resource"]) not in ACCEPTED_FAILURES]
    assert [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in unaccepted] == []


def test_each_accepted_failure_happens_only_where_accepted(checkov_results: dict[str, Any]) -> None:
    # An acceptance that no longer matches a failure would hide the next one of that check.
    failed = {(c["check_id"], c["resource"]) for c in _in_run(checkov_results["failed"], checkov_results["root"], "prod_public")}
    assert failed == set(ACCEPTED_FAILURES)
    for run in ("dev", "prod", "prod_aws", "dev_cluster_training", "prod_aws_gpu"):
        assert _in_run(checkov_results["failed"], checkov_results["root"], run) == []


@pytest.mark.parametrize("run", RUNS)
def test_checkov_really_checked_the_objects(checkov_results: dict[str, Any], run: str) -> None:
    passed = _in_run(checkov_results["passed"], checkov_results["root"], run)
    assert len(passed) > 50, "checkov ran its Kubernetes checks on the objects"
    # Among them: no privilege escalation, read-only root, NET_RAW and all capabilities
    # dropped, image by digest, seccomp, no token, and the namespace's NetworkPolicy.
    expected = {"CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_43", "CKV_K8S_31", "CKV_K8S_38", "CKV2_K8S_6"}
    assert expected <= {c["check_id"] for c in passed}


def test_every_skipped_check_states_its_reason() -> None:
    for check, reason in [*SKIPPED_CHECKS.items(), *((check, reason) for (check, _), reason in ACCEPTED_FAILURES.items())]:
        assert check.startswith("CKV"), check
        assert len(reason) > 40, f"{check}: say why it is skipped"
