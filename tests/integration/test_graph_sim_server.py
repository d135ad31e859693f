"""The simulated Cloud API served by the sandbox network server on 127.0.0.1: Meta's endpoints and the controls
over real HTTP, and signed webhooks posted to a real callback, redelivered after a non-200."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from bzapper_dev.sandbox.graph import GraphSim
from bzapper_dev.sandbox.network import SandboxNetwork
from bzapper_dev.sandbox.server import serve_network

NUMBER = "106540352242922"
CONTACT = "+5511988887777"
AUTH = {"Authorization": "Bearer EAAsandbox"}
# How long a test waits for a delivery that is due within a fraction of a second: patience, not a measure.
PATIENCE = 10.0


class Receiver(ThreadingHTTPServer):
    """The callback: answers each POST with the next of `answers` (then 200) and records it."""

    daemon_threads = True

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/cloud/webhook"

    def wait_for(self, count: int) -> list[tuple[bytes, dict[str, str]]]:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} deliveries, expected {count}")


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.received.append((body, {k.lower(): v for k, v in self.headers.items()}))
            status = self.server.answers.pop(0) if self.server.answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver([503])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def base_url(receiver: Receiver) -> Iterator[str]:
    graph = GraphSim(callback_url=receiver.url, retry_first=0.05)
    server, thread = serve_network(SandboxNetwork(), graph=graph)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_webhook_refused_once_is_redelivered_with_the_same_signed_bytes(base_url: str, receiver: Receiver) -> None:
    answer = httpx.post(f"{base_url}/graph-sim/numbers/{NUMBER}/inbound", json={"from": CONTACT, "text": "Oi"})
    assert answer.status_code == 200
    (first_body, first_headers), (second_body, second_headers) = receiver.wait_for(2)
    assert first_body == second_body
    expected = "sha256=" + hmac.new(b"bzapper-sandbox-cloud-app-secret", first_body, hashlib.sha256).hexdigest()
    assert first_headers["x-hub-signature-256"] == second_headers["x-hub-signature-256"] == expected
    assert first_headers["content-type"] == "application/json"
    webhook = httpx.get(f"{base_url}/graph-sim/webhooks").json()["data"][0]
    assert [a["status"] for a in webhook["attempts"]] == [503, 200] and webhook["delivered"] is True


def test_statuses_reach_the_callback_on_the_clock(base_url: str, receiver: Receiver) -> None:
    receiver.answers.clear()
    httpx.post(f"{base_url}/graph-sim/numbers/{NUMBER}/inbound", json={"from": CONTACT, "text": "Oi"})
    sent = httpx.post(
        f"{base_url}/graph/v23.0/{NUMBER}/messages",
        headers=AUTH,
        json={"messaging_product": "whatsapp", "to": CONTACT, "type": "text", "text": {"body": "Olá"}},
    )
    assert sent.status_code == 200
    deliveries = receiver.wait_for(4)  # the inbound, then sent, delivered, read
    statuses = [b for b, _ in deliveries if b"statuses" in b]
    assert [s.split(b'"status":"')[1].split(b'"')[0] for s in statuses] == [b"sent", b"delivered", b"read"]


def test_meta_endpoints_and_media_over_real_http(base_url: str) -> None:
    with httpx.Client(base_url=base_url, headers=AUTH) as client:
        assert client.get(f"/graph/v23.0/{NUMBER}").json()["id"] == NUMBER
        upload = client.post(
            f"/graph/v23.0/{NUMBER}/media",
            data={"messaging_product": "whatsapp", "type": "audio/ogg"},
            files={"file": ("v.ogg", b"OggS-voice", "audio/ogg")},
        )
        media_id = upload.json()["id"]
        info = client.get(f"/graph/v23.0/{media_id}").json()
        assert info["url"].startswith(base_url + "/graph/")  # back to where the client reached the sim
        assert client.get(info["url"]).content == b"OggS-voice"
        assert client.delete(f"/graph/v23.0/{media_id}").json() == {"success": True}
        refused = client.get(f"/graph/v23.0/{NUMBER}", headers={"Authorization": "Bearer invalid-token"})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == 190
        # The sandbox network's own endpoints share the port.
        assert client.get("/v1/health").json() == {"ok": True}


def test_a_callback_nobody_answers_is_retried_quietly(caplog: pytest.LogCaptureFixture) -> None:
    # A port nothing listens on: the local stack before its /cloud/webhook route exists looks like this (or a 404).
    graph = GraphSim(callback_url="http://127.0.0.1:9/cloud/webhook", retry_first=0.01, retry_max=0.02)
    server, thread = serve_network(SandboxNetwork(), graph=graph)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with caplog.at_level("INFO", logger="bzapper_dev.sandbox.graph.model"):
            for _ in range(3):
                httpx.post(f"{base}/graph-sim/numbers/{NUMBER}/inbound", json={"from": CONTACT, "text": "Oi"})
            deadline = time.monotonic() + PATIENCE
            while time.monotonic() < deadline and min(len(w["attempts"]) for w in graph.webhooks()) < 3:
                time.sleep(0.02)
        assert min(len(w["attempts"]) for w in graph.webhooks()) >= 3
        assert len([r for r in caplog.records if r.levelname != "DEBUG"]) == 1
        assert httpx.get(f"{base}/graph/v23.0/{NUMBER}", headers=AUTH).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_standalone_process_takes_the_callback_url() -> None:
    env = dict(os.environ, BZ_SANDBOX_CLOUD_CALLBACK_URL="http://127.0.0.1:9/from-env")
    for extra, expected in (
        ([], "http://127.0.0.1:9/from-env"),
        (["--cloud-callback-url", "http://x.test/h"], "http://x.test/h"),
    ):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bzapper_dev.sandbox.server", "--port", "0", *extra],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().rsplit(" ", 1)[1].strip()
            assert httpx.get(f"{url}/graph-sim/config").json()["callback_url"] == expected
        finally:
            proc.terminate()
            assert proc.wait(10) == 0
