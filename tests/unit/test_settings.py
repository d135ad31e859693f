"""One settings model, read once: `bzapper.config` is the only module that reads the environment, and
docs/deploy.md lists exactly the variables it reads."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bzapper import config
from bzapper.adapters import sealing
from bzapper.config import Settings, reset_settings, settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"bzapper": ROOT / "layers" / "core" / "bzapper", "bzapper_dev": ROOT / "dev" / "bzapper_dev"}
ENVIRONMENT_TABLE = "### The runtime's environment"

# Who else may touch os.environ, and why. Everything else asks `bzapper.config.settings()`.
MAY_TOUCH_THE_ENVIRONMENT = {
    "bzapper/config.py": "the one reader",
    "bzapper/engines/whatsmeow/lib.py": "sets NEONIZE_BOT_TAG=off for neonize's Go side before it loads",
    "bzapper_dev/local/dev.py": "writes the stack's variables for itself and hands them to its children",
    "bzapper_dev/local/live_phone.py": "writes the session store's path for the worker it starts",
    "bzapper_dev/cli.py": "points botocore and the settings at the running local stack",
}
_OS_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _touches_the_environment(tree: ast.AST) -> list[int]:
    """Lines using os.environ, os.getenv and their kin, however imported."""
    return [node.lineno for node in ast.walk(tree) if _os_attribute(node) or _os_import(node)]


def _os_attribute(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in _OS_NAMES
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _os_import(node: ast.AST) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "os" and bool({a.name for a in node.names} & _OS_NAMES)


def _modules() -> Iterator[tuple[str, Path]]:
    for name, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            yield f"{name}/{path.relative_to(root)}", path


def test_only_the_settings_module_reads_the_environment() -> None:
    touching = {}
    for name, path in _modules():
        if lines := _touches_the_environment(ast.parse(path.read_text())):
            touching[name] = lines
    unexpected = {name: lines for name, lines in touching.items() if name not in MAY_TOUCH_THE_ENVIRONMENT}
    assert unexpected == {}, "read settings through bzapper.config.settings() (and document the variable)"
    assert set(touching) == set(MAY_TOUCH_THE_ENVIRONMENT)  # a stale exception is removed, not kept


def test_the_scan_sees_every_spelling() -> None:
    found = _touches_the_environment(
        ast.parse("import os\nfrom os import getenv\na = os.environ.get('X')\nb = os.getenv('Y')\n")
    )
    assert sorted(found) == [2, 3, 4]


class _RecordingEnviron(Mapping[str, str]):
    """An empty environment that remembers every name asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(name)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _documented() -> set[str]:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text.split(ENVIRONMENT_TABLE, 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_<>]+)`", row.split(" | ")[0])}


def _cli_option_variables() -> set[str]:
    tree = ast.parse((PACKAGES["bzapper_dev"] / "cli.py").read_text())
    return {
        keyword.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "envvar" and isinstance(keyword.value, ast.Constant)
    }


def test_docs_list_exactly_the_variables_that_are_read() -> None:
    environ = _RecordingEnviron()
    Settings.from_environ(environ)
    read = environ.asked | {config.QUEUE_URL_PREFIX + "<NAME>"} | _cli_option_variables()
    assert _documented() == read
    assert {sealing.KMS_KEY_ENV, sealing.LOCAL_KEY_ENV} <= read  # the names infra and `bzapper dev` set


def test_defaults_and_empty_values() -> None:
    defaults = Settings.from_environ({})
    assert (defaults.stage, defaults.region, defaults.local_mode) == ("local", "us-east-1", False)
    assert defaults.sandbox_url is None and defaults.otp.kms_key is None
    assert defaults.worker.lease_seconds == 15 and defaults.stream_max_seconds == 900
    assert Settings.from_environ({"BZ_STAGE": "", "BZ_LEASE_SECONDS": ""}) == defaults  # empty counts as unset
    assert Settings.from_environ({"AWS_DEFAULT_REGION": "sa-east-1"}).region == "sa-east-1"
    assert Settings.from_environ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "sa-east-1"}).region == "eu-west-1"


def test_groups_read_their_variables() -> None:
    read = Settings.from_environ(
        {
            "BZ_STRIPE_SECRET_KEY": "sk_live_x",
            "BZ_OTP_LOCAL_KEY": "a2V5",
            "BZ_WORKER_PARENT_PID": "42",
            "BZ_SESSION_DIR": "/efs",
            "BZ_LOCAL_SCHEDULE_SECONDS": "0.5",
            "LC_ALL": "",
            "LANG": "pt_BR.UTF-8",
            "BZ_QUEUE_URL_BZAPPER_PROD_SHARD_0_FIFO": "https://sqs.example/1/q",
        }
    )
    assert read.payments.stripe_secret_key == "sk_live_x" and read.otp.local_key == "a2V5"
    assert (read.worker.parent_pid, read.worker.whatsmeow_store) == (42, "/efs")
    assert read.local.schedule_seconds == 0.5
    assert read.local.locale_variables == {"LANG": "pt_BR.UTF-8"}
    assert read.queue_url("bzapper-prod-shard-0.fifo") == "https://sqs.example/1/q"
    assert read.queue_url("bzapper-prod-shard-1.fifo") is None
    # Secrets never reach a log line through the settings' repr.
    assert "sk_live_x" not in repr(read) and "a2V5" not in repr(read)


def test_read_once_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    first = settings()
    monkeypatch.setenv("BZ_STREAM_MAX_SECONDS", "12")
    assert settings() is first and first.stream_max_seconds == 900
    reset_settings()
    assert settings().stream_max_seconds == 12


def test_importing_the_settings_is_cheap() -> None:
    """Cold starts: the module pulls in nothing beyond the standard library and the topology."""
    tree = ast.parse(Path(config.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "os", "collections", "dataclasses", "functools", "bzapper"}
