"""Boot `bzapper dev` as a user would (its own process tree, a free port) and stop it with Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
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
        return int((self.state_dir / "worker.pid").read_text())

    def send(self, key: str | None = None, instance_id: str | None = None, **body) -> requests.Response:
        payload = {"instance_id": instance_id or self.instance_id, "to": "+5511988888888", "body": "Hello", **body}
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return requests.post(f"{self.base_url}/messages/text", json=payload, headers=headers, timeout=30)

    def wait_for_status(self, message_id: str, wanted: str, timeout: float = 60, key: str | None = None) -> dict:
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
    from bzapper.local.dev import read_dev_env

    return read_dev_env(path)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("stack")
    state_dir = home / ".bzapper"
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "BZ_", "POWERTOOLS_"))}
    env.update({"BZ_OUTBOX_GRACE_SECONDS": "3", "BZ_LOCAL_SCHEDULE_SECONDS": "1", "BZ_WEBHOOK_BACKOFF_SCALE": "0.01"})
    log = open(home / "dev.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [BZAPPER, "dev", "--port", str(port), "--state-dir", str(state_dir)],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while not (state_dir / "dev.env").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("bzapper dev did not start:\n" + (home / "dev.log").read_text())
        time.sleep(0.1)
    values = read_env(state_dir / "dev.env")
    stack = Stack(
        base_url=values["BZ_BASE_URL"],
        key=values["BZ_KEY"],
        instance_id=values["BZ_INSTANCE"],
        account_id=values["BZ_ACCOUNT"],
        state_dir=state_dir,
        env={**env, **values},
        process=process,
    )
    try:
        yield stack
    finally:
        worker_pid = stack.worker_pid() if (state_dir / "worker.pid").exists() else None
        moto_url = values["AWS_ENDPOINT_URL"]
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            code = process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            log.close()
        output = (home / "dev.log").read_text()
        # Ctrl-C stops everything cleanly: the runner, the worker and moto, and no traceback.
        assert code == 0, output
        assert "Traceback" not in output, output
        assert worker_pid is None or not _alive(worker_pid)
        assert not _port_open(moto_url)
        assert not _port_open(stack.base_url)
