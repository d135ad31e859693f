"""The inbox on the booted local stack: a simulated contact writes (sandbox), the worker reports it, the
statuses consumer records it; the API lists it, serves its media, and read receipts reach the contact."""

from __future__ import annotations

import base64
import time
from urllib.parse import quote

import pytest
import requests
from support.stack import Stack

from bzapper.engines.sandbox.client import SandboxNetworkClient

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("inbox")]

CONTACT = "+5511966660001"
CONTACT_JID = "5511966660001@s.whatsapp.net"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module", autouse=True)
def paired(stack: Stack) -> None:
    """The dev instance's simulated phone scans its QR (once the worker opened the session)."""
    deadline = time.monotonic() + 60
    while True:
        answer = requests.post(
            f"{stack.base_url}/sandbox/instances/{stack.instance_id}/scan", json={}, headers=stack.auth, timeout=30
        )
        if answer.status_code == 200 or answer.json().get("code") == "already_connected":
            return
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)


def _inject(stack: Stack, **body) -> str:
    response = requests.post(
        f"{stack.base_url}/sandbox/instances/{stack.instance_id}/inbound",
        json={"from": CONTACT, **body},
        headers=stack.auth,
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response.json()["wa_message_id"]


def _thread(stack: Stack) -> dict:
    response = requests.get(
        f"{stack.base_url}/conversations/{quote(CONTACT)}/messages",
        params={"instance_id": stack.instance_id},
        headers=stack.auth,
        timeout=30,
    )
    return response.json() if response.status_code == 200 else {"data": []}


def _wait_for(stack: Stack, wa_ids: set[str], timeout: float = 60) -> dict:
    """The thread once every one of these WhatsApp ids is in it (the pipeline is asynchronous).

    Read once more after they all showed: a response reads the conversation's row before its messages,
    so the one where the last message first appears may carry the row from just before it arrived."""
    deadline = time.monotonic() + timeout
    while True:
        thread = _thread(stack)
        if wa_ids <= {m["wa_message_id"] for m in thread["data"]}:
            return _thread(stack)
        assert time.monotonic() < deadline, f"never arrived: {wa_ids}, thread: {thread}"
        time.sleep(0.2)


def test_a_contact_writes_and_the_inbox_shows_it_once_with_its_media_and_read_receipts(stack: Stack):
    text_id = _inject(stack, type="text", body="Oi! Quero um orçamento.", push_name="Maria")
    image_id = _inject(
        stack,
        type="image",
        content={"media": {"mime_type": "image/png", "data_base64": base64.b64encode(PNG).decode()}, "caption": "foto"},
    )
    _inject(stack, type="text", body="Oi! Quero um orçamento.", wa_message_id=text_id)  # WhatsApp redelivers
    marker = _inject(stack, type="text", body="last")
    thread = _wait_for(stack, {text_id, image_id, marker})

    assert [m["wa_message_id"] for m in thread["data"]].count(text_id) == 1
    assert thread["conversation"]["jid"] == CONTACT_JID and thread["conversation"]["phone"] == CONTACT
    assert thread["conversation"]["unread_count"] == 3
    text = next(m for m in thread["data"] if m["wa_message_id"] == text_id)
    assert (text["direction"], text["status"], text["content"]) == (
        "inbound",
        "received",
        {"body": "Oi! Quero um orçamento."},
    )
    assert text["from"]["name"] == "Maria"

    image = next(m for m in thread["data"] if m["wa_message_id"] == image_id)
    media = image["content"]["media"]
    assert media["url"] == f"/media/{media['media_id']}" and media["mime_type"] == "image/png"
    fetched = requests.get(f"{stack.base_url}{media['url']}", headers=stack.auth, timeout=30)
    assert fetched.status_code == 200 and fetched.content == PNG  # followed the 302 to the pre-signed URL

    listed = requests.get(
        f"{stack.base_url}/conversations", params={"instance_id": stack.instance_id}, headers=stack.auth, timeout=30
    ).json()
    assert CONTACT_JID in [row["jid"] for row in listed["data"]]

    read = requests.post(
        f"{stack.base_url}/conversations/{CONTACT_JID}/read",
        params={"instance_id": stack.instance_id},
        headers=stack.auth,
        timeout=30,
    ).json()
    assert (read["unread_count"], read["receipts_sent"]) == (0, 3)
    assert {m["status"] for m in _thread(stack)["data"]} == {"read"}

    # The worker sent WhatsApp's read receipts: the simulated network recorded them.
    network = SandboxNetworkClient(stack.env["BZ_SANDBOX_URL"])
    deadline = time.monotonic() + 60
    while True:
        receipted = {i for r in network.reads(stack.account_id, stack.instance_id) for i in r["wa_message_ids"]}
        if {text_id, image_id, marker} <= receipted:
            break
        assert time.monotonic() < deadline, receipted
        time.sleep(0.2)
    network.close()


def test_a_reply_from_the_api_joins_the_contacts_conversation(stack: Stack):
    _wait_for(stack, {_inject(stack, type="text", body="are you there?")})
    accepted = stack.send(to=CONTACT, body="Yes!", client_reference="e2e-inbox").json()
    stack.wait_for_status(accepted["message_id"], "sent")
    deadline = time.monotonic() + 60
    while accepted["message_id"] not in [m["message_id"] for m in _thread(stack)["data"]]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    reply = next(m for m in _thread(stack)["data"] if m["message_id"] == accepted["message_id"])
    assert (reply["direction"], reply["sent_from"], reply["client_reference"]) == ("outbound", "api", "e2e-inbox")


GROUP = "120363025246125888@g.us"


def test_a_group_message_is_a_group_conversation_with_its_participant_and_read_receipts(stack: Stack):
    """Injected through the sandbox endpoint, reported by the worker, recorded by the statuses consumer."""
    wa_id = _inject(stack, type="text", body="Shipped the 3 boxes", push_name="Ana", group=GROUP, group_name="Orders")
    _inject(stack, type="text", body="Shipped the 3 boxes", wa_message_id=wa_id, group=GROUP)  # redelivered
    marker = _inject(stack, type="text", body="last", group=GROUP)

    url = f"{stack.base_url}/conversations/{quote(GROUP)}/messages"
    deadline = time.monotonic() + 60
    while True:
        answer = requests.get(url, params={"instance_id": stack.instance_id}, headers=stack.auth, timeout=30)
        ids = [m["wa_message_id"] for m in answer.json()["data"]] if answer.status_code == 200 else []
        if {wa_id, marker} <= set(ids):
            break
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)
    # Read once more: the response where the last message first showed may carry the row from before it.
    thread = requests.get(url, params={"instance_id": stack.instance_id}, headers=stack.auth, timeout=30).json()

    assert [m["wa_message_id"] for m in thread["data"]].count(wa_id) == 1
    conversation = thread["conversation"]
    assert (conversation["jid"], conversation["type"], conversation["name"]) == (GROUP, "group", "Orders")
    assert (conversation["phone"], conversation["lid"], conversation["unread_count"]) == (None, None, 2)
    first = next(m for m in thread["data"] if m["wa_message_id"] == wa_id)
    assert (first["chat_jid"], first["from"]["phone"], first["from"]["name"]) == (GROUP, CONTACT, "Ana")

    listed = requests.get(
        f"{stack.base_url}/conversations", params={"instance_id": stack.instance_id}, headers=stack.auth, timeout=30
    ).json()
    assert {row["jid"]: row["type"] for row in listed["data"]}.get(GROUP) == "group"

    read = requests.post(
        f"{stack.base_url}/conversations/{quote(GROUP)}/read",
        params={"instance_id": stack.instance_id},
        headers=stack.auth,
        timeout=30,
    ).json()
    assert (read["type"], read["unread_count"], read["receipts_sent"]) == ("group", 0, 2)

    # The worker sent the group's read receipts naming the participant: the simulated network recorded them.
    network = SandboxNetworkClient(stack.env["BZ_SANDBOX_URL"])
    deadline = time.monotonic() + 60
    while True:
        receipts = [r for r in network.reads(stack.account_id, stack.instance_id) if r["chat_jid"] == GROUP]
        if {wa_id, marker} <= {i for r in receipts for i in r["wa_message_ids"]}:
            break
        assert time.monotonic() < deadline, receipts
        time.sleep(0.2)
    assert {r.get("sender_jid") for r in receipts} == {CONTACT_JID}
    assert all(m["read_at"] for m in network.sent_by(stack.account_id, CONTACT) if m.get("group_jid") == GROUP)
    network.close()
