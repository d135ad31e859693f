"""The reference as a developer meets it, against one booted local stack: the rendered page at /docs,
the examples in every language (curl, Python, JavaScript, PHP), the webhook receivers, the TypeScript SDK.

An example whose endpoint the topology does not route is skipped, with the reason (none today: text,
image by URL and OTP all run).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests
import yaml
from standardwebhooks import Webhook
from support.stack import Stack

from bzapper.topology import match_route

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("reference")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SDK = ROOT / "sdk" / "typescript"

LANGUAGES = {
    "curl": ("bash", "sh"),
    "python": (sys.executable, "py"),
    "javascript": ("node", "mjs"),
    "php": ("php", "php"),
}
SENDS = {"text": "/messages/text", "image": "/messages/image", "otp": "/messages/otp"}


def require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        hint = " (apt-get install php-cli php-curl, as .ci/run does)" if program == "php" else ""
        pytest.fail(f"{program} is required to run the reference's examples{hint}")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{process.args} did not listen on {port}: {process.communicate()}")
        time.sleep(0.05)


# --- /docs ------------------------------------------------------------------------------------------------


def test_docs_serves_the_reference_listing_every_endpoint(stack: Stack):
    response = requests.get(f"{stack.base_url}/docs", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    missing = [path for path in document["paths"] if json.dumps(path) not in html]
    assert not missing, f"/docs does not list {missing}"
    for item in document["paths"].values():
        for operation in item.values():
            assert json.dumps(operation["operationId"]) in html
    assert "<script src=" not in html.replace(" ", "") and "cdn.redocly.com/redoc" not in html


# --- sending examples -------------------------------------------------------------------------------------


def _png() -> bytes:
    """A 1x1 PNG, for the image example to send by URL from a server on this machine."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\x80\0"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def image_url():
    body = _png()

    class Image(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Image)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/catalogue.png"
    server.shutdown()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", SENDS)
def test_sending_examples_are_accepted_and_reach_sent(stack: Stack, image_url: str, kind: str, language: str):
    route, _ = match_route("POST", SENDS[kind])
    if route is None:
        pytest.skip(f"POST {SENDS[kind]} is not in the topology yet: examples/send_{kind}.* wait for it")
    program, extension = LANGUAGES[language]
    script = EXAMPLES / f"send_{kind}.{extension}"
    assert script.is_file(), script
    result = subprocess.run(
        [require(program), str(script)],
        env={**stack.env, "BZ_IMAGE_URL": image_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    accepted = json.loads(result.stdout.strip().splitlines()[-1])
    assert accepted.get("status") == "queued", accepted
    message = stack.wait_for_status(accepted["message_id"], "sent")
    assert message["to"] == "+5511988888888"


# --- webhook verification examples ------------------------------------------------------------------------

SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"bzapper-reference").digest()).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another endpoint's secret").decode()


