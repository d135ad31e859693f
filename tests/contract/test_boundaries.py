"""The boundaries import-linter cannot see: the function modules (plain files, not a package) reach the core
only through the composition root and the use cases, and a queue consumer never loads the web framework."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bzapper.topology import TOPOLOGY

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/handler.py"))
CONSUMERS = sorted({c.group for c in TOPOLOGY.consumers} | {s.group for s in TOPOLOGY.schedules})
FORBIDDEN = ("bzapper.adapters", "bzapper.engines", "boto3", "botocore", "pynamodb")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("group", FUNCTIONS)
def test_a_function_imports_no_adapter_and_no_aws_sdk(group):
    found = imported_modules(ROOT / "functions" / group / "handler.py")
    assert not [name for name in found if name.startswith(FORBIDDEN)]


def test_every_consumer_has_a_function_module():
    assert CONSUMERS and set(CONSUMERS) <= set(FUNCTIONS)


@pytest.mark.parametrize("group", CONSUMERS)
def test_a_queue_consumer_never_loads_the_web_framework(group):
    probe = (
        "import json, sys\n"
        "from bzapper_dev.local.functions import load_function\n"
        f"load_function({group!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'pydantic'))))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_probe_sees_the_framework_where_it_is_loaded():
    """The check above can fail: an HTTP function does load FastAPI."""
    probe = (
        "import sys\nfrom bzapper_dev.local.functions import load_function\nload_function('platform')\n"
        "print('fastapi' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "True", result.stderr
