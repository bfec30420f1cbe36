"""offline/policy_check.py: `python -m offline.policy_check` runs the policy rules on a stack's recording."""

from __future__ import annotations

from dataclasses import replace

import pytest

import offline.policy_check as check
from offline.engine import Recording
from policy.rules import Violation, mandatory

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def test_offline_check_takes_the_environment_from_the_stack_file() -> None:
    assert (check.stack_environment("dev"), check.stack_environment("prod")) == ("dev", "prod")
    assert check.stack_environment("prod-aws") == "prod"  # checked with prod's rules


def test_markdown_report_has_one_row_per_violation() -> None:
    violations = [Violation("s3-tls-only", "mandatory", "urn:pulumi:prod::mlops::aws:s3/bucketPolicy:BucketPolicy::data-policy", "a|b")]
    table = check.markdown(violations)
    assert table.splitlines()[2] == "| `s3-tls-only` | mandatory | `data-policy` | a\\|b |"
    assert check.markdown([]) == "No policy violations.\n"


def test_offline_check_runs_the_rules_with_the_stack_environment(monkeypatch: pytest.MonkeyPatch, prod: Recording) -> None:
    # prod's rules (protection, deletion protection) only hold when the check knows the stack is prod.
    data = prod.get(BUCKET, "data")
    unprotected = Recording(resources=[replace(r, protect=False) if r is data else r for r in prod.resources])
    monkeypatch.setattr(check, "run_stack", lambda stack: unprotected)
    assert [(v.rule, v.urn) for v in mandatory(check.check_stack("prod"))] == [("prod-data-protected", data.urn)]


def test_a_stack_without_an_environment_is_checked_as_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "stack_config", lambda stack: {"aws:region": "us-east-1"})
    assert check.stack_environment("prod") == "prod"


def test_offline_check_exits_1_on_a_mandatory_violation_and_0_on_advisories(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `pulumi preview --policy-pack` fails on a mandatory rule only; the offline check must agree.
    urn = f"urn:pulumi:dev::mlops::{SSE}::data-sse"
    found = {"dev": [Violation("s3-bucket-key", "advisory", urn, "no bucket key")],
             "prod": [Violation("s3-encryption", "mandatory", urn, "no rule"), Violation("s3-bucket-key", "advisory", urn, "no key")]}
    monkeypatch.setattr(check, "check_stack", lambda stack: found[stack])
    assert check.main([]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "advisory  s3-bucket-key                    data-sse: no bucket key", "dev: 1 violation(s), 0 mandatory"]
    assert check.main(["--stack", "prod"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "prod: 2 violation(s), 1 mandatory"


def test_the_markdown_report_has_a_header_and_names_a_stack_violation() -> None:
    table = check.markdown([Violation("s3-bucket-guarded", "mandatory", "", "x")])
    assert table == "| rule | severity | resource | message |\n| --- | --- | --- | --- |\n| `s3-bucket-guarded` | mandatory | `(stack)` | x |\n"
