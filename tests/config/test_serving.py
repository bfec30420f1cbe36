"""The serving section: only the cluster the projects' servers run on (their settings are per project)."""

from __future__ import annotations

from tests.config.support import parse, problems


def test_serving_runs_on_the_kubeconfig_cluster_unless_told() -> None:
    assert parse().serving.cluster == "kubeconfig"


def test_serving_holds_no_model_settings_any_more() -> None:
    # They moved under projects.<name>.serve: the old key gets the line that says so, not "unknown key".
    assert problems(serving={"cpu": 1}) == [
        'mlops:serving.cpu: moved under mlops:projects.<name>.serve / .train (README "Projects"); e.g. mlops:projects: '
        "{iris: {train: {source: images/train, ...}, serve: {minReplicas: 1, ...}}}"
    ]
