"""offline/ci_stack.py: which stacks CI deploys, previews and refreshes, read from the stack files."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import StackConfig
import offline.ci_stack as ci_stack
from offline.ci_stack import CiDecision, decide, load, main, report


def prod_with_cluster(cluster: str) -> StackConfig:
    """prod as in its stack file with only serving.cluster changed (decide() reads nothing else)."""
    cfg = load("prod")
    return cfg.model_copy(update={"serving": cfg.serving.model_copy(update={"cluster": cluster})})


def test_dev_on_its_local_cluster_is_not_deployed_from_ci() -> None:
    # A hosted runner can't reach kind on a laptop; one Pulumi program can't be half deployed.
    assert decide(load("dev")).deploy is False


def test_prod_on_gke_is_deployed_from_ci() -> None:
    assert decide(load("prod")) == CiDecision(
        "prod", True, "stack prod runs from CI: its gke cluster is built by the program"
    )


def test_the_decision_follows_serving_cluster_not_the_stack_name() -> None:
    assert (decide(prod_with_cluster("kubeconfig")).deploy, decide(prod_with_cluster("gke")).deploy) == (False, True)


def test_a_skipped_stack_says_why_as_a_notice_and_in_the_summary(tmp_path: Path) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary"
    decision = decide(load("dev"))
    [line] = report(decision, {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)})
    reason = (
        "stack dev is not deployed, previewed or refreshed from CI: serving.cluster is kubeconfig, a cluster a "
        "hosted runner can't reach. Run pulumi from the machine that has the cluster (README, Continuous integration)."
    )
    assert line == f"::notice title=CI skips dev::{reason}"
    assert output.read_text() == "deploy=false\n"
    assert summary.read_text() == f"**Skipped:** {reason}\n"


def test_a_deployable_stack_sets_the_output_and_leaves_the_summary_alone(tmp_path: Path) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary"
    report(decide(load("prod")), {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)})
    assert (output.read_text(), summary.exists()) == ("deploy=true\n", False)


def test_skipping_is_not_a_failure(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    assert main(["--stack", "dev"]) == 0
    assert capsys.readouterr().out.startswith("::notice title=CI skips dev::")


def test_an_invalid_stack_file_fails_the_step(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Never a silent skip: a typo in serving.cluster must not turn off a stack's deploys.
    broken = {"aws:region": "us-east-1", "mlops:environment": "dev", "mlops:serving": '{"cluster": "kubeconfg"}'}
    monkeypatch.setattr(ci_stack, "stack_config", lambda stack: broken)
    assert main(["--stack", "dev"]) == 2
    assert "serving.cluster" in capsys.readouterr().err


def test_load_reads_the_provider_settings_as_pulumi_up_does(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same model `pulumi up` builds: a context or region check that refuses the stack refuses it here too.
    config = {"aws:region": "eu-west-1", "kubernetes:context": "kind-mlops", "mlops:environment": "dev",
              "mlops:serving": '{"cluster": "kubeconfig"}', "mlops:monitoring": '{"budget": {"monthlyUsd": 10}}'}
    monkeypatch.setattr(ci_stack, "stack_config", lambda stack: config)
    cfg = load("dev")
    assert (cfg.stack, cfg.aws_region, cfg.kubernetes_context, cfg.serving.cluster) == ("dev", "eu-west-1", "kind-mlops", "kubeconfig")


def test_a_deployable_stack_prints_its_reason_and_exits_0(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert main(["--stack", "prod"]) == 0
    assert capsys.readouterr().out == "stack prod runs from CI: its gke cluster is built by the program\n"


def test_a_skipped_stack_outside_github_actions_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert report(decide(load("dev")), {})[0].startswith("::notice title=CI skips dev::") and list(tmp_path.iterdir()) == []


def test_the_step_output_and_summary_are_appended_not_overwritten(tmp_path: Path) -> None:
    # GitHub gives one file for the whole job: other steps' outputs are in it already.
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("earlier=1\n")
    summary.write_text("# Deploy\n")
    report(decide(load("dev")), {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)})
    assert (output.read_text(), summary.read_text().splitlines()[0]) == ("earlier=1\ndeploy=false\n", "# Deploy")


def test_an_invalid_stack_file_names_the_file_and_each_problem(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    broken = {"aws:region": "us-east-1", "mlops:environment": "qa", "mlops:serving": '{"cluster": "kubeconfg"}'}
    monkeypatch.setattr(ci_stack, "stack_config", lambda stack: broken)
    assert main(["--stack", "dev"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "stacks/Pulumi.dev.yaml is not valid config:" and len(err) == 3


def test_the_stack_is_required() -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
