"""The booted local stack as the e2e tests see it; the fixture that boots it is in tests/e2e/conftest.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

BZAPPER = str(Path(sys.executable).parent / "bzapper")


@dataclass
class Stack:
    base_url: str
    key: str
    instance_id: str
    account_id: str
    state_dir: Path
    env: dict[str, str]
    process: subprocess.Popen

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def worker_pid(self) -> int:
        # The supervisor rewrites the file in place when it restarts the worker: a read can land between
        # the truncation and the write and see it empty, so read again until it holds a pid.
        deadline = time.monotonic() + 10
        while True:
            text = (self.state_dir / "worker.pid").read_text().strip()
            if text:
                return int(text)
            assert time.monotonic() < deadline, "worker.pid stayed empty"
            time.sleep(0.01)

    def send(self, key: str | None = None, instance_id: str | None = None, **body) -> requests.Response:
        payload = {"instance_id": instance_id or self.instance_id, "to": "+5511988888888", "body": "Hello", **body}
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return requests.post(f"{self.base_url}/messages/text", json=payload, headers=headers, timeout=30)

    def wait_for_status(self, message_id: str, wanted: str, timeout: float = 120, key: str | None = None) -> dict:
        # Generous: on a loaded 2-core CI machine every hop of the pipeline (SQS on moto, the worker, the
        # statuses consumer) waits its turn; a message that never gets there still fails here.
        order = ["queued", "sending", "sent", "delivered", "read", "played"]
        deadline = time.monotonic() + timeout
        while True:
            message = requests.get(
                f"{self.base_url}/messages/{message_id}",
                headers={"Authorization": f"Bearer {key or self.key}"},
                timeout=30,
            ).json()
            if message["status"] in order and order.index(message["status"]) >= order.index(wanted):
                return message
            if time.monotonic() > deadline:
                raise AssertionError(f"{message_id} stayed {message['status']}, wanted {wanted}")
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _port_open(url: str) -> bool:
    host, port = url.rsplit("//", 1)[1].split(":")
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, int(port))) == 0


def read_env(path: Path) -> dict[str, str]:
    from bzapper_dev.local.dev import read_dev_env

    return read_dev_env(path)
