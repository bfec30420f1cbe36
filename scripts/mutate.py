"""Mutation testing: make one-line mutants of the program's own code and run the suite on each.

    make mutate [SEED=1] [MINUTES=20] [JOBS=2] [ONLY=components/batch/job.py]

A mutant is one small, deliberate bug. The suite should fail on it ("killed"); a mutant
the suite passes ("survived") marks a setting or a branch no test pins down.

Operators (each mutant applies exactly one):
- literals: an int n becomes n + 1 (0 becomes 1), a float doubles (0.0 becomes 1.0), a
  string s becomes "XX" + s + "XX", True and False swap;
- comparisons: == and != swap, < and <= swap, > and >= swap, in and not in swap, is and
  is not swap;
- boolean operators: and and or swap, `not x` becomes `x`;
- dropping one item from a list, tuple or set display;
- dropping one keyword argument from a call.

Covered: components/, policy/ and offline/. Left out: docstrings, comments (ast never sees
them), annotations, and message text: strings inside a `raise`, an `assert` message,
f-strings, calls that print or log, `description=`/`help=`/`reason=`/`message=` arguments, and
prose anywhere (a string of four or more words, three quarters of them plain words: a rule's
description, a report's sentence; a command line such as `aws batch describe-jobs --region` is
not prose and is mutated).

Each mutant runs, in a copy of the tree, the test files that can reach its module: those that
import it (directly or through other modules of the repo), every test that runs the program
under the mock engine when the module is part of the program, and any test that names the
module's path. The module's own test file runs first and the run stops at the first failure.

Mutants are sampled with a seed (a shuffled, reproducible order) and started until the time
budget is spent. Survivors that cannot change behaviour are listed with their reason in
scripts/mutants-equivalent.json; they are reported apart and left out of the score.
A mutant whose run exceeds its timeout counts as killed (the suite did not pass).
"""

from __future__ import annotations

import argparse
import ast
import bisect
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COVERED = ("components", "policy", "offline")
EQUIVALENTS = ROOT / "scripts" / "mutants-equivalent.json"
PROGRAM_FIXTURES = {"dev", "prod", "prod_on_aws", "dev_cluster_training", "run_with"}
PROGRAM_CALLS = {"run_stack", "run_program", "getfixturevalue"}
MESSAGE_KWARGS = {"description", "help", "reason", "message", "msg", "title"}
MESSAGE_CALLS = {"print", "warn", "info", "debug", "error", "warning", "exception", "write", "echo"}
COMPARE_SWAPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "!=", ast.NotEq: "==", ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">",
    ast.In: "not in", ast.NotIn: "in", ast.Is: "is not", ast.IsNot: "is",
}


@dataclass(frozen=True)
class Mutant:
    path: str
    """The file, relative to the repo root."""
    line: int
    operator: str
    """literal, compare, boolean, drop-item or drop-keyword."""
    description: str
    """What changes, e.g. `600 -> 601`."""
    start: tuple[int, int]
    end: tuple[int, int]
    replacement: str
    source_line: str
    """The original line, stripped: how scripts/mutants-equivalent.json names a mutant."""

    @property
    def key(self) -> str:
        return f"{self.path}:{self.line}:{self.operator}:{self.description}"

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        offsets = [0]
        for text in lines:
            offsets.append(offsets[-1] + len(text))

        def index(pos: tuple[int, int]) -> int:
            line, col = pos
            return offsets[line - 1] + len(lines[line - 1].encode()[:col].decode())

        return source[: index(self.start)] + self.replacement + source[index(self.end) :]


# ---------------------------------------------------------------------------------------
# Finding mutation sites


