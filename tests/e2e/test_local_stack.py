"""The local stack as a newcomer uses it: the reference's examples, the CLI, isolation, the sandbox."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from support.stack import BZAPPER, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run_example(stack: Stack, *command: str) -> dict:
    result = subprocess.run(command, env=stack.env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "command",
    [
        ("bash", str(EXAMPLES / "send_text.sh")),
        (sys.executable, str(EXAMPLES / "send_text.py")),
        ("node", str(EXAMPLES / "send_text.mjs")),
    ],
    ids=["curl", "python-requests", "javascript-fetch"],
)
def test_reference_examples_send_and_reach_sent(stack: Stack, command):
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is required to run the reference examples")
    accepted = _run_example(stack, *command)
    assert accepted["status"] == "queued"
    message = stack.wait_for_status(accepted["message_id"], "sent")
    assert message["to"] == "+5511988888888"
    assert [change["status"] for change in message["history"]][:3] == ["queued", "sending", "sent"]


def test_health_needs_no_key(stack: Stack):
    response = requests.get(f"{stack.base_url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_message_goes_all_the_way_to_read_and_the_contact_got_it_once(stack: Stack):
    accepted = stack.send(to="+55 11 97777-0001", body="once only", client_reference="e2e-1").json()
    message = stack.wait_for_status(accepted["message_id"], "read")
    assert [change["status"] for change in message["history"]] == ["queued", "sending", "sent", "delivered", "read"]
    assert message["client_reference"] == "e2e-1"

    received = requests.get(
        f"{stack.base_url}/sandbox/contacts/%2B5511977770001/messages", headers=stack.auth, timeout=10
    ).json()["data"]
    assert [item["message"] for item in received] == [{"type": "text", "body": "once only"}]


def test_errors_over_http_are_translated_and_shaped(stack: Stack):
    response = requests.post(
        f"{stack.base_url}/messages/text",
        data="{broken",
        headers={**stack.auth, "Content-Type": "application/json", "Accept-Language": "pt-BR"},
        timeout=10,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed" and body["locale"] == "pt-BR" and body["param"] == "request_body"
    assert requests.get(f"{stack.base_url}/nope", timeout=10).json()["code"] == "not_found"
    assert requests.delete(f"{stack.base_url}/health", timeout=10).status_code == 405


def test_bodies_over_http_are_read_strictly_and_each_refusal_says_what_it_is(stack: Stack):
    def post(path: str, raw: str | bytes, content_type: str = "application/json", **headers: str) -> tuple[int, dict]:
        headers = {**stack.auth, "Content-Type": content_type, **headers}
        response = requests.post(f"{stack.base_url}{path}", data=raw, headers=headers, timeout=10)
        return response.status_code, response.json()

    address = f'"instance_id": "{stack.instance_id}", "to": "+5511988888888"'
    for path, raw, param in [
        ("/billing/checkout", '{"amount": "1000"}', "amount"),
        ("/billing/checkout", '{"amount": 1000.0}', "amount"),
        ("/billing/checkout", '{"amount": 1e3}', "amount"),
        ("/messages/otp", f'{{{address}, "length": "6"}}', "length"),
        ("/messages/location", f'{{{address}, "latitude": "12.5", "longitude": 1}}', "latitude"),
    ]:
        status, error = post(path, raw)
        assert (status, error["code"], error["param"]) == (422, "validation_failed", param), raw
        assert "must be a JSON" in error["message"], raw
    status, error = post("/billing/checkout", '{"amount": 500, "amount": 5000}')
    assert (status, error["param"]) == (422, "amount") and "more than once" in error["message"]
    status, error = post("/media", b"--x\r\nno headers here\r\n--x--\r\n", "multipart/form-data")  # no boundary
    assert (status, error["param"]) == (422, "request_body") and "multipart/form-data" in error["message"]
    status, error = post("/billing/webhooks/stripe", "{}", **{"Stripe-Signature": "t=1,v1=00"})
    assert (status, error["code"]) == (400, "invalid_signature")


def test_accounts_create_and_tenant_isolation(stack: Stack):
    result = subprocess.run(
        [
            BZAPPER,
            "accounts",
            "create",
            "--name",
            "Acme",
            "--locale",
            "pt-BR",
            "--credits",
            "2",
            "--state-dir",
            str(stack.state_dir),
        ],
        env={name: value for name, value in stack.env.items() if not name.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    created = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(created) == {"account_id", "api_key", "instance_id"}
    assert created["api_key"].startswith("bz_test_")

    mine = stack.send().json()
    theirs = stack.send(key=created["api_key"], instance_id=created["instance_id"])
    assert theirs.status_code == 202
    stack.wait_for_status(theirs.json()["message_id"], "sent", key=created["api_key"])

    # Each side sees only its own ids: another account's message or instance is a 404.
    other_key = {"Authorization": f"Bearer {created['api_key']}"}
    peek = requests.get(f"{stack.base_url}/messages/{mine['message_id']}", headers=other_key, timeout=10)
    assert peek.status_code == 404 and peek.json()["locale"] == "pt-BR"
    assert stack.send(instance_id=created["instance_id"]).status_code == 404

    # Two credits: one spent above, one left, then 402.
    assert stack.send(key=created["api_key"], instance_id=created["instance_id"]).status_code == 202
    broke = stack.send(key=created["api_key"], instance_id=created["instance_id"])
    assert broke.status_code == 402 and broke.json()["code"] == "insufficient_balance"


def test_idempotent_retries_over_http(stack: Stack):
    headers = {**stack.auth, "Idempotency-Key": "e2e-retry-1"}
    payload = {"instance_id": stack.instance_id, "to": "+5511988880002", "body": "pay once"}

    def post(_):
        return requests.post(f"{stack.base_url}/messages/text", json=payload, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(post, range(4)))
    accepted = {r.json()["message_id"] for r in responses if r.status_code == 202}
    assert len(accepted) == 1
    assert {r.status_code for r in responses} <= {202, 409}
    replay = post(None)
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    stack.wait_for_status(accepted.pop(), "delivered")
    received = requests.get(
        f"{stack.base_url}/sandbox/contacts/%2B5511988880002/messages", headers=stack.auth, timeout=10
    ).json()["data"]
    assert len(received) == 1


def _raw_request(stack: Stack, head: bytes) -> tuple[int, dict]:
    """Bytes no HTTP client library would send: the status and the JSON body the stack answers."""
    address = urlsplit(stack.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head + b"\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in headers.lower()
    return int(status_line.split()[1]), json.loads(body)


@pytest.mark.parametrize(
    ("headers", "param"),
    [
        ("Authorization: Bearer {key}\r\nAuthorization: Bearer bz_test_someone_else", "Authorization"),
        ("Authorization: Bearer bz_test_someone_else\r\nAuthorization: Bearer {key}", "Authorization"),
        ("Authorization: Bearer {key},Bearer bz_test_someone_else", "Authorization"),  # API Gateway's joined form
        ("Authorization: Bearer {key}\r\nIdempotency-Key: a\r\nIdempotency-Key: b", "Idempotency-Key"),
        ("Authorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Type: text/plain", "Content-Type"),
    ],
    ids=["two-keys", "two-keys-reversed", "joined", "two-idempotency-keys", "two-content-types"],
)
def test_a_header_that_decides_the_request_sent_twice_is_refused_not_read_as_its_first(stack: Stack, headers, param):
    head = f"GET /me HTTP/1.1\r\nHost: x\r\nAccept-Language: es\r\nConnection: close\r\n{headers}\r\n"
    status, body = _raw_request(stack, head.format(key=stack.key).encode())
    assert status == 400
    assert (body["code"], body["param"], body["locale"]) == ("bad_request", param, "es")
    assert param in body["message"] and body["request_id"].startswith("req_")


@pytest.mark.parametrize(
    "head",
    [
        b"GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bz_test_\x00abc\r\n",
        b"GET /me HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n",
        b"GET /me HTTP/1.1\r\nHost: x\r\nBad Name: value\r\n",
        b"GET /me HTTP/9.9 extra\r\nHost: x\r\n",
    ],
    ids=["nul-in-credential", "nul-in-header", "space-in-header-name", "broken-request-line"],
)
def test_a_request_that_is_not_valid_http_is_refused_in_the_error_shape(stack: Stack, head):
    status, body = _raw_request(stack, head)
    assert status == 400
    assert body["code"] == "bad_request" and body["locale"] == "en" and body["request_id"].startswith("req_")


def test_chunked_oversized_body_is_413_and_head_is_get_without_body(stack: Stack):
    def chunks():
        for _ in range(40):
            yield b"x" * 10_000

    response = requests.post(f"{stack.base_url}/messages/text", data=chunks(), headers=stack.auth, timeout=30)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"
    head = requests.head(f"{stack.base_url}/health", timeout=10)
    assert head.status_code == 200 and head.content == b""


def test_a_number_not_on_whatsapp_fails_and_is_refunded(stack: Stack):
    def balance() -> int:
        return requests.get(f"{stack.base_url}/billing/wallet", headers=stack.auth, timeout=10).json()["balance"]

    before = balance()
    accepted = stack.send(to="+55 11 90000-0123").json()
    deadline = __import__("time").monotonic() + 60
    while (
        message := requests.get(
            f"{stack.base_url}/messages/{accepted['message_id']}", headers=stack.auth, timeout=10
        ).json()
    )["status"] != "failed":
        assert __import__("time").monotonic() < deadline, message
        __import__("time").sleep(0.1)
    assert message["error"] == {"code": "not_on_whatsapp"}
    assert balance() == before  # debited on accept, refunded on the final failure


def test_top_up_through_the_sandbox_checkout_page(stack: Stack):
    wallet = requests.get(f"{stack.base_url}/billing/wallet", headers=stack.auth, timeout=10).json()
    checkout = requests.post(
        f"{stack.base_url}/billing/checkout", json={"amount": 2_000, "method": "card"}, headers=stack.auth, timeout=10
    )
    assert checkout.status_code == 201
    url = checkout.json()["url"]
    assert url.startswith(stack.base_url)
    page = requests.get(url, headers={"Accept-Language": "es"}, timeout=10)
    assert page.status_code == 200 and "Completar pago" in page.text
    assert requests.post(url + "/complete", timeout=10).status_code == 200
    after = requests.get(f"{stack.base_url}/billing/wallet", headers=stack.auth, timeout=10).json()
    assert after["balance"] == wallet["balance"] + 2_000
    assert after["entries"][0]["reason"] == "top_up"


def test_operator_credits_a_wallet_from_the_cli(stack: Stack):
    result = subprocess.run(
        [
            BZAPPER,
            "wallet",
            "credit",
            stack.account_id,
            "300",
            "--reason",
            "goodwill",
            "--state-dir",
            str(stack.state_dir),
        ],
        env={name: value for name, value in stack.env.items() if not name.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1])["mode"] == "test"
    entries = requests.get(f"{stack.base_url}/billing/wallet", headers=stack.auth, timeout=10).json()["entries"]
    assert (entries[0]["amount"], entries[0]["reason"]) == (300, "goodwill")
