"""Instances on the booted local stack: create, pair by QR and by code, check contacts, log out, restart, delete,
and the simulated network's restriction and disconnection ranges, all through the worker that holds them."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from urllib.parse import quote

import pytest
import requests
from support.stack import BZAPPER, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("instances")]


def _api(stack: Stack, method: str, path: str, key: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {key or stack.key}"}
    return requests.request(method, f"{stack.base_url}{path}", headers=headers, timeout=30, **kwargs)


def _until(check, timeout: float = 60, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(every)


def _status_is(stack: Stack, instance_id: str, *wanted: str):
    def check():
        body = _api(stack, "GET", f"/instances/{instance_id}").json()
        return body if body["status"] in wanted else None

    return check


def _new_instance(stack: Stack, name: str) -> str:
    created = _api(stack, "POST", "/instances", json={"name": name, "engine": "sandbox"})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _pair(stack: Stack, instance_id: str, phone: str | None = None) -> dict:
    _until(_status_is(stack, instance_id, "pairing"))
    scanned = _api(stack, "POST", f"/sandbox/instances/{instance_id}/scan", json={"phone": phone} if phone else {})
    assert scanned.status_code == 200, scanned.text
    return _until(_status_is(stack, instance_id, "connected"))


class StreamCollector:
    """Reads GET /stream on a thread from now on, as a customer's dashboard would."""

    def __init__(self, stack: Stack, types: str) -> None:
        self.events: list[dict] = []
        self.response = requests.get(
            f"{stack.base_url}/stream", params={"types": types}, headers=stack.auth, stream=True, timeout=120
        )
        assert self.response.status_code == 200
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    self.events.append(json.loads(line[5:]))
        except Exception:  # closed under the reader by close(): the stream simply ends
            pass

    def types_for(self, instance_id: str) -> list[str]:
        return [event["type"] for event in self.events if event.get("instance_id") == instance_id]

    def close(self) -> None:
        self.response.close()


def test_pair_by_qr_send_check_contacts_log_out_restart_and_delete(stack: Stack):
    stream = StreamCollector(stack, "instance.qr,instance.connected,instance.logged_out,contact.identity_resolved")
    try:
        _lifecycle(stack, stream)
    finally:
        stream.close()


def _lifecycle(stack: Stack, stream: StreamCollector) -> None:
    instance_id = _new_instance(stack, "Sales")
    qr = _until(lambda: (r := _api(stack, "GET", f"/instances/{instance_id}/qr")).status_code == 200 and r.json())
    assert qr["status"] == "pairing" and qr["qr"]
    png = _api(stack, "GET", f"/instances/{instance_id}/qr", params={"format": "png"})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")

    connected = _pair(stack, instance_id, "+5511955550001")
    assert connected["phone"] == "+5511955550001" and connected["lid"].endswith("@lid")
    assert _api(stack, "GET", f"/instances/{instance_id}/qr").json()["code"] == "already_connected"

    sent = stack.send(instance_id=instance_id, to="+5511988887777", body="from the new number")
    assert sent.status_code == 202, sent.text
    stack.wait_for_status(sent.json()["message_id"], "delivered")

    checked = _api(
        stack,
        "POST",
        "/contacts/checkIsOnWhatsApp",
        json={"instance_id": instance_id, "numbers": ["+5511988887777", "+5511900000123"]},
    )
    assert checked.status_code == 200, checked.text
    known, unknown = checked.json()["data"]
    assert known["exists"] and known["jid"] == "5511988887777@s.whatsapp.net" and known["lid"].endswith("@lid")
    assert not unknown["exists"]
    by_lid = _api(
        stack, "POST", "/contacts/checkIsOnWhatsApp", json={"instance_id": instance_id, "numbers": [known["lid"]]}
    )
    assert by_lid.json()["data"][0]["phone"] == "+5511988887777"

    assert _api(stack, "POST", f"/instances/{instance_id}/logout").status_code == 202
    _until(_status_is(stack, instance_id, "logged_out"))
    refused = stack.send(instance_id=instance_id)
    assert refused.status_code == 409 and refused.json()["code"] == "instance_not_connected"

    # A logged-out number pairs again from a new QR (restart reopens the session, which starts pairing).
    assert _api(stack, "POST", f"/instances/{instance_id}/restart").status_code == 202
    _pair(stack, instance_id, "+5511955550001")

    seen = _until(lambda: (t := stream.types_for(instance_id)).count("instance.connected") >= 2 and t)
    assert seen[0] == "instance.qr"
    assert seen.index("instance.connected") < seen.index("instance.logged_out") < len(seen) - 1
    assert "contact.identity_resolved" in seen

    assert _api(stack, "DELETE", f"/instances/{instance_id}").status_code == 204
    assert _api(stack, "GET", f"/instances/{instance_id}").json()["code"] == "not_found"
    assert instance_id not in [i["id"] for i in _api(stack, "GET", "/instances").json()["data"]]


