"""The real neonize objects, without network: client construction, the callbacks Go calls, the lazy import.

A run is never started here: goneonize's start dials web.whatsapp.com at once.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

from bzapper.engines.whatsmeow import lib
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb
from bzapper.engines.whatsmeow.runs import Run

ROOT = Path(__file__).resolve().parents[2]


def python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "core")}
    env.pop("NEONIZE_BOT_TAG", None)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_a_client_is_built_per_instance_store_without_starting_go(tmp_path):
    calls = []
    run = Run("inst_a", tmp_path / "inst_a.sqlite3", b"", lambda *args: calls.append(args))
    assert run.client.name == str(tmp_path / "inst_a.sqlite3")
    assert run.uuid == b"inst_a"
    # neonize would stop the Go client from the garbage collector's thread: detached, we stop it ourselves.
    assert not run.client._stop_finalizer.alive
    assert not run.registered.is_set() and not run.finished.is_set()
    assert calls == []


def test_go_callbacks_decode_and_hand_over(tmp_path):
    seen = []
    run = Run("inst_a", tmp_path / "a.sqlite3", b"", lambda r, kind, payload: seen.append((kind, payload)))
    connected = pb.Connected(status=True).SerializeToString()
    buffer = ctypes.create_string_buffer(connected, len(connected))
    run._on_event(b"inst_a", ctypes.addressof(buffer), len(connected), lib.CONNECTED)
    qr = ctypes.create_string_buffer(b"2@ref,key,adv")
    run._on_qr(0, ctypes.addressof(qr))
    status = ctypes.create_string_buffer(b"timeout")
    run._on_login(0, ctypes.addressof(status))
    run._on_event(b"inst_a", ctypes.addressof(buffer), len(connected), 99)  # a code neonize does not know
    assert seen == [
        ("event", (lib.CONNECTED, pb.Connected(status=True))),
        ("qr", "2@ref,key,adv"),
        ("login", "timeout"),
    ]
    assert run.registered.is_set()  # the first sign of life: the client is in goneonize's maps


def test_a_failing_sink_never_unwinds_into_go(tmp_path):
    def sink(*args):
        raise RuntimeError("boom")

    run = Run("inst_a", tmp_path / "a.sqlite3", b"", sink)
    qr = ctypes.create_string_buffer(b"2@x")
    run._on_qr(0, ctypes.addressof(qr))  # no exception escapes


def test_bzapper_never_imports_neonize_until_the_engine_is_used():
    result = python(
        "import sys, bzapper.domain.engine, bzapper.engines.whatsmeow, bzapper.worker.host;"
        "print('neonize' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_bot_tag_is_off_before_go_loads():
    result = python(
        "import os, sys; from bzapper.engines.whatsmeow import engine;"
        "print(os.environ['NEONIZE_BOT_TAG'], 'neonize' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "off True"


def test_neonize_loaded_too_early_is_refused():
    result = python("import neonize; from bzapper.engines.whatsmeow import lib")
    assert result.returncode != 0
    assert "NEONIZE_BOT_TAG" in result.stderr
