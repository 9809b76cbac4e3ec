"""The shape of the code: layers that import one way, models that own what makes them different,
small modules and functions (docs/architecture.md)."""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aecli"
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_sources_are_found():
    assert len(SOURCES) > 40 and PACKAGE / "api.py" in SOURCES


@pytest.mark.parametrize("path", sorted((PACKAGE / "cli").glob("*.py")), ids=lambda p: p.name)
def test_the_command_line_imports_only_the_api_and_its_own_helpers(path):
    ours = {name for name in imports(path) if name == "aecli" or name.startswith("aecli.")}
    allowed = {"aecli", "aecli.api", "aecli.cli"}
    assert {name for name in ours if name not in allowed and not name.startswith("aecli.cli.")} == set()


def test_no_code_outside_the_models_asks_what_kind_of_model_it_holds():
    kind = re.compile(r"\.(variational|conditional)\b|name [!=]= \"(ae|vae|cvae|betavae)\"")
    hits = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in SOURCES
        if "models" not in path.relative_to(PACKAGE).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if kind.search(line)
    ]
    assert hits == []


def test_modules_and_functions_stay_small():
    long_modules = [p.name for p in SOURCES if len(p.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES]
    long_functions = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(PACKAGE)}:{node.name} ({length})")
    assert long_modules == [] and long_functions == []


def test_the_rule_checks_catch_what_they_are_meant_to(tmp_path):
    """The checks above would fail on code that breaks them."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from aecli.models import MODELS\n" + "    x = 1\n" * 70)
    assert "aecli.models" in imports(bad)
    tree = ast.parse(bad.read_text())
    (function,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert function.end_lineno - function.lineno + 1 > MAX_FUNCTION_LINES
