"""The core package (the Lambda layer, the worker image) stands alone: it never reaches into `bzapper_dev`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "layers" / "core" / "bzapper"
DEV = ROOT / "dev" / "bzapper_dev"
DEV_PACKAGE = "bzapper_dev"


def _dev_references(tree: ast.AST) -> list[str]:
    """Imports of the dev package, and strings that name one of its modules (`importlib.import_module(…)`,
    `python -m …` for a child process); prose that mentions it in a docstring is fine."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
    return [name for name in found if name == DEV_PACKAGE or name.startswith(DEV_PACKAGE + ".")]


def test_the_core_never_imports_the_dev_package() -> None:
    offenders = {
        str(path.relative_to(ROOT)): references
        for path in sorted(CORE.rglob("*.py"))
        if (references := _dev_references(ast.parse(path.read_text())))
    }
    assert offenders == {}


def test_what_moved_to_the_dev_package_is_gone_from_the_core() -> None:
    for moved in ("cli.py", "local", "engines/sandbox/network.py", "engines/sandbox/server.py"):
        assert not (CORE / moved).exists(), moved
    for kept in ("engines/sandbox/engine.py", "engines/sandbox/client.py", "engines/sandbox/derived.py"):
        assert (CORE / kept).is_file(), kept  # the session worker's side of the sandbox network
    assert (DEV / "cli.py").is_file() and (DEV / "local" / "dev.py").is_file()
