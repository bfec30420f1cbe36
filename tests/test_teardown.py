"""`make teardown`: the two-step teardown script, run against a stand-in `pulumi` that records calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from offline.engine import ROOT

SCRIPT = ROOT / "scripts" / "teardown.sh"


FAKE_PULUMI = """#!{python}
# A stand-in pulumi: logs each call (with PULUMI_K8S_DELETE_UNREACHABLE when set) and keeps the
# stack config, as the CLI does, in a file that outlives the run.
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
env = os.environ.get("PULUMI_K8S_DELETE_UNREACHABLE")
with open({calls!r}, "a") as calls:
    calls.write((f"PULUMI_K8S_DELETE_UNREACHABLE={{env}} " if env else "") + " ".join(args) + "\\n")
store = Path({config!r})
config = json.loads(store.read_text())
if args[0] == {failing!r}:
    sys.exit(1)
if args[0] == "config":
    verb, rest = args[1], [a for a in args[2:] if a != "--path"]
    key = rest[rest.index("--stack") + 2]
    if verb == "set":
        config[key] = rest[rest.index("--stack") + 3]
    elif verb == "rm":
        config.pop(key, None)
    elif key in config:
        print(config[key])
    else:
        sys.exit(1)  # the CLI: "configuration key ... not found"
    store.write_text(json.dumps(config))
