"""`python -m bzapper.worker`: the session worker (Fargate on AWS, a child of `bzapper dev` locally)."""

from __future__ import annotations

import logging
import os
import signal
import sys

from bzapper import logs
from bzapper.config import settings
from bzapper.services.container import services
from bzapper.worker.runner import SessionWorker, parent_alive


def main() -> None:
    logs.configure(sys.stderr)
    engines = {}
    if settings().sandbox_url:
        from bzapper.engines.sandbox.engine import SandboxEngine

        engines["sandbox"] = SandboxEngine(settings().sandbox_url)
    worker = SessionWorker(services(), engines)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
    watch_parent = os.environ.get("BZ_WORKER_PARENT_PID")
    logging.getLogger("bzapper.worker").info("worker %s started", os.getpid())
    worker.run(parent_alive(int(watch_parent)) if watch_parent else (lambda: True))
    logging.shutdown()
    # Daemon threads may sit in a long poll or a lock: never let them hold the exit.
    os._exit(0)


if __name__ == "__main__":
    main()
