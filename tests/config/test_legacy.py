"""The single-model keys from before projects: one line, naming each, that says where they went."""

from __future__ import annotations

from components.config.legacy import moved_line, without_old_keys


def test_no_old_key_leaves_the_config_as_it_is() -> None:
    raw = {"serving": {"cluster": "kubeconfig"}, "projects": {"iris": {}}}
    assert without_old_keys(raw) == (raw, [])


def test_old_serving_keys_and_the_training_section_are_named_in_one_line() -> None:
    raw = {"serving": {"cluster": "gke", "model": "iris", "cpu": 1}, "training": {"gpus": 1, "data": "builtin:iris"}}
    cleaned, lines = without_old_keys(raw)
    assert cleaned == {"serving": {"cluster": "gke"}}
    assert lines == [moved_line(["serving.model", "serving.cpu", "training.gpus", "training.data"])]


def test_an_empty_training_section_is_named_too() -> None:
    assert without_old_keys({"training": {}}) == ({}, [moved_line(["training"])])


def test_the_line_says_where_the_keys_went_with_an_example() -> None:
    assert moved_line(["serving.model", "training.schedule"]) == (
        'mlops:serving.model, training.schedule: moved under mlops:projects.<name>.serve / .train (README "Projects"); '
        "e.g. mlops:projects: {iris: {train: {source: images/train, ...}, serve: {minReplicas: 1, ...}}}"
    )