def _message_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes whose strings are message text, docstrings or annotations."""
    skipped: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(child) for child in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip(body[0])
            # A bare string after an assignment is an attribute docstring.
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    skip(stmt)
        if isinstance(node, ast.Raise):
            skip(node.exc)
        elif isinstance(node, ast.Assert):
            skip(node.msg)
        elif isinstance(node, ast.JoinedStr):
            skip(node)
        elif isinstance(node, (ast.AnnAssign, ast.arg)):
            skip(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip(node.returns)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in MESSAGE_CALLS:
                for arg in node.args:
                    skip(arg)
            for keyword in node.keywords:
                if keyword.arg in MESSAGE_KWARGS:
                    skip(keyword.value)
        elif isinstance(node, ast.If) and _is_main_guard(node.test):
            skip(node)
    return skipped


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


def _pos(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    return (node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0)  # type: ignore[attr-defined]


def _literal(node: ast.Constant) -> tuple[str, str] | None:
    """(replacement source, description) for a literal, or None for one left alone."""
    value = node.value
    if isinstance(value, bool):
        return repr(not value), f"{value} -> {not value}"
    if isinstance(value, int):
        new = 1 if value == 0 else value + 1
        return repr(new), f"{value} -> {new}"
    if isinstance(value, float):
        new = 1.0 if value == 0 else value * 2
        return repr(new), f"{value} -> {new}"
    if isinstance(value, str):
        if _is_prose(value):
            return None
        new = "XX" + value + "XX"
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(new), f"{shown!r} -> 'XX..XX'"
    return None


def _is_prose(text: str) -> bool:
    words = text.split()
    plain = sum(word.strip(".,;:()'\"!?").isalpha() for word in words)
    return len(words) >= 4 and plain >= 0.75 * len(words)


def _operator_token(tokens: list[tokenize.TokenInfo], after: tuple[int, int], before: tuple[int, int], words: set[str]) -> tuple[tokenize.TokenInfo, ...] | None:
    """The operator tokens (one, or two for `not in` / `is not`) between two operands."""
    first = bisect.bisect_left(tokens, after, key=lambda t: t.start)
    between = []
    for token in tokens[first:]:
        if token.end > before:
            break
        if token.type in (tokenize.OP, tokenize.NAME):
            between.append(token)
    between = [t for t in between if t.string not in ("(", ")")]
    if not between or between[0].string not in words:
        return None
    if len(between) >= 2 and (between[0].string, between[1].string) in (("not", "in"), ("is", "not")):
        return (between[0], between[1])
    return (between[0],)


def find_mutants(path: Path, root: Path = ROOT) -> list[Mutant]:
    source = path.read_text()
    tree = ast.parse(source)
    tokens = _tokens(source)
    skipped = _message_nodes(tree)
    lines = source.splitlines()
    rel = path.relative_to(root).as_posix()
    found: list[Mutant] = []

    def add(node: ast.AST, operator: str, description: str, start: tuple[int, int], end: tuple[int, int], replacement: str) -> None:
        line = start[0]
        found.append(Mutant(rel, line, operator, description, start, end, replacement, lines[line - 1].strip()))

    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant):
            literal = _literal(node)
            if literal is not None:
                start, end = _pos(node)
                add(node, "literal", literal[1], start, end, literal[0])
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                words = {"==", "!=", "<", "<=", ">", ">=", "in", "not", "is"}
                op_tokens = _operator_token(tokens, _pos(left)[1], _pos(right)[0], words)
                if op_tokens is not None and type(op) in COMPARE_SWAPS:
                    old = " ".join(t.string for t in op_tokens)
                    new = COMPARE_SWAPS[type(op)]
                    add(node, "compare", f"{old} -> {new}", op_tokens[0].start, op_tokens[-1].end, new)
                left = right
        elif isinstance(node, ast.BoolOp):
            new = "or" if isinstance(node.op, ast.And) else "and"
            for left, right in zip(node.values, node.values[1:]):
                op_tokens = _operator_token(tokens, _pos(left)[1], _pos(right)[0], {"and", "or"})
                if op_tokens is not None:
                    add(node, "boolean", f"{op_tokens[0].string} -> {new}", op_tokens[0].start, op_tokens[0].end, new)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            start, _ = _pos(node)
            following = bisect.bisect_right(tokens, start, key=lambda t: t.start)  # the token after `not`
            add(node, "boolean", "not x -> x", start, tokens[following].start, "")
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts:
            if isinstance(node, ast.Tuple) and not _is_display(node, tokens):
                continue
            starred = sum(isinstance(e, ast.Starred) for e in node.elts)
            for i, element in enumerate(node.elts):
                if isinstance(node, ast.Tuple) and len(node.elts) == 2 and starred and not isinstance(element, ast.Starred):
                    continue  # `(*a)` is not Python
                if isinstance(node, ast.Tuple) and len(node.elts) == 2 and starred == 2:
                    continue
                start, end = _removal_span(node.elts, i, tokens)
                shown = ast.unparse(element)
                shown = shown if len(shown) <= 40 else shown[:37] + "..."
                add(element, "drop-item", f"drop {shown}", start, end, "")
        elif isinstance(node, ast.Call) and node.keywords:
            arguments: list[ast.AST] = [*node.args, *node.keywords]
            arguments.sort(key=lambda a: (a.lineno, a.col_offset))  # type: ignore[attr-defined]
            for keyword in node.keywords:
                if keyword.arg is None or keyword.arg in MESSAGE_KWARGS:
                    continue
                i = arguments.index(keyword)
                start, end = _removal_span(arguments, i, tokens)
                add(keyword, "drop-keyword", f"drop {keyword.arg}=", start, end, "")
    return found


def _is_display(node: ast.Tuple, tokens: list[tokenize.TokenInfo]) -> bool:
    """A tuple written with parentheses (not a bare `a, b` target or a subscript's index)."""
    start, _ = _pos(node)
    i = bisect.bisect_left(tokens, start, key=lambda t: t.start)
    return i < len(tokens) and tokens[i].start == start and tokens[i].string == "("


def _removal_span(items: Sequence[ast.AST], i: int, tokens: list[tokenize.TokenInfo]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The text to delete to drop items[i] with its comma: up to the next item, from the previous one, or
    (a sole item) through its trailing comma, so that `f(a=1,)` becomes `f()` and `("x",)` becomes `()`."""
    start, end = _pos(items[i])
    if i + 1 < len(items):
        return start, _pos(items[i + 1])[0]
    if i > 0:
        return _pos(items[i - 1])[1], end
    after = bisect.bisect_left(tokens, end, key=lambda t: t.start)
    while after < len(tokens) and tokens[after].type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
        after += 1
    if after < len(tokens) and tokens[after].string == ",":
        return start, tokens[after].end
    return start, end


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def all_mutants(root: Path = ROOT, only: list[str] | None = None) -> list[Mutant]:
    files = sorted(p for folder in COVERED for p in (root / folder).rglob("*.py") if "__pycache__" not in p.parts)
    if only is not None:
        files = [p for p in files if p.relative_to(root).as_posix() in only]
    return [m for path in files for m in find_mutants(path, root)]


# ---------------------------------------------------------------------------------------
# Choosing the tests a mutant can fail


@dataclass
class SuiteMap:
    root: Path
    imports: dict[str, set[str]] = field(default_factory=dict)
    """Module file -> the repo module files it imports."""
    program_tests: set[str] = field(default_factory=set)
    test_sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, root: Path = ROOT) -> SuiteMap:
        found = cls(root)
        files = [p for p in root.rglob("*.py") if not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)]
        for path in files:
            rel = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text())
            found.imports[rel] = found._local_imports(tree, rel)
            if rel.startswith("tests/") and path.name.startswith("test_"):
                found.test_sources[rel] = path.read_text()
                if _runs_program(tree):
                    found.program_tests.add(rel)
        return found

    def _local_imports(self, tree: ast.AST, rel: str) -> set[str]:
        names: set[str] = set()
        package = rel.rsplit("/", 1)[0].replace("/", ".") if "/" in rel else ""
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([p for p in parts if p] + ([base] if base else []))
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
        resolved: set[str] = set()
        for name in names:
            path = name.replace(".", "/")
            for candidate in (f"{path}.py", f"{path}/__init__.py"):
                if (self.root / candidate).is_file():
                    resolved.add(candidate)
        return resolved

    def reaches(self, start: str, target: str) -> bool:
        seen: set[str] = set()
        todo = [start]
        while todo:
            current = todo.pop()
            if current == target:
                return True
            if current in seen:
                continue
            seen.add(current)
            todo.extend(self.imports.get(current, ()))
        return False

    def tests_for(self, module: str) -> list[str]:
        """The test files that can fail on a change to `module`, its own test file first."""
        in_program = self.reaches("__main__.py", module)
        dotted = module.removesuffix(".py").replace("/", ".")
        chosen = sorted(
            test
            for test, source in self.test_sources.items()
            if self.reaches(test, module)
            or self.reaches("tests/conftest.py", module) and test in self.program_tests
            or (in_program and test in self.program_tests)
            or module in source
            or dotted in source
        )
        # The module's own tests: tests/test_<module>.py (tests/<package>/test_<module>.py for a
        # package's module), or the package's tests/test_<package>.py.
        names = {f"test_{Path(module).stem}.py", f"test_{Path(module).parent.name}.py"}
        own = [t for t in chosen if Path(t).name in names]
        return own + [t for t in chosen if t not in own]


def _runs_program(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if any(arg.arg in PROGRAM_FIXTURES for arg in node.args.args):
                return True
        elif isinstance(node, ast.Name) and node.id in PROGRAM_CALLS:
            return True
        elif isinstance(node, ast.Attribute) and node.attr in PROGRAM_CALLS:
            return True
    return False


# ---------------------------------------------------------------------------------------
# Running


@dataclass
class Result:
    mutant: Mutant
    outcome: str
    """killed, survived, timeout, equivalent or invalid (the last two are not scored)."""
    seconds: float
    tests: list[str]
    detail: str = ""


def load_equivalents(path: Path = EQUIVALENTS) -> list[dict[str, str]]:
    if not path.exists():
        return []
    entries = json.loads(path.read_text())["equivalent"]
    for entry in entries:
        missing = {"path", "line", "mutation", "reason"} - entry.keys()
        if missing:
            raise SystemExit(f"{path}: an entry lacks {sorted(missing)}: {entry}")
    return entries


def equivalent_reason(mutant: Mutant, entries: list[dict[str, str]]) -> str | None:
    for entry in entries:
        if entry["path"] == mutant.path and entry["line"] == mutant.source_line and entry["mutation"] == mutant.description:
            return entry["reason"]
    return None


class Workspace:
    """A copy of the tracked tree that one worker mutates; the venvs are shared through links."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = scratch
        tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
        for rel in tracked:
            source = root / rel
            if source.is_file():
                target = scratch / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        for venv in (".venv", ".venv-checkov"):
            if (root / venv).exists():
                (scratch / venv).symlink_to((root / venv).resolve())

    def run(self, mutant: Mutant, tests: list[str], timeout: float) -> tuple[str, float, str]:
        target = self.root / mutant.path
        original = target.read_text()
        mutated = mutant.apply(original)
        if not _parses(mutated):  # a safety net: every operator should make valid Python
            return "invalid", 0.0, "the mutant does not parse"
        target.write_text(mutated)
        started = time.monotonic()
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests],
                cwd=self.root, capture_output=True, text=True, timeout=timeout,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - started, ""
        finally:
            target.write_text(original)
        elapsed = time.monotonic() - started
        last = completed.stdout.strip().splitlines()[-1:] or [""]
        if completed.returncode == 0:
            return "survived", elapsed, last[0]
        if completed.returncode == 5:
            return "survived", elapsed, "no test ran"
        return "killed", elapsed, _first_failure(completed.stdout) or last[0]


def _first_failure(output: str) -> str:
    match = re.search(r"^(FAILED|ERROR) (\S+)", output, re.MULTILINE)
    return match.group(2) if match else ""


def run(args: argparse.Namespace) -> int:
    mutants = all_mutants(ROOT, args.only)
    random.Random(args.seed).shuffle(mutants)
    if args.count:
        mutants = mutants[: args.count]
    tests = SuiteMap.build(ROOT)
    equivalents = load_equivalents()
    deadline = time.monotonic() + args.minutes * 60
    print(f"mutate: {len(mutants)} mutants in the sample order (seed {args.seed}); running for up to {args.minutes} min on {args.jobs} workers", flush=True)

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        workspaces = [Workspace(ROOT, Path(scratch) / f"w{i}") for i in range(args.jobs)]
        free = list(workspaces)
        queue = iter(mutants)
        running: dict[Future[tuple[str, float, str]], tuple[Mutant, list[str], Workspace]] = {}
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            while True:
                while free and time.monotonic() < deadline:
                    mutant = next(queue, None)
                    if mutant is None:
                        break
                    chosen = tests.tests_for(mutant.path)
                    workspace = free.pop()
                    running[pool.submit(workspace.run, mutant, chosen, args.timeout)] = (mutant, chosen, workspace)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    mutant, chosen, workspace = running.pop(future)
                    free.append(workspace)
                    outcome, seconds, detail = future.result()
                    if outcome == "survived":
                        reason = equivalent_reason(mutant, equivalents)
                        if reason is not None:
                            outcome, detail = "equivalent", reason
                    results.append(Result(mutant, outcome, seconds, chosen, detail))
                    print(f"[{len(results)}] {outcome:<10} {mutant.path}:{mutant.line} {mutant.operator}: {mutant.description}  ({seconds:.0f}s) {detail}", flush=True)
    return report(results, args)


def report(results: list[Result], args: argparse.Namespace) -> int:
    counts = {k: sum(r.outcome == k for r in results) for k in ("killed", "timeout", "survived", "equivalent", "invalid")}
    scored = counts["killed"] + counts["timeout"] + counts["survived"]
    score = (counts["killed"] + counts["timeout"]) / scored if scored else 0.0
    print()
    print(f"mutate: {len(results)} mutants run: {counts['killed']} killed, {counts['timeout']} timed out, "
          f"{counts['survived']} survived, {counts['equivalent']} equivalent and {counts['invalid']} invalid (not scored)")
    print(f"mutate: score {score:.1%} ({counts['killed'] + counts['timeout']} of {scored})")
    for result in results:
        if result.outcome == "survived":
            print(f"  SURVIVED {result.mutant.path}:{result.mutant.line} {result.mutant.description}    | {result.mutant.source_line}")
    for result in results:
        if result.outcome == "equivalent":
            print(f"  equivalent {result.mutant.path}:{result.mutant.line} {result.mutant.description}: {result.detail}")
    out = ROOT / "build" / "mutation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({
        "seed": args.seed, "score": score, "counts": counts,
        "results": [{**asdict(r.mutant), "outcome": r.outcome, "seconds": round(r.seconds, 1), "tests": r.tests, "detail": r.detail} for r in results],
    }, indent=2))
    print(f"mutate: details in {out / 'report.json'}")
    return 0


def iter_listing(mutants: list[Mutant]) -> Iterator[str]:
    for mutant in mutants:
        yield f"{mutant.path}:{mutant.line} {mutant.operator}: {mutant.description}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=20.0, help="stop starting new mutants after this long")
    parser.add_argument("--count", type=int, default=0, help="at most this many mutants (0: as many as the time allows)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one mutant's test run may take")
    parser.add_argument("--only", nargs="*", help="mutate only these files (paths relative to the repo)")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    args = parser.parse_args(argv)
    if args.list:
        mutants = all_mutants(ROOT, args.only)
        for line in iter_listing(mutants):
            print(line)
        print(f"{len(mutants)} mutants")
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
