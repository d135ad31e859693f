"""Loads `functions/<group>/handler.py`: the local runtime runs the very modules Lambda runs."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import bzapper
from bzapper.config import settings


def functions_dir() -> Path:
    configured = settings().local.functions_dir
    if configured:
        return Path(configured)
    # layers/core/bzapper/__init__.py → the repository root holds functions/.
    return Path(bzapper.__file__).resolve().parents[3] / "functions"


@cache
def load_function(group: str) -> ModuleType:
    path = functions_dir() / group / "handler.py"
    if not path.is_file():
        raise FileNotFoundError(f"no function module for group {group!r} at {path}")
    name = f"bzapper_functions.{group}.handler"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