"""


def run_teardown(
    tmp_path: Path,
    *args: str,
    answers: str = "",
    env: dict[str, str] | None = None,
    failing: str = "",
    config: dict[str, str] | None = None,
) -> tuple[int, list[str]]:
    """Run the script with a fake pulumi on PATH; return its exit code and the pulumi calls.

    The stack config (`config` seeds it) persists across runs in the same `tmp_path`, so a
    second run sees what the first left behind. `failing` names a command that fails.
    """
    calls, store = tmp_path / "calls", tmp_path / "config.json"
    if config is not None or not store.exists():
        store.write_text(json.dumps(config or {}))
    calls.unlink(missing_ok=True)
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE_PULUMI.format(python=sys.executable, calls=str(calls), config=str(store), failing=failing))
    fake.chmod(0o755)
    clean = {k: v for k, v in os.environ.items() if k != "PULUMI_K8S_DELETE_UNREACHABLE"}
    result = subprocess.run(
        ["bash", str(SCRIPT), *args],
        input=answers,
        capture_output=True,
        text=True,
        timeout=30,
        env={**clean, "PATH": f"{fake.parent}:{os.environ['PATH']}", **(env or {})},
        check=False,
    )
    return result.returncode, calls.read_text().splitlines() if calls.exists() else []


PROD = {"mlops:serving.cluster": "gke"}
DEV = {"mlops:serving.cluster": "kubeconfig"}


def test_teardown_lifts_protection_then_destroys(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", answers="prod\nprod\n", config=PROD)
    assert code == 0
    assert calls == [
        "config get --stack prod mlops:teardown",
        "config set --stack prod mlops:teardown true",
        "up --stack prod",
        "config get --stack prod --path mlops:serving.cluster",
        "destroy --stack prod",
        "config rm --stack prod mlops:teardown",
    ]


def test_teardown_changes_nothing_unless_the_name_is_typed_twice(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", answers="prod\nprdo\n")
    assert code == 1
    assert calls == []


def test_teardown_with_explicit_confirmation_does_not_prompt(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"}, config=PROD)
    assert code == 0
    assert [c for c in calls if c.startswith(("up", "destroy"))] == ["up --stack prod --yes", "destroy --stack prod --yes"]


def test_confirmation_for_another_stack_does_not_count(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "dev"})  # no answers on stdin
    assert code != 0
    assert calls == []


def test_teardown_stops_when_the_unprotecting_up_fails(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", answers="prod\nprod\n", failing="up", config=PROD)
    assert code != 0
    assert calls[-3:] == [
        "config set --stack prod mlops:teardown true",
        "up --stack prod",
        "config rm --stack prod mlops:teardown",  # nothing was deleted: the next run starts over
    ]
    assert "destroy --stack prod" not in calls


def test_a_teardown_resumed_after_a_failed_up_lifts_protection_again(tmp_path: Path) -> None:
    # Step 1 did not finish, so protection may still be on: the resumed run must redo it.
    run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"}, failing="up", config=PROD)
    code, calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"})
    assert code == 0
    assert [c for c in calls if c.startswith(("up", "destroy"))] == ["up --stack prod --yes", "destroy --stack prod --yes"]


def test_a_teardown_resumed_after_a_failed_destroy_only_destroys(tmp_path: Path) -> None:
    # An `up` now would recreate, empty, what the failed destroy had already deleted.
    first, _ = run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"}, failing="destroy", config=PROD)
    assert first != 0
    code, calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"})
    assert code == 0
    assert calls == [
        "config get --stack prod mlops:teardown",
        "config get --stack prod --path mlops:serving.cluster",
        "destroy --stack prod --yes",
        "config rm --stack prod mlops:teardown",
    ]


def test_a_failed_destroy_keeps_the_teardown_key_for_the_resume(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"}, failing="destroy", config=PROD)
    assert code != 0
    assert calls[-1] == "destroy --stack prod --yes"
    assert json.loads((tmp_path / "config.json").read_text())["mlops:teardown"] == "true"


# --- a kubeconfig cluster that is gone ---------------------------------------------------


def test_destroy_of_a_kubeconfig_stack_drops_objects_of_an_unreachable_cluster(tmp_path: Path) -> None:
    # A deleted kind cluster took its objects with it; without this, destroy stops at the first.
    code, calls = run_teardown(tmp_path, "dev", env={"CONFIRM": "dev"}, config=DEV)
    assert code == 0
    assert "PULUMI_K8S_DELETE_UNREACHABLE=true destroy --stack dev --yes" in calls


def test_kubeconfig_is_the_default_cluster(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "dev", env={"CONFIRM": "dev"}, config={})
    assert code == 0
    assert "PULUMI_K8S_DELETE_UNREACHABLE=true destroy --stack dev --yes" in calls


def test_only_the_destroy_of_a_kubeconfig_stack_drops_unreachable_objects(tmp_path: Path) -> None:
    # On GKE an unreachable control plane is an outage or a network rule, not a cluster that is
    # gone: dropping its LoadBalancer Service from state would leak the cloud load balancer.
    # And on the `up` of any stack, a passing outage would drop live objects from state.
    (tmp_path / "dev").mkdir()
    _, dev_calls = run_teardown(tmp_path / "dev", "dev", env={"CONFIRM": "dev"}, config=DEV)
    _, prod_calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"}, config=PROD)
    assert [c for c in dev_calls if "UNREACHABLE" in c] == ["PULUMI_K8S_DELETE_UNREACHABLE=true destroy --stack dev --yes"]
    assert [c for c in prod_calls if "UNREACHABLE" in c] == []


@pytest.mark.parametrize("args", [[], [""]])
def test_teardown_needs_a_stack_name(tmp_path: Path, args: list[str]) -> None:
    code, calls = run_teardown(tmp_path, *args)
    assert code == 2
    assert calls == []


def test_an_eks_stack_is_torn_down_in_two_steps_and_never_drops_unreachable_objects(tmp_path: Path) -> None:
    # EKS's API server out of reach is a network rule (publicAccessCidrs) or an outage: dropping
    # its NLB Services from state would leave the load balancers running. Step 1 lifts the
    # cluster's deletion protection as it lifts the buckets'.
    code, calls = run_teardown(tmp_path, "prod-aws", env={"CONFIRM": "prod-aws"}, config={"mlops:serving.cluster": "eks"})
    assert code == 0
    assert [c for c in calls if c.startswith(("up", "destroy"))] == ["up --stack prod-aws --yes", "destroy --stack prod-aws --yes"]
    assert [c for c in calls if "UNREACHABLE" in c] == []
