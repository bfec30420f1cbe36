"""scripts/mutate.py: which one-line mutants it makes, what it leaves alone, and which tests it runs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from scripts.mutate import Mutant, SuiteMap, all_mutants, equivalent_reason, find_mutants, load_equivalents

SAMPLE = textwrap.dedent(
    '''\
    """Module docstring."""
    LIMIT = 600
    RATIO = 0.5
    ENABLED = True


    def check(value, items):
        """A docstring is not mutated."""
        if value > LIMIT and value not in items:
            raise ValueError("a message is not mutated")
        build(name="bucket", retries=10, description="documentation text")
        rule("the bucket keeps every version", "aws s3 ls --recursive")
        return [1, 2] if not value else ("a", "b")
    '''
)


def mutants_of(tmp_path: Path, source: str = SAMPLE) -> dict[str, str]:
    path = tmp_path / "components" / "sample.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return {m.description: m.apply(source) for m in find_mutants(path, tmp_path)}


def changed_line(before: str, after: str) -> str:
    [line] = [b for a, b in zip(before.splitlines(), after.splitlines()) if a != b] or [""]
    return line.strip()


def test_every_operator_makes_its_mutant(tmp_path: Path) -> None:
    made = mutants_of(tmp_path)
    expected = {
        "600 -> 601": "LIMIT = 601",
        "0.5 -> 1.0": "RATIO = 1.0",
        "True -> False": "ENABLED = False",
        "> -> >=": "if value >= LIMIT and value not in items:",
        "not in -> in": "if value > LIMIT and value in items:",
        "and -> or": "if value > LIMIT or value not in items:",
        "'bucket' -> 'XX..XX'": "build(name='XXbucketXX', retries=10, description=\"documentation text\")",
        "10 -> 11": 'build(name="bucket", retries=11, description="documentation text")',
        "drop retries=": 'build(name="bucket", description="documentation text")',
        "drop name=": 'build(retries=10, description="documentation text")',
        "drop 1": 'return [2] if not value else ("a", "b")',
        "drop 2": 'return [1] if not value else ("a", "b")',
        "drop 'b'": 'return [1, 2] if not value else ("a")',
        "not x -> x": 'return [1, 2] if value else ("a", "b")',
    }
    for description, line in expected.items():
        assert changed_line(SAMPLE, made[description]) == line, description


def test_docstrings_messages_and_descriptions_are_left_alone(tmp_path: Path) -> None:
    made = mutants_of(tmp_path)
    touched = " ".join(made)
    assert "docstring" not in touched
    assert "message" not in touched
    assert "documentation text" not in touched
    assert "drop description=" not in made
    assert "'the bucket keeps every version' -> 'XX..XX'" not in made


def test_a_command_line_is_not_prose(tmp_path: Path) -> None:
    assert "'aws s3 ls --recursive' -> 'XX..XX'" in mutants_of(tmp_path)


def test_fstrings_and_annotations_are_left_alone(tmp_path: Path) -> None:
    made = mutants_of(tmp_path, 'def f(x: "Literal[\'a\']") -> "str":\n    return f"{x} items"\n')
    assert made == {}


def test_every_mutant_parses_and_differs(tmp_path: Path) -> None:
    path = tmp_path / "components" / "sample.py"
    path.parent.mkdir(parents=True)
    path.write_text(SAMPLE)
    mutants = find_mutants(path, tmp_path)
    assert len(mutants) == len({m.key for m in mutants})
    for mutant in mutants:
        compile(mutant.apply(SAMPLE), "mutant", "exec")
        assert mutant.apply(SAMPLE) != SAMPLE


def test_covers_components_policy_and_offline_only(tmp_path: Path) -> None:
    for folder in ("components", "policy", "offline", "tests", "images"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.py").write_text("X = 1\n")
    assert sorted({m.path for m in all_mutants(tmp_path)}) == ["components/m.py", "offline/m.py", "policy/m.py"]


def test_a_module_gets_its_own_test_first_and_every_program_test(tmp_path: Path) -> None:
    files = {
        "__main__.py": "from components import serving\n",
        "components/__init__.py": "",
        "components/serving.py": "X = 1\n",
        "offline/__init__.py": "",
        "offline/diff.py": "Y = 2\n",
        "tests/test_zeta.py": "def test_z(dev):\n    pass\n",
        "tests/test_serving.py": "def test_s(prod):\n    pass\n",
        "tests/test_diff.py": "from offline.diff import Y\n",
        "tests/test_unrelated.py": "def test_u():\n    pass\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    tests = SuiteMap.build(tmp_path)
    assert tests.tests_for("components/serving.py") == ["tests/test_serving.py", "tests/test_zeta.py"]
    assert tests.tests_for("offline/diff.py") == ["tests/test_diff.py"]


def test_equivalents_match_on_file_line_text_and_mutation(tmp_path: Path) -> None:
    listing = tmp_path / "equivalent.json"
    entry = {"path": "components/a.py", "line": "X = 1", "mutation": "1 -> 2", "reason": "X is never read"}
    listing.write_text(json.dumps({"equivalent": [entry]}))
    entries = load_equivalents(listing)
    same = Mutant("components/a.py", 7, "literal", "1 -> 2", (7, 4), (7, 5), "2", "X = 1")
    other = Mutant("components/a.py", 7, "literal", "1 -> 2", (7, 4), (7, 5), "2", "Y = 1")
    assert equivalent_reason(same, entries) == "X is never read"
    assert equivalent_reason(other, entries) is None


def test_the_checked_in_equivalents_name_real_mutants() -> None:
    # A stale entry (the line changed) would silently stop excusing anything.
    entries = load_equivalents()
    known = {(m.path, m.source_line, m.description) for m in all_mutants(only=[e["path"] for e in entries])}
    for entry in entries:
        assert (entry["path"], entry["line"], entry["mutation"]) in known, entry
