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


def test_xdist_groups_really_group():
    """`make test` relies on --dist loadgroup keeping an e2e module's tests on one worker (they share a booted
    stack and, for the console, one browser tab): a pytest/xdist pairing that drops the groups fails here."""
    import textwrap

    probe = textwrap.dedent(
        """
        import pytest
        pytestmark = pytest.mark.xdist_group("together")
        def test_one(): pass
        def test_two(): pass
        def test_three(): pass
        def test_four(): pass
        """
    )
    folder = ROOT / "build" / "xdist-probe"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_probe.py").write_text(probe)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(folder),
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(folder),
            "-c",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    workers = {line.split()[0] for line in result.stdout.splitlines() if "PASSED" in line}
    assert result.returncode == 0 and len(workers) == 1, result.stdout
