"""Child processes of the dev runner: started in their own session, never outliving the runner."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

logger = logging.getLogger("bzapper_dev.local")

_PR_SET_PDEATHSIG = 1


try:  # resolved before any fork: preexec_fn must not load libraries in a multi-threaded parent
    _PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except OSError:
    _PRCTL = None


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if the thread that started it (hence the runner) dies, even by kill -9.
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches only the runner, which then stops children in order.
    return subprocess.Popen(
        args,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class WorkerSupervisor(threading.Thread):
    """Runs the session worker as its own OS process and restarts it whenever it dies."""

    def __init__(self, state_dir: Path, env: dict[str, str]) -> None:
        super().__init__(name="worker-supervisor", daemon=True)
        self.state_dir = state_dir
        # One stable worker id: a restarted worker takes its dead predecessor's leases back at once
        # (this supervisor saw it exit), instead of waiting for them to expire.
        self.env = {**env, "BZ_WORKER_PARENT_PID": str(os.getpid()), "BZ_WORKER_ID": f"wk_local_{os.getpid()}"}
        self.stop = threading.Event()
        self.restarts = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "worker.pid"

    def run(self) -> None:
        with open(self.state_dir / "worker.log", "ab") as log:
            while not self.stop.is_set():
                self.process = spawn([sys.executable, "-m", "bzapper.worker"], self.env, log)
                self.pid_file.write_text(f"{self.process.pid}\n")
                while self.process.poll() is None and not self.stop.wait(0.2):
                    pass
                if self.stop.is_set():
                    break
                self.restarts += 1
                logger.warning("worker exited with code %s; restarting", self.process.returncode)
                self.stop.wait(0.3)
            if self.process is not None:
                stop_process(self.process)
            self.pid_file.unlink(missing_ok=True)

    def shutdown(self) -> None:
        self.stop.set()
        self.join(timeout=15)