def test_pairing_code_is_answered_by_the_worker_holding_the_number(stack: Stack):
    instance_id = _new_instance(stack, "Code")
    _until(_status_is(stack, instance_id, "pairing"))
    answer = _api(stack, "POST", f"/instances/{instance_id}/pairing-code", json={"phone": "+5511955550002"})
    assert answer.status_code == 200, answer.text
    code = answer.json()["code"]
    assert len(code.replace("-", "")) == 8
    confirmed = _api(stack, "POST", f"/sandbox/instances/{instance_id}/scan", json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    assert _until(_status_is(stack, instance_id, "connected"))["phone"] == "+5511955550002"


def test_a_restriction_holds_sends_and_a_disconnection_heals(stack: Stack):
    instance_id = _new_instance(stack, "Risky")
    _pair(stack, instance_id)

    # +55 11 90000-5xxx: the message is acked, then the number drops and reconnects by itself.
    dropped = stack.send(instance_id=instance_id, to="+5511900005001", body="bye")
    stack.wait_for_status(dropped.json()["message_id"], "sent")
    # While it is down, sends answer 409 instance_not_connected (never a false "sent"); once back, they flow.
    after = _until(
        lambda: (r := stack.send(instance_id=instance_id, to="+5511988887777", body="back")).status_code == 202 and r,
        every=0.5,
    )
    stack.wait_for_status(after.json()["message_id"], "delivered")

    # +55 11 90000-4xxx: WhatsApp answers 463; the number is restricted and the send is held, not failed.
    held = stack.send(instance_id=instance_id, to="+5511900004001", body="spam?")
    restricted = _until(_status_is(stack, instance_id, "restricted"))
    assert restricted["last_error"] == "account_restricted"
    message = _api(stack, "GET", f"/messages/{held.json()['message_id']}").json()
    assert message["status"] in ("queued", "sending")
    refused = stack.send(instance_id=instance_id)
    assert refused.status_code == 409


def test_instances_are_private_to_their_account_and_test_keys_are_sandbox_only(stack: Stack):
    refused = _api(stack, "POST", "/instances", json={"name": "Real", "engine": "whatsmeow"})
    assert refused.status_code == 422 and refused.json()["param"] == "engine"

    result = subprocess.run(
        [BZAPPER, "accounts", "create", "--name", "Other", "--state-dir", str(stack.state_dir)],
        env={name: value for name, value in stack.env.items() if not name.startswith("AWS_")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    other = json.loads(result.stdout.strip().splitlines()[-1])
    for method, path in (
        ("GET", f"/instances/{stack.instance_id}"),
        ("GET", f"/instances/{stack.instance_id}/qr"),
        ("POST", f"/instances/{stack.instance_id}/logout"),
        ("DELETE", f"/instances/{stack.instance_id}"),
    ):
        answer = _api(stack, method, path, key=other["api_key"])
        assert answer.status_code == 404 and answer.json()["code"] == "not_found", (method, path)
    check = _api(
        stack,
        "POST",
        "/contacts/checkIsOnWhatsApp",
        key=other["api_key"],
        json={"instance_id": stack.instance_id, "numbers": ["+5511988887777"]},
    )
    assert check.status_code == 404
    assert [i["id"] for i in _api(stack, "GET", "/instances", key=other["api_key"]).json()["data"]] == [
        other["instance_id"]
    ]
    assert quote(stack.instance_id) == stack.instance_id  # ids need no escaping in paths
