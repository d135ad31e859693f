"""From nothing to a live key with only HTTP, on the booted stack: sign up, read the code from the local mailbox,
confirm, sign in, make a live key and a restricted test key, prove their scopes and numbers, roll a key (both
secrets work, then only the new one), revoke one (refused within 5 s, whatever the auth cache), and a live send
with an empty live wallet is a 402. Also the time from sign-up to the first message sent, printed."""

from __future__ import annotations

import re
import time

import pytest
import requests

pytestmark = pytest.mark.e2e

PASSWORD = "Corr3ct-horse!battery"
REVOCATION_BOUND_SECONDS = 5.0


def _code(stack, email: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = requests.get(f"{stack.base_url}/sandbox/mailbox", params={"to": email}, timeout=10)
        assert answer.status_code == 200
        for message in reversed(answer.json()["data"]):
            if found := re.search(r"\b(\d{6})\b", message["text"]):
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no code mailed to {email}")


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _get(stack, path: str, token: str, **headers: str) -> requests.Response:
    return requests.get(f"{stack.base_url}{path}", headers=_bearer(token, **headers), timeout=30)


def test_from_nothing_to_a_live_key_with_only_http(stack):
    base = stack.base_url
    email = f"founder+{int(time.time() * 1000)}@acme.com.br"
    started = time.monotonic()

    answer = requests.post(
        f"{base}/auth/signup",
        json={"email": email, "password": PASSWORD, "name": "Acme", "locale": "pt-BR"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    assert requests.get(f"{base}/sandbox/mailbox", timeout=10).status_code == 422  # `to` is required
    confirmation = {"email": email, "code": _code(stack, email), "password": PASSWORD}
    answer = requests.post(f"{base}/auth/confirm", json=confirmation, timeout=30)
    assert answer.status_code == 200, answer.text
    account_id = answer.json()["account_id"]
    tokens = requests.post(f"{base}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30).json()
    session = tokens["access_token"]

    # The session acts as the owner, in test mode: the account's sandbox number is connected, credits are there.
    [number] = _get(stack, "/instances", session).json()["data"]
    assert number["status"] == "connected" and number["livemode"] is False
    assert _get(stack, "/billing/wallet", session).json()["balance"] > 0

    # A restricted test key (send and read messages, on that number only) and a live key.
    keys = f"{base}/keys"
    restricted = requests.post(
        keys,
        headers=_bearer(session),
        json={
            "name": "Sender",
            "mode": "test",
            "scopes": ["messages:write", "messages:read"],
            "instance_ids": [number["id"]],
        },
        timeout=30,
    ).json()
    live = requests.post(keys, headers=_bearer(session), json={"name": "Live", "mode": "live"}, timeout=30).json()
    assert restricted["key"].startswith("bz_test_") and live["key"].startswith("bz_live_")

    sent = stack.send(key=restricted["key"], instance_id=number["id"], body="First message")
    assert sent.status_code == 202, sent.text
    first = stack.wait_for_status(sent.json()["message_id"], "sent", key=restricted["key"])
    print(f"\nsign-up to the first message sent, through the API: {time.monotonic() - started:.2f} s")
    assert first["status"] in ("sent", "delivered", "read")

    # Its scopes: no instances, no webhooks, no key management; a missing scope is named.
    answer = _get(stack, "/instances", restricted["key"])
    assert (answer.status_code, answer.json()["param"]) == (403, "instances:read")
    assert (
        requests.post(
            f"{base}/webhooks", headers=_bearer(restricted["key"]), json={"url": "http://127.0.0.1:9/h"}, timeout=30
        ).status_code
        == 403
    )
    assert requests.get(keys, headers=_bearer(restricted["key"]), timeout=30).status_code == 403
    assert requests.get(keys, headers=_bearer(live["key"]), timeout=30).status_code == 403  # keys never mint keys
    # Its numbers: another test number of the account is a 404 to it.
    other = requests.post(f"{base}/instances", headers=_bearer(session), json={"name": "Second"}, timeout=30).json()
    assert stack.send(key=restricted["key"], instance_id=other["id"]).status_code == 404

    # Live: its own data only, an empty live wallet, a whatsmeow number by default, and no sandbox.
    assert _get(stack, "/me", live["key"]).json()["livemode"] is True
    assert _get(stack, "/billing/wallet", live["key"]).json()["balance"] == 0
    assert _get(stack, "/instances", live["key"]).json()["data"] == []
    live_number = requests.post(f"{base}/instances", headers=_bearer(live["key"]), json={"name": "Real"}, timeout=30)
    assert live_number.status_code == 201 and live_number.json()["engine"] == "whatsmeow"
    answer = stack.send(key=live["key"], instance_id=live_number.json()["id"])
    assert (answer.status_code, answer.json()["code"]) == (402, "insufficient_balance")
    answer = requests.post(  # no number given and none connected: no credit is still what to fix first
        f"{base}/messages/text", headers=_bearer(live["key"]), json={"to": "+5511988888888", "body": "Hi"}, timeout=30
    )
    assert (answer.status_code, answer.json()["code"]) == (402, "insufficient_balance")
    assert _get(stack, "/sandbox/contacts/%2B5511988888888/messages", live["key"]).status_code == 404
    assert _get(stack, "/instances", session, **{"Bz-Mode": "live"}).json()["data"][0]["engine"] == "whatsmeow"

    # Roll: both secrets work, then (rolled again with no grace) only the newest.
    rolled = requests.post(
        f"{keys}/{restricted['id']}/roll", headers=_bearer(session), json={"expires_in_hours": 1}, timeout=30
    ).json()
    for secret in (restricted["key"], rolled["key"]):
        assert _get(stack, f"/messages/{sent.json()['message_id']}", secret).status_code == 200
    newest = requests.post(
        f"{keys}/{restricted['id']}/roll", headers=_bearer(session), json={"expires_in_hours": 0}, timeout=30
    ).json()
    _refused_within_the_bound(stack, f"/messages/{sent.json()['message_id']}", rolled["key"])
    _refused_within_the_bound(stack, f"/messages/{sent.json()['message_id']}", restricted["key"])
    assert _get(stack, f"/messages/{sent.json()['message_id']}", newest["key"]).status_code == 200

    # Revoke: refused everywhere within 5 s, however warm the auth cache.
    assert _get(stack, "/me", live["key"]).status_code == 200  # warm
    assert requests.delete(f"{keys}/{live['id']}", headers=_bearer(session), timeout=30).status_code == 200
    _refused_within_the_bound(stack, "/me", live["key"])
    listed = {k["id"]: k for k in requests.get(keys, headers=_bearer(session), timeout=30).json()["data"]}
    assert listed[live["id"]]["revoked"] and listed[restricted["id"]]["last_used"]
    assert account_id


def _refused_within_the_bound(stack, path: str, secret: str) -> None:
    deadline = time.monotonic() + REVOCATION_BOUND_SECONDS + 1.0  # one second of slack for a loaded machine
    while True:
        status = _get(stack, path, secret).status_code
        if status == 401:
            return
        assert time.monotonic() < deadline, f"still {status} after {REVOCATION_BOUND_SECONDS} s"
        time.sleep(0.25)
