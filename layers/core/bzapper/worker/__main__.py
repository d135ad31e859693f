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
    logging.getLogger("bzapper.worker").info("worker %s started as %s", os.getpid(), worker.keeper.owner)
    worker.run(parent_alive(current.parent_pid) if current.parent_pid else (lambda: True))
    logging.shutdown()
    # Daemon threads may sit in a long poll or a lock: never let them hold the exit.
    os._exit(0)


if __name__ == "__main__":
    main()
