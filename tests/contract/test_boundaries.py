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


NEVER_AT_IMPORT = ("aws_xray_sdk", "stripe", "emoji", "s3transfer")
"""No function loads these at its cold start (tracing off): X-Ray only when tracing is on, the payment SDK
when a payment route runs, Unicode's emoji table when a reaction is validated, S3's transfer manager when
a file is moved."""
WEB = ("fastapi", "starlette", "pydantic", "mangum")
HEAVY_AT_IMPORT = {group: NEVER_AT_IMPORT + (WEB if group in CONSUMERS else ()) for group in FUNCTIONS}
HEAVY_AT_IMPORT["cognito_messages"] = NEVER_AT_IMPORT + WEB
"""function → the heavy modules its handler module must not load when Lambda imports it."""

_PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
entry = sys.modules.get("bzapper.lambda_entry")
print(json.dumps({
    "loaded": sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[2:])),
    "tracer": None if entry is None else type(entry.tracer).__name__,
}))
"""


def _import_handler(group: str, watch: tuple[str, ...], **env: str) -> dict:
    """Import functions/<group>/handler.py as Lambda does, in a fresh interpreter: what it loaded of `watch`."""
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_SAM"))}
    environment.update(env)
    path = ROOT / "functions" / group / "handler.py"
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), *watch],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("group", FUNCTIONS)
def test_a_function_loads_no_heavy_module_it_does_not_use_at_import(group):
    """Tracing off (POWERTOOLS_TRACE_DISABLED, as on the local stack and the streaming functions)."""
    found = _import_handler(group, HEAVY_AT_IMPORT[group], POWERTOOLS_TRACE_DISABLED="true")
    assert found["loaded"] == [], f"{group} loads {found['loaded']} at import"


def test_the_heavy_module_probe_sees_what_is_loaded():
    """The check above can fail: with tracing on (in Lambda, not switched off) the X-Ray SDK is loaded and the
    handlers are traced; an HTTP function does load the web framework."""
    found = _import_handler("statuses", NEVER_AT_IMPORT, LAMBDA_TASK_ROOT=str(ROOT / "functions" / "statuses"))
    assert found == {"loaded": ["aws_xray_sdk"], "tracer": "Tracer"}
    found = _import_handler("messages", WEB, POWERTOOLS_TRACE_DISABLED="true")
    assert found == {"loaded": sorted(WEB), "tracer": "NoneType"}


HTTP_FUNCTIONS = [group for group in FUNCTIONS if group not in CONSUMERS and group != "cognito_messages"]

_ERROR_MODELS_PROBE = """
import importlib.util, json, sys
from fastapi.openapi.utils import get_openapi
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
document = get_openapi(title="probe", version="0", routes=module.app.routes)
print(json.dumps(sorted(document.get("components", {}).get("schemas", {}))))
"""


@pytest.mark.parametrize("group", HTTP_FUNCTIONS)
def test_a_function_app_builds_no_model_for_its_error_responses(group):
    """Only the contract app gives the error responses their `ErrorBody` model: FastAPI builds a serializer for
    each response model of each route when a function imports (about 170 in messages), and a function never
    renders its OpenAPI (tests/contract/test_contract.py checks the contract still names ErrorBody)."""
    path = ROOT / "functions" / group / "handler.py"
    result = subprocess.run(
        [sys.executable, "-c", _ERROR_MODELS_PROBE, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "ErrorBody" not in json.loads(result.stdout.strip().splitlines()[-1])


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
