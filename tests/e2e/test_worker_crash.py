"""The session worker is a separate process: killed with -9, it is restarted and nothing is lost or doubled."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("worker_crash")]

RECIPIENT = "+5511966660000"
SENDS = 120


def test_killed_worker_is_restarted_and_every_message_arrives_once(stack: Stack):
    first_pid = stack.worker_pid()

    def send(index: int) -> str:
        response = stack.send(to=RECIPIENT, body=f"message {index}", client_reference=f"crash-{index}")
        assert response.status_code == 202, response.text
        return response.json()["message_id"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(send, index) for index in range(SENDS - 1)]
        while sum(future.done() for future in futures) < SENDS // 2:
            time.sleep(0.05)
        os.kill(first_pid, signal.SIGKILL)  # mid-stream: half accepted, some sent, some in flight
        message_ids = [future.result() for future in futures]

    # A worker restart is not a disconnection: sends keep being accepted meanwhile.
    message_ids.append(send(SENDS - 1))

    deadline = time.monotonic() + 60  # the supervisor notices within 0.2 s; a loaded machine is slower
    while stack.worker_pid() == first_pid:
        assert time.monotonic() < deadline, "the worker was not restarted"
        time.sleep(0.1)
    assert stack.worker_pid() != first_pid

    for message_id in message_ids:
        stack.wait_for_status(message_id, "delivered", timeout=90)

    received = requests.get(
        f"{stack.base_url}/sandbox/contacts/%2B5511966660000/messages", headers=stack.auth, timeout=10
    ).json()["data"]
    bodies = sorted(item["message"]["body"] for item in received)
    assert bodies == sorted(f"message {index}" for index in range(SENDS))  # each exactly once
