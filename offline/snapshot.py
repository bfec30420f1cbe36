"""Run every stack of one checkout under *this* checkout's engine; print the recordings as JSON.

    python offline/snapshot.py ROOT

`make diff` runs this once per side, each in its own process so that the two sides'
`components` packages never share a module cache. ROOT (a BASE checkout extracted with
`git archive`, or the working tree) goes first on sys.path so its own `components` are
imported, while the engine is loaded from this file's folder by path: a BASE that predates
a feature of the engine still renders. A stack whose program fails is recorded as failed
with its one-line message, never as a crash.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any


def _load_engine() -> Any:
    path = Path(__file__).resolve().parent / "engine.py"
    spec = importlib.util.spec_from_file_location("_review_engine", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the engine from {path}")
    engine = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = engine  # dataclasses look their module up by name
    spec.loader.exec_module(engine)
    return engine


# Errors whose message is already the one line a user needs, as `make plan` prints it: a
# config problem (`mlops:... is invalid`) and a broken stack file (`file:line:column: problem`).
PLAIN_ERRORS = frozenset({"ConfigError", "StackFileError"})


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    if type(error).__name__ in PLAIN_ERRORS:
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _relative(value: Any, root: str) -> Any:
    """Paths under the checkout as `./...`, so BASE's temporary folder never shows as a change."""
    if isinstance(value, str):
        return "." + value[len(root):] if value.startswith(root) else value
    if isinstance(value, dict):
        return {k: _relative(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v, root) for v in value]
    return value


def snapshot(root: Path) -> dict[str, Any]:
    engine = _load_engine()
    stacks_dir = root / "stacks"
    result: dict[str, Any] = {}
    for stack in engine.stack_names(stacks_dir):
        entry: dict[str, Any] = {"environment": None}
        try:
            config = engine.stack_config(stack, stacks_dir)
            entry["environment"] = config.get("mlops:environment")
            recording = engine.run_program(stack, config, program=root / "__main__.py")
            entry.update(
                ok=True,
                resources=[_relative(dataclasses.asdict(r), str(root)) for r in recording.resources],
                outputs=_relative(recording.outputs, str(root)),
            )
        except (Exception, SystemExit) as error:  # reported per stack; the other stacks still run
            # A path in BASE's temporary folder reads as the user would type it, as at HEAD.
            entry.update(ok=False, error=_one_line(error).replace(f"{root}/", ""))
        result[stack] = entry
    return result


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    sys.path[0] = str(root)
    json.dump(snapshot(root), sys.stdout, default=str, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
