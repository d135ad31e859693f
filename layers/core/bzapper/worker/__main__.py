"""`python -m bzapper.worker`: the session worker (Fargate on AWS, a child of `bzapper dev` locally)."""

from __future__ import annotations

import logging
import os
import signal
import sys

from bzapper import logs
from bzapper.bootstrap import services
from bzapper.config import settings
from bzapper.domain.pacing import PacingPolicy
from bzapper.worker.runner import EngineSetup, SessionWorker, parent_alive


def engine_setups() -> dict[str, EngineSetup]:
    """The engines this worker serves: the sandbox when a sandbox network is configured, whatsmeow when
    a session store directory is (BZ_SESSION_DIR: on Fargate the EFS mount every worker shares, so a
    takeover reopens sessions without a QR; BZ_WHATSMEOW_STORE under `bzapper dev --engine whatsmeow`)."""
    engines = {}
    if settings().sandbox_url:
        engines["sandbox"] = EngineSetup(
            "sandbox",
            {"sandbox_url": settings().sandbox_url},
            sessions_per_host=int(os.environ.get("BZ_SANDBOX_SESSIONS_PER_HOST", "1000")),
        )
    if store := os.environ.get("BZ_WHATSMEOW_STORE") or os.environ.get("BZ_SESSION_DIR"):
        engines["whatsmeow"] = EngineSetup(
            "whatsmeow", {"store_dir": store}, sessions_per_host=int(os.environ.get("BZ_SESSIONS_PER_HOST", "50"))
        )
    return engines


def main() -> None:
    logs.configure(sys.stderr)
    worker = SessionWorker(
        services(),
        engine_setups(),
        owner=os.environ.get("BZ_WORKER_ID"),
        pacing=PacingPolicy(
            min_interval_ms=int(os.environ.get("BZ_SEND_INTERVAL_MS", "0")),
            jitter_ms=int(os.environ.get("BZ_SEND_JITTER_MS", "0")),
        ),
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
    watch_parent = os.environ.get("BZ_WORKER_PARENT_PID")
    logging.getLogger("bzapper.worker").info("worker %s started as %s", os.getpid(), worker.keeper.owner)
    worker.run(parent_alive(int(watch_parent)) if watch_parent else (lambda: True))
    logging.shutdown()
    # Daemon threads may sit in a long poll or a lock: never let them hold the exit.
    os._exit(0)


if __name__ == "__main__":
    main()
