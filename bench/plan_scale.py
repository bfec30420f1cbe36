"""How `make plan` grows with the number of projects: time and resources for 1, 10 and 50.

    make bench-plan       (or: .venv/bin/python bench/plan_scale.py [--stack dev] [--counts 1 10 50] [--repeat 3])

Runs the real program under the mock engine (what `make plan` does, without the text
rendering) on the stack file with `mlops:projects` replaced by N copies of its first project,
and prints, per N: the resources registered, the best wall and CPU time of `--repeat` runs,
and the CPU time per resource (CPU time, because other processes on the machine stretch the
wall time but not the CPU time). The plan should grow no faster than the resources it
registers: the last column stays about flat. This is not a test: it prints figures, it
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from offline.engine import run_program, stack_config  # noqa: E402


def projects_like_the_first(stack: str, count: int) -> dict[str, Any]:
    """`count` projects, each a copy of the stack file's first project under its own name."""
    first = next(iter(json.loads(stack_config(stack)["mlops:projects"]).values()))
    return {f"p{index:02d}": first for index in range(count)}


def measure(stack: str, count: int, repeat: int) -> tuple[int, float, float]:
    """(resources registered, best wall seconds, best CPU seconds) of `repeat` runs with `count` projects."""
    config = {**stack_config(stack), "mlops:projects": json.dumps(projects_like_the_first(stack, count))}
    wall = cpu = float("inf")
    resources = 0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        recording = run_program(stack, config)
        wall, cpu = min(wall, time.perf_counter() - started), min(cpu, time.process_time() - started_cpu)
        resources = len(recording.resources)
    return resources, wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--repeat", type=int, default=3, help="runs per count; the best is shown")
    args = parser.parse_args(argv)
    print(f"make plan on stack {args.stack}, best of {args.repeat} runs")
    print(f"{'projects':>8}  {'resources':>9}  {'wall s':>7}  {'CPU s':>7}  {'CPU ms per resource':>19}")
    for count in args.counts:
        resources, wall, cpu = measure(args.stack, count, args.repeat)
        print(f"{count:>8}  {resources:>9}  {wall:>7.2f}  {cpu:>7.2f}  {1000 * cpu / resources:>19.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
