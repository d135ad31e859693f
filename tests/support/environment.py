"""Changing the environment inside a test: bzapper.config reads it once per process, so read it again."""

from __future__ import annotations

import pytest

from bzapper.config import reset_settings


class Environment:
    """`monkeypatch.setenv`/`delenv` (undone after the test), each followed by `reset_settings()`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, name: str, value: str) -> None:
        self.monkeypatch.setenv(name, value)
        reset_settings()

    def unset(self, name: str) -> None:
        self.monkeypatch.delenv(name, raising=False)
        reset_settings()