def _event(number: int, text: str = "Hello") -> str:
    return json.dumps(
        {
            "id": f"evt_01JD5V6W4E7R8T9Y0U1I2O3P{number:02d}",
            "type": "message.status",
            "created": "2026-11-24T12:00:00.000Z",
            "livemode": False,
            "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
            "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
            "data": {"message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q", "status": "delivered", "preview": text},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def webhook_vectors() -> list[dict]:
    """Deliveries signed by the `standardwebhooks` library (what the server signs with), good and bad."""
    now = datetime.now(tz=UTC)
    signer, other = Webhook(SECRET), Webhook(OTHER_SECRET)

    def vector(name, body, *, valid, at=now, signature=None, drop=(), sign_body=None):
        msg_id = f"evt_{hashlib.sha256(name.encode()).hexdigest()[:26]}"
        good = signer.sign(msg_id, at, sign_body if sign_body is not None else body)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(good, other.sign(msg_id, at, body)) if signature else good,
        }
        for header in drop:
            del headers[header]
        return {
            "name": name,
            "secret": SECRET,
            "id": msg_id,
            "timestamp": int(at.timestamp()),
            "now": int(now.timestamp()) * 1000,
            "body": body,
            "headers": headers,
            "signature": good,
            "valid": valid,
        }

    return [
        vector("ascii body", _event(1), valid=True),
        vector("unicode body", _event(2, "Olá, ação ✓ 👋"), valid=True),
        vector("rotation: one of several signatures", _event(3), valid=True, signature=lambda g, o: f"{o} {g}"),
        vector("tampered body", _event(4), valid=False, sign_body=_event(4, "Hi")),
        vector("another endpoint's secret", _event(5), valid=False, signature=lambda g, o: o),
        vector("ten minutes old", _event(6), valid=False, at=now - timedelta(minutes=10)),
        vector("ten minutes ahead", _event(7), valid=False, at=now + timedelta(minutes=10)),
        vector("no signature", _event(8), valid=False, drop=("webhook-signature",)),
        vector("not a signature", _event(9), valid=False, signature=lambda g, o: "v1,bm90IGEgc2lnbmF0dXJl"),
    ]


@pytest.fixture(scope="module")
def sdk_built() -> Path:
    """`npm ci` (only when package-lock.json changed: the Makefile's stamp) and `npm run build` in sdk/typescript."""
    npm = require("npm")
    with (SDK / "package-lock.json").open("rb") as lock:
        checksum = subprocess.run(["cksum"], stdin=lock, capture_output=True, check=True).stdout.split()[0].decode()
    stamp = SDK / "node_modules" / f".installed-{checksum}"
    if not stamp.exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SDK, check=True, timeout=300)
        for previous in stamp.parent.glob(".installed-*"):
            previous.unlink()
        stamp.touch()
    subprocess.run([npm, "run", "build", "--silent"], cwd=SDK, check=True, timeout=300)
    return SDK


def receiver_command(language: str, port: int) -> list[str]:
    if language == "python":
        return [sys.executable, str(EXAMPLES / "webhook_receiver.py")]
    if language == "javascript":
        return [require("node"), str(EXAMPLES / "webhook_receiver.mjs")]
    return [require("php"), "-S", f"127.0.0.1:{port}", str(EXAMPLES / "webhook_receiver.php")]


@pytest.mark.parametrize("language", ["python", "javascript", "php"])
def test_webhook_receivers_accept_good_deliveries_and_refuse_bad_ones(sdk_built, language: str):
    port = free_port()
    env = {**os.environ, "BZ_WEBHOOK_SECRET": SECRET, "PORT": str(port)}
    process = subprocess.Popen(
        receiver_command(language, port), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_port(port, process)
        for vector in webhook_vectors():
            response = requests.post(
                f"http://127.0.0.1:{port}/webhooks/bzapper",
                data=vector["body"].encode(),
                headers={**vector["headers"], "Content-Type": "application/json"},
                timeout=10,
            )
            expected = 204 if vector["valid"] else 400
            assert response.status_code == expected, f"{language}: {vector['name']}"
    finally:
        process.terminate()
        output, errors = process.communicate(timeout=10)
    verified = [json.loads(line) for line in (output + errors).splitlines() if line.startswith("{")]
    assert len(verified) == sum(vector["valid"] for vector in webhook_vectors()), output + errors
    assert {line["type"] for line in verified} == {"message.status"}


# --- the TypeScript SDK -----------------------------------------------------------------------------------


def test_the_typescript_sdk_suite_passes_against_the_stack(stack: Stack, sdk_built: Path, tmp_path: Path):
    vectors = tmp_path / "webhook-vectors.json"
    vectors.write_text(json.dumps(webhook_vectors(), ensure_ascii=False))
    env = {**stack.env, "BZ_SDK_STRICT": "1", "BZ_WEBHOOK_VECTORS": str(vectors)}
    result = subprocess.run(
        [require("npm"), "test", "--silent"], cwd=sdk_built, env=env, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "# fail 0" in output and "# skipped 0" in output, output[-5000:]
