"""`python -m bzapper.worker`: the session worker (Fargate on AWS, a child of `bzapper dev` locally)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

from bzapper import logs
from bzapper.bootstrap import services
from bzapper.config import settings
from bzapper.domain.pacing import PacingPolicy
from bzapper.worker.runner import EngineSetup, SessionWorker, parent_alive


def engine_setups() -> dict[str, EngineSetup]:
    """The engines this worker serves: the sandbox when a sandbox network is configured, whatsmeow when
    a session store directory is (BZ_SESSION_DIR: on Fargate the EFS mount every worker shares, so a
    takeover reopens sessions without a QR; BZ_WHATSMEOW_STORE under `bzapper dev --engine whatsmeow`)."""
    current = settings()
    engines = {}
    if current.sandbox_url:
        engines["sandbox"] = EngineSetup(
            "sandbox",
            {"sandbox_url": current.sandbox_url},
            sessions_per_host=current.worker.sandbox_sessions_per_host,
        )
    if store := current.worker.whatsmeow_store:
        engines["whatsmeow"] = EngineSetup(
            "whatsmeow", {"store_dir": store}, sessions_per_host=current.worker.sessions_per_host
        )
    return engines


SHUTDOWN_GRACE_SECONDS = 20.0
"""How long a stopping worker may take to release its leases and close its sessions before it exits anyway (under
ECS's 30 s before SIGKILL). Its jobs in hand come back by their visibility timeout and its leases expire, so
nothing is lost; without the bound, a worker whose backends are already gone (the local stack stopping) retried
them for minutes."""


class ShutdownWatchdog:
    """Once `stop` is set, the process has `grace_seconds` to finish its shutdown (`done()`), else `exit(1)`."""

    def __init__(
        self,
        stop: threading.Event,
        grace_seconds: float = SHUTDOWN_GRACE_SECONDS,
        exit: Callable[[int], None] = os._exit,
    ) -> None:
        self._stop, self._grace, self._exit = stop, grace_seconds, exit
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="shutdown-watchdog", daemon=True)

    def start(self) -> ShutdownWatchdog:
        self._thread.start()
        return self

    def done(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        self._stop.wait()
        if not self._done.wait(self._grace):
            logging.getLogger("bzapper.worker").warning("shutdown took over %.0f s; exiting anyway", self._grace)
            logging.shutdown()
            self._exit(1)


def main() -> None:
    logs.configure(sys.stderr)
    current = settings().worker
    worker = SessionWorker(
        services(),
        engine_setups(),
        owner=current.worker_id,
        pacing=PacingPolicy(min_interval_ms=current.send_interval_ms, jitter_ms=current.send_jitter_ms),
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
    watchdog = ShutdownWatchdog(worker.stop).start()
    logging.getLogger("bzapper.worker").info("worker %s started as %s", os.getpid(), worker.keeper.owner)
    worker.run(parent_alive(current.parent_pid) if current.parent_pid else (lambda: True))
    watchdog.done()
    logging.shutdown()
    # Daemon threads may sit in a long poll or a lock: never let them hold the exit.
    os._exit(0)


if __name__ == "__main__":
    main()
