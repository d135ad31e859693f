"""A host: the child process that holds a bounded number of sessions of one engine.

It runs apart from the supervisor because an engine can take its whole process down (neonize aborts on
concurrent lifecycle calls): a crash here loses these sessions' sockets, never the worker's leases, queues
or other hosts. Inside, every engine call except `pump` runs on one thread, in the order received.

Pipe protocol (tuples, pickled by multiprocessing):
    supervisor → host   ("call", call_id, method, kwargs)   |  ("stop",)
    host → supervisor   ("result", call_id, True, value)    |  ("result", call_id, False, error dict)
                        ("event", engine_event)
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import asdict
from typing import Any

from bzapper.domain.engine import (
    CONTACT_METHODS,
    GROUP_METHODS,
    PROFILE_METHODS,
    NotConnected,
    PermanentFailure,
    ServerAck,
    SessionSpec,
)
from bzapper.domain.otp import guard_event
from bzapper.ports.engine import Engine

logger = logging.getLogger("bzapper.worker.host")

PUMP_WAIT_SECONDS = 1.0


def error_of(exc: BaseException) -> dict[str, Any]:
    """An exception as plain data: the supervisor re-raises the same kind."""
    if isinstance(exc, PermanentFailure):
        return {"type": "permanent", "code": exc.code}
    if isinstance(exc, NotConnected):
        return {"type": "not_connected", "state": exc.state}
    return {"type": "error", "message": f"{type(exc).__name__}: {exc}"[:500]}


def run_host(conn: Any, engine_name: str, config: dict[str, Any]) -> None:
    """The host process's main: serve calls until told to stop or the supervisor is gone."""
    from bzapper import logs

    logs.configure()
    send_lock = threading.Lock()
    stop = threading.Event()

    def send(message: tuple) -> None:
        with send_lock:
            conn.send(message)

    def emit(event: dict[str, Any]) -> None:
        try:
            # Echoguard: a code bubble's echo leaves this process masked (docs/otp.md).
            send(("event", guard_event(event)))
        except (OSError, ValueError):
            stop.set()  # the supervisor is gone: nobody to report to

    from bzapper.bootstrap import build_engine  # the composition root, in the host's own process

    engine = build_engine(engine_name, config)

    def pump() -> None:
        while not stop.is_set():
            try:
                engine.pump(PUMP_WAIT_SECONDS)
            except Exception:
                logger.exception("pump failed")
                stop.wait(1.0)

    threading.Thread(target=pump, name="pump", daemon=True).start()
    try:
        while not stop.is_set():
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "stop":
                break
            _, call_id, method, kwargs = message
            try:
                value = _call(engine, method, kwargs, emit)
                reply: tuple = ("result", call_id, True, value)
            except Exception as exc:  # every failure is an answer, never a dead host
                reply = ("result", call_id, False, error_of(exc))
            try:
                send(reply)
            except (OSError, ValueError):
                break
    finally:
        stop.set()
        try:
            engine.shutdown()
        except Exception:
            logger.exception("engine shutdown failed")
        # Engine threads (a Go runtime) may not end on their own: the host's life ends here.
        os._exit(0)


def _call(engine: Engine, method: str, kwargs: dict[str, Any], emit: Any) -> Any:
    if method == "open":
        engine.open(SessionSpec(**kwargs["spec"]), emit)
        return None
    if method == "send":
        ack = engine.send(kwargs["instance_id"], kwargs["job"])
        return asdict(ack) if isinstance(ack, ServerAck) else ack
    if method in ("close", "logout", "pairing_code", "check_numbers", "mark_read", "ack", "apply_settings"):
        return getattr(engine, method)(**kwargs)
    if method in GROUP_METHODS or method in CONTACT_METHODS or method in PROFILE_METHODS or method == "profile_picture":
        return getattr(engine, method)(**kwargs)
    raise ValueError(f"unknown host method {method!r}")
