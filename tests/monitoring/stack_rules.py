"""The alert rules of the dev and prod stacks, rendered from their stack files' real configs,
and promtool to check them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.monitoring.alert_rules import AlertRule, ServedProject, rule_group, serving_rules
from components.monitoring_backends import served_projects
from components.project_names import name_prefix
from offline.ci_stack import load

STACKS = ("dev", "prod")


def served(stack: str) -> list[ServedProject]:
    """The stack's served projects, in the namespace the program puts its workloads in."""
    cfg = load(stack)
    return served_projects(cfg, namespace=name_prefix(cfg.project, cfg.stack))


def stack_rules(stack: str) -> list[AlertRule]:
    return [rule for project in served(stack) for rule in serving_rules(project)]


def write_rules_file(path: Path, groups: list[dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=1000))
    return path


def stack_rules_file(stack: str, path: Path) -> Path:
    """Every served project's rule group of the stack, as `promtool check rules` reads it."""
    return write_rules_file(path, [rule_group(project.project, serving_rules(project)) for project in served(stack)])


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """promtool, which `make test` installs (Debian's prometheus package); missing is a failure."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not on PATH: `make test` installs it (apt-get install prometheus)")
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
