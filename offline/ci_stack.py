"""Whether CI may deploy, preview or refresh a stack, read from its stack file through the config model.

A stack whose `serving.cluster` is `kubeconfig` (dev, on kind) puts its Kubernetes objects on a
cluster that lives on someone's machine. A GitHub-hosted runner can't reach it, and one Pulumi
program can't be half deployed (its Kubernetes provider would fail the whole update), so CI
leaves that stack alone and says so; it is deployed from the machine that has the cluster.
Every other stack's cluster is one the program builds (GKE, reached through its DNS endpoint).

    python -m offline.ci_stack --stack dev

prints one line. In GitHub Actions it also writes `deploy=true|false` to $GITHUB_OUTPUT, and
for a skipped stack a `::notice::` and a line in the job summary. It exits 0 either way; a stack
file that is not valid config exits 2 with the config problems.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from components.config import PROJECT, SCALAR_KEYS, SECTIONS, ConfigError, StackConfig
from offline.engine import stack_config


@dataclass(frozen=True)
class CiDecision:
    stack: str
    deploy: bool
    reason: str


def load(stack: str) -> StackConfig:
    """The stack file's config, validated by the same model `pulumi up` uses."""
    config = stack_config(stack)
    raw: dict[str, object] = {key: config[f"{PROJECT}:{key}"] for key in SCALAR_KEYS if f"{PROJECT}:{key}" in config}
    raw |= {section: json.loads(config[f"{PROJECT}:{section}"]) for section in SECTIONS if f"{PROJECT}:{section}" in config}
    return StackConfig.parse(
        raw,
        project=PROJECT,
        stack=stack,
        aws_region=config.get("aws:region"),
        kubernetes_context=config.get("kubernetes:context"),
    )


def decide(cfg: StackConfig) -> CiDecision:
    if cfg.serving.cluster == "kubeconfig":
        return CiDecision(
            cfg.stack,
            False,
            f"stack {cfg.stack} is not deployed, previewed or refreshed from CI: serving.cluster is kubeconfig, "
            "a cluster a hosted runner can't reach. Run pulumi from the machine that has the cluster "
            "(README, Continuous integration).",
        )
    return CiDecision(cfg.stack, True, f"stack {cfg.stack} runs from CI: its {cfg.serving.cluster} cluster is built by the program")


def report(decision: CiDecision, env: dict[str, str]) -> list[str]:
    """Print the decision; in GitHub Actions, also set the step output and the job summary."""
    lines = [decision.reason if decision.deploy else f"::notice title=CI skips {decision.stack}::{decision.reason}"]
    if output := env.get("GITHUB_OUTPUT"):
        with Path(output).open("a") as handle:
            handle.write(f"deploy={'true' if decision.deploy else 'false'}\n")
    if (summary := env.get("GITHUB_STEP_SUMMARY")) and not decision.deploy:
        with Path(summary).open("a") as handle:
            handle.write(f"**Skipped:** {decision.reason}\n")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    try:
        decision = decide(load(args.stack))
    except ConfigError as error:
        print(f"stacks/Pulumi.{args.stack}.yaml is not valid config:\n" + "\n".join(error.problems), file=sys.stderr)
        return 2
    print("\n".join(report(decision, dict(os.environ))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
