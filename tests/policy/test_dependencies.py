"""policy/ depends on nothing of offline/: offline review uses the rules, never the other way round."""

from __future__ import annotations

import ast

from offline.engine import ROOT


def imported_modules(source: str) -> set[str]:
    """The absolute modules a file's source imports (`import a.b`, `from a.b import c`)."""
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_policy_imports_offline() -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "policy").rglob("*.py") if ".venv" not in p.parts)
    assert "policy/rules/catalog.py" in files
    leaning = {f: sorted(m for m in imported_modules((ROOT / f).read_text()) if m == "offline" or m.startswith("offline.")) for f in files}
    assert {f: modules for f, modules in leaning.items() if modules} == {}


def test_the_check_sees_every_form_of_import() -> None:
    source = "import offline.engine\nfrom offline import diff\ndef f():\n    from offline.plan import x\nfrom . import y\n"
    assert imported_modules(source) == {"offline.engine", "offline", "offline.plan"}
