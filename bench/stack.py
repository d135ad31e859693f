"""A booted `bzapper dev`, started the way tests/e2e/conftest.py starts it: its own process tree (own
session), a free loopback port, its state in a temp dir, stopped with SIGINT (what Ctrl-C sends)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BZAPPER = str(Path(sys.executable).parent / "bzapper")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DevStack:
    def __init__(self, home: Path, base_env: dict[str, str]) -> None:
        self.home = home
        self.state_dir = home / ".bzapper"
        self.port = _free_port()
        # The stack must configure itself: nothing of the harness's own AWS/BZ settings leaks in.
        self.env = {k: v for k, v in base_env.items() if not k.startswith(("AWS_", "BZ_", "POWERTOOLS_"))}
        self.process: subprocess.Popen[bytes] | None = None
        self.values: dict[str, str] = {}

    def start(self, timeout: float = 120) -> DevStack:
        from bzapper_dev.local.dev import read_dev_env

        self.home.mkdir(parents=True, exist_ok=True)
        self.log = open(self.home / "dev.log", "wb")  # noqa: SIM115 - open for the stack's life
        started = time.monotonic()
        self.process = subprocess.Popen(
            [BZAPPER, "dev", "--port", str(self.port), "--state-dir", str(self.state_dir)],
            cwd=self.home,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        env_file = self.state_dir / "dev.env"
        while not env_file.exists():
            if self.process.poll() is not None or time.monotonic() - started > timeout:
                self.stop()
                raise RuntimeError("bzapper dev did not start:\n" + (self.home / "dev.log").read_text()[-3000:])
            time.sleep(0.1)
        self.ready_s = time.monotonic() - started
        self.values = read_dev_env(env_file)
        return self

    @property
    def base_url(self) -> str:
        return self.values["BZ_BASE_URL"]

    @property
    def moto_url(self) -> str:
        return self.values["AWS_ENDPOINT_URL"]

    @property
    def key(self) -> str:
        return self.values["BZ_KEY"]

    @property
    def instance_id(self) -> str:
        return self.values["BZ_INSTANCE"]

    @property
    def account_id(self) -> str:
        return self.values["BZ_ACCOUNT"]

    def client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session().client(service, region_name="us-east-1", endpoint_url=self.moto_url)

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of the stack's processes (runner, worker, moto), from /proc."""
        from bench.density import rss_kb

        pids: dict[str, int] = {}
        if self.process:
            pids["runner"] = self.process.pid
        worker_pid = self.state_dir / "worker.pid"
        if worker_pid.exists():
            pids["worker"] = int(worker_pid.read_text())
        found = {}
        for name, pid in pids.items():
            with contextlib.suppress(OSError, RuntimeError):
                found[name] = round(rss_kb(pid) / 1024, 1)
        return found

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by the stack's process tree: runner, moto, worker."""
        if self.process is None:
            return {}
        tick = os.sysconf("SC_CLK_TCK")
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                # After the command: state, ppid, ..., utime (12th), stime (13th).
                stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
        tree, frontier = {self.process.pid}, [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for pid, (ppid, _) in stats.items():
                if ppid == parent and pid not in tree:
                    tree.add(pid)
                    frontier.append(pid)
        return {str(pid): stats[pid][1] for pid in tree if pid in stats}

    def cpu_by_process(self) -> dict[str, float]:
        """`cpu_seconds` summed by role: "moto" (the moto server), "worker" (the session worker and its hosts),
        "runner" (the rest: the API, the pollers and their consumers, the sandbox network)."""
        cpu = self.cpu_seconds()
        if not cpu:
            return {}
        parents = {}
        for pid in cpu:
            with contextlib.suppress(OSError):
                parents[pid] = (Path("/proc") / pid / "stat").read_text().rsplit(")", 1)[1].split()[1]
        worker_pid = self.state_dir / "worker.pid"
        worker = worker_pid.read_text().strip() if worker_pid.exists() else None
        roles = {"runner": 0.0, "moto": 0.0, "worker": 0.0}
        for pid, seconds in cpu.items():
            try:
                command = (Path("/proc") / pid / "cmdline").read_bytes()
            except OSError:
                command = b""
            role = "moto" if b"moto_server" in command or b"moto.server" in command else "runner"
            ancestor: str | None = pid
            while ancestor is not None and ancestor in cpu:
                if ancestor == worker:
                    role = "worker"
                    break
                ancestor = parents.get(ancestor)
            roles[role] += seconds
        return roles

    def stop(self) -> int | None:
        if self.process is None:
            return None
        code = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                code = self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        else:
            code = self.process.returncode
        self.log.close()
        return code
