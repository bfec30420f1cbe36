"""offline/review.py: `make diff` from the two sides to the report, with the policy pack's rules.

Two tests build two commits in a scratch git repository and run the whole pipeline, BASE
extracted with git archive and each side rendered in its own process.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from offline.diff import StackRun
from offline.engine import Recording
from offline.git_base import extract
from offline.review import build_report
from offline.sides import render_sides
from tests.review_support import BASE, FakeViolation, actions_of, diff_between, git_in, program_copy, side
from tests.support import RunWith


def test_a_secret_change_shows_as_changed_with_no_value(dev: Recording) -> None:
    image = dev.get("docker-build:index:Image", "images-train")
    secret = dict(image.inputs["registries"])
    secret["value"] = [{**secret["value"][0], "password": "rotated-token-value"}]
    head = Recording(resources=[dataclasses.replace(r, inputs={**r.inputs, "registries": secret}) if r is image else r for r in dev.resources])
    diff = diff_between("dev", dev, head)
    (change,) = diff.changes
    (prop,) = change.properties
    assert prop.secret and prop.old is None and prop.new is None
    markdown, document, _ = build_report({"dev": side(dev, "dev")}, {"dev": side(head, "dev")}, BASE)
    for text in (markdown, document):
        assert "rotated-token-value" not in text and "mock-registry-token" not in text
    assert "`registries`: changed (secret, value not shown)" in markdown


def test_a_base_whose_config_fails_is_reported_not_raised(dev: Recording) -> None:
    failed = StackRun("dev", None, 'mlops:environment: "qa" is invalid')
    markdown, document, (diff,) = build_report({"dev": failed}, {"dev": side(dev, "dev")}, BASE)
    assert diff.status == "failed"
    assert 'failed at BASE: mlops:environment: "qa" is invalid' in markdown
    report = json.loads(document)
    assert report["labels"] == ["stack-failed"]
    assert report["stacks"]["dev"]["counts"] is None
    assert report["stacks"]["dev"]["errors"] == {"base": 'mlops:environment: "qa" is invalid'}


def test_a_stack_only_at_head_is_all_create(dev: Recording) -> None:
    markdown, document, (diff,) = build_report({}, {"dev": side(dev, "dev")}, BASE)
    assert diff.status == "added"
    assert set(actions_of(diff).values()) == {"create"}
    assert "new stack (all create)" in markdown


def test_policy_results_are_rendered_when_given(dev: Recording) -> None:
    def evaluate(resources: Any, environment: str) -> list[FakeViolation]:
        bucket = next(r for r in resources if r.type == "aws:s3/bucket:Bucket")
        return [FakeViolation("bucket-protected", "mandatory", bucket.urn, f"{environment}: not protected")]

    markdown, document, _ = build_report({"dev": side(dev, "dev")}, {"dev": side(dev, "dev")}, BASE, policy=evaluate)
    assert "**mandatory** `bucket-protected`" in markdown
    report = json.loads(document)
    assert report["stacks"]["dev"]["policy"][0]["rule"] == "bucket-protected"
    assert "policy-violation" in report["labels"]


def test_the_pack_rules_flag_a_prod_change_that_drops_protection(prod: Recording, run_with: RunWith) -> None:
    from offline.review import policy_rules

    unprotected = run_with("prod", **{"mlops:teardown": "true"})
    markdown, document, _ = build_report(
        {"prod": side(prod, "prod")}, {"prod": side(unprotected, "prod")}, BASE, policy=policy_rules
    )
    report = json.loads(document)
    assert {v["rule"] for v in report["stacks"]["prod"]["policy"]} == {"prod-data-protected", "gke-prod-deletion-protection"}
    assert "**mandatory** `prod-data-protected`" in markdown
    assert "policy-violation" in report["labels"]


def test_the_pack_rules_find_nothing_in_the_stack_files(dev: Recording, prod: Recording) -> None:
    from offline.review import policy_rules

    assert [v for v in policy_rules(dev.resources, "dev") + policy_rules(prod.resources, "prod") if v.severity == "mandatory"] == []


def test_a_stack_with_no_environment_is_checked_as_no_environment(prod: Recording) -> None:
    # The policy pack's prod rules key on the environment; a stack file without one must not pass as
    # some other environment.
    seen: list[str] = []

    def policy(resources: Any, environment: str) -> list[Any]:
        seen.append(environment)
        return []

    build_report({"qa": StackRun(None, list(prod.resources))}, {"qa": StackRun(None, list(prod.resources))}, BASE, policy=policy)
    assert seen == [""]


# --- two commits, the whole pipeline -------------------------------------------------------

def test_two_commits_unprotecting_prod_and_fixing_a_broken_stack(tmp_path: Path) -> None:
    repo = program_copy(tmp_path / "repo")
    broken = "config:\n  aws:region: us-east-1\n  mlops:environment: qa\n"
    (repo / "stacks" / "Pulumi.qa.yaml").write_text(broken)
    git_in(repo, "init", "-q")
    git_in(repo, "add", "-A")
    git_in(repo, "commit", "-qm", "base")
    main = (repo / "__main__.py").read_text()
    assert "protect_data=cfg.protect_data," in main
    (repo / "__main__.py").write_text(main.replace("protect_data=cfg.protect_data,", "protect_data=False,"))
    (repo / "stacks" / "Pulumi.qa.yaml").write_text(broken.replace("qa", "dev"))
    git_in(repo, "commit", "-qam", "unprotect prod data; fix qa")

    base_root = extract(git_in(repo, "rev-parse", "HEAD~1"), tmp_path / "base", repo=repo)
    base_runs, head_runs = render_sides(base_root, repo)
    markdown, document, diffs = build_report(base_runs, head_runs, BASE)

    by_stack = {d.stack: d for d in diffs}
    assert by_stack["qa"].status == "failed" and "failed at BASE: mlops:environment" in markdown
    prod = by_stack["prod"]
    assert diffs[0].stack == "prod"
    assert prod.danger[0].kind == "protection-change"
    assert all(d.kind == "protection-change" for d in prod.danger)
    assert by_stack["dev"].changes == []
    danger_section = markdown.split("### Danger", 1)[1]
    assert danger_section.lstrip().startswith("- **prod** (prod) · protection-change · `aws:s3/bucket:Bucket` **data**")
    assert set(json.loads(document)["labels"]) == {"protection-change", "stack-failed"}


def test_two_commits_making_prod_public_show_it_first_under_danger(tmp_path: Path) -> None:
    from offline.review import policy_rules

    repo = program_copy(tmp_path / "repo")
    git_in(repo, "init", "-q")
    git_in(repo, "add", "-A")
    git_in(repo, "commit", "-qm", "base")
    stack = repo / "stacks" / "Pulumi.prod.yaml"
    text = stack.read_text()
    assert text.count("publicEndpoint: false") == 1
    stack.write_text(text.replace("publicEndpoint: false", "publicEndpoint: true"))
    git_in(repo, "commit", "-qam", "prod serves the internet")

    base_root = extract(git_in(repo, "rev-parse", "HEAD~1"), tmp_path / "base", repo=repo)
    base_runs, head_runs = render_sides(base_root, repo)
    markdown, document, diffs = build_report(base_runs, head_runs, BASE, policy=policy_rules)

    danger_section = markdown.split("### Danger", 1)[1]
    assert danger_section.lstrip().startswith(
        "- **prod** (prod) · exposure · `kubernetes:core/v1:Service` **serving-iris-service** opens to the internet")
    report = json.loads(document)
    # The program gives a public endpoint its bearer token, so the mandatory rule holds.
    assert report["labels"] == ["prod-exposed"]
    assert [v["rule"] for v in report["stacks"]["prod"]["policy"] if v["severity"] == "mandatory"] == []
