"""offline/snapshot.py: one side of `make diff`, every stack of a checkout as JSON, failures as one line."""

from __future__ import annotations

from pathlib import Path

from offline.snapshot import snapshot

TINY_PROGRAM = (
    "import pulumi, pulumi_aws as aws\n"
    "ROOT = __file__.rsplit('/', 1)[0]\n"
    "aws.s3.Bucket('b', bucket='kept', tags={'source': ROOT + '/data/x.csv'})\n"
    "pulumi.export('source', ROOT + '/data/x.csv')\n"
)


def _checkout(root: Path, stacks: dict[str, str], program: str = TINY_PROGRAM) -> Path:
    (root / "stacks").mkdir(parents=True)
    for name, text in stacks.items():
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    (root / "__main__.py").write_text(program)
    return root


def test_a_broken_stack_file_is_its_one_line_as_make_plan_prints_it(tmp_path: Path) -> None:
    # `make diff` printed "StackFileError: stacks/...": the reader needs the file and position, not a class name.
    root = _checkout(tmp_path / "base", {"qa": "config:\n  aws:region: us-east-1\n\tmlops:environment: dev\n"})
    assert snapshot(root) == {"qa": {
        "environment": None, "ok": False,
        "error": "stacks/Pulumi.qa.yaml:3:1: a tab character: YAML indents with spaces only",
    }}


def test_a_stack_file_without_config_is_its_one_line(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "base", {"qa": "encryptionsalt: x\n"})
    assert snapshot(root)["qa"]["error"] == "stacks/Pulumi.qa.yaml: needs a `config:` mapping of settings"


def test_a_program_crash_names_the_exception_and_its_first_line(tmp_path: Path) -> None:
    # Anything but a config or stack-file problem is a bug: its type tells the reviewer which.
    root = _checkout(tmp_path / "base", {"dev": "config:\n  mlops:environment: dev\n"},
                     program="raise KeyError('training')\n")
    assert snapshot(root)["dev"] == {"environment": "dev", "ok": False, "error": "KeyError: 'training'"}


def test_a_program_exit_without_a_message_is_the_exception_name(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "base", {"dev": "config:\n  mlops:environment: dev\n"}, program="raise SystemExit()\n")
    assert snapshot(root)["dev"]["error"] == "SystemExit"


def test_each_stack_is_rendered_and_a_failing_one_does_not_stop_the_others(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "base", {"dev": "config:\n  mlops:environment: dev\n", "qa": "config: 1\n"})
    result = snapshot(root)
    assert (sorted(result), result["dev"]["ok"], result["qa"]["ok"]) == (["dev", "qa"], True, False)


def test_paths_under_the_checkout_read_the_same_on_both_sides(tmp_path: Path) -> None:
    # BASE is extracted into a temporary folder; without this every path input shows as a change.
    root = _checkout(tmp_path / "base", {"dev": "config:\n  mlops:environment: dev\n"})
    entry = snapshot(root)["dev"]
    (bucket,) = [r for r in entry["resources"] if r["type"] == "aws:s3/bucket:Bucket"]
    assert (bucket["inputs"]["tags"], entry["outputs"]) == ({"source": "./data/x.csv"}, {"source": "./data/x.csv"})


def test_a_config_problem_is_its_one_line_as_make_plan_prints_it(tmp_path: Path) -> None:
    # The reviewer reads `mlops:... is invalid`, the same words `pulumi up` prints, with no class name.
    program = "from components.config import ConfigError\nraise ConfigError(['mlops:environment: \"qa\" is invalid'])\n"
    root = _checkout(tmp_path / "base", {"dev": "config:\n  mlops:environment: qa\n"}, program=program)
    assert snapshot(root)["dev"]["error"] == 'mlops:environment: "qa" is invalid'
