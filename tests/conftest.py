"""Shared test set-up. The environment is fixed before any bzapper module reads it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from support.environment import Environment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(1, str(ROOT))  # the repository root holds bench/, whose arithmetic has unit tests

# Integration tests run the real handlers against moto in-process: no endpoint, dummy credentials.
for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "BZ_SANDBOX_URL", "BZ_LOCAL_MODE"):
    os.environ.pop(name, None)
os.environ.update(
    {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "BZ_STAGE": "test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)


@pytest.fixture(autouse=True)
def _settings_follow_the_environment() -> Iterator[None]:
    """bzapper.config reads the environment once per process: a test that changed it (and monkeypatch,
    which puts it back) leaves no stale settings to the next test."""
    from bzapper.config import reset_settings

    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Environment:
    """Set or unset a variable for this test, settings read again (tests/support/environment.py)."""
    from support.environment import Environment

    return Environment(monkeypatch)
