"""A Cloud API number on the booted local stack with a test key, against the simulated Graph API (served by the
sandbox network under `/graph`, signing its webhooks with the public test app secret, calling our
/cloud/webhook): connected at once, a send delivered through Meta's statuses, an inbound reply in the inbox,
and Meta's webhooks refused when tampered with and counted once when delivered twice.

Written against the simulated Graph API's contract (docs: issue #19's shared contract, §2–§4); it needs that
simulator in the local stack."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import quote

import pytest
import requests
from support.stack import Stack

from bzapper.domain.cloud import sign

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("cloud")]

TEST_APP_SECRET = "bzapper-sandbox-cloud-app-secret"
CONTACT = "+5511988881234"
REPLIER = "+5511900002123"  # the simulator's auto-reply range (+551190000 2xxx)


def _post(stack: Stack, path: str, body: dict) -> requests.Response:
    return requests.post(f"{stack.base_url}{path}", json=body, headers=stack.auth, timeout=30)


@pytest.fixture(scope="module")
def number(stack: Stack) -> dict:
    phone_number_id = str(100_000_000_000_000 + secrets.randbelow(10**14))
    answer = _post(
        stack,
        "/instances",
        {
            "name": "Official",
            "engine": "cloud",
            "cloud": {"phone_number_id": phone_number_id, "waba_id": "102290129340398", "access_token": "any-token"},
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _wait(predicate, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.3)


def _thread(stack: Stack, instance_id: str, contact: str) -> list[dict]:
    answer = requests.get(
        f"{stack.base_url}/conversations/{quote(contact)}/messages",
        params={"instance_id": instance_id},
        headers=stack.auth,
        timeout=30,
    )
    return answer.json()["data"] if answer.status_code == 200 else []


def _webhook(stack: Stack, payload: dict, *, tamper: bool = False) -> requests.Response:
    body = json.dumps(payload).encode()
    header = sign(body, TEST_APP_SECRET)
    if tamper:
        body = body.replace(b"delivered", b"read")
    return requests.post(
        f"{stack.base_url}/cloud/webhook",
        data=body,
        headers={"X-Hub-Signature-256": header, "Content-Type": "application/json"},
        timeout=30,
    )


def _statuses(number: dict, wamid: str, status: str) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": number["cloud"]["waba_id"],
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": number["cloud"]["display_phone_number"],
                                "phone_number_id": number["cloud"]["phone_number_id"],
                            },
                            "statuses": [
                                {
                                    "id": wamid,
                                    "status": status,
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": CONTACT.lstrip("+"),
                                    "pricing": {"billable": False, "pricing_model": "PMP", "category": "service"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def test_a_test_key_connects_a_simulated_cloud_number_at_once(number: dict):
    assert (number["engine"], number["status"], number["livemode"]) == ("cloud", "connected", False)
    assert number["cloud"]["verified_name"] == "Sandbox Business"
    assert number["cloud"]["quality_rating"] == "GREEN"
    assert number["cloud"]["token_last4"] == "oken" and "any-token" not in json.dumps(number)


def test_a_token_graph_refuses_is_a_translated_422(stack: Stack):
    answer = _post(
        stack,
        "/instances",
        {
            "name": "Bad",
            "engine": "cloud",
            "cloud": {"phone_number_id": "1", "waba_id": "2", "access_token": "invalid-token"},
        },
    )
    assert answer.status_code == 422 and answer.json()["code"] == "cloud_token_invalid"


def test_a_text_goes_out_through_graph_and_comes_back_delivered(stack: Stack, number: dict):
    answer = stack.send(instance_id=number["id"], to=CONTACT, body="Olá da Cloud API")
    assert answer.status_code == 202, answer.text
    message = stack.wait_for_status(answer.json()["message_id"], "delivered")
    assert [change["status"] for change in message["history"]][:3] == ["queued", "sending", "sent"]


def test_a_poll_is_refused_naming_the_engine(stack: Stack, number: dict):
    answer = _post(
        stack,
        "/messages/poll",
        {"instance_id": number["id"], "to": CONTACT, "name": "Q?", "options": ["a", "b"]},
    )
    assert answer.json()["code"] == "not_supported" and "cloud" in answer.json()["message"]


def test_a_contact_writes_through_the_simulator_and_the_inbox_shows_it(stack: Stack, number: dict):
    answer = _post(
        stack,
        f"/sandbox/instances/{number['id']}/inbound",
        {"from": CONTACT, "type": "text", "body": "Quero um orçamento"},
    )
    assert answer.status_code == 202, answer.text

    thread = _wait(
        lambda: [m for m in _thread(stack, number["id"], CONTACT) if m["direction"] == "inbound"],
        "the inbound message in the inbox",
    )
    assert thread[-1]["content"]["body"] == "Quero um orçamento"


def test_a_reply_from_the_auto_reply_range_arrives(stack: Stack, number: dict):
    assert stack.send(instance_id=number["id"], to=REPLIER, body="ping").status_code == 202
    _wait(
        lambda: [m for m in _thread(stack, number["id"], REPLIER) if m["direction"] == "inbound"],
        "the simulated contact's reply",
    )


def test_a_tampered_webhook_is_refused_and_a_duplicate_counts_once(stack: Stack, number: dict):
    answer = stack.send(instance_id=number["id"], to=CONTACT, body="twice?")
    message = stack.wait_for_status(answer.json()["message_id"], "sent")
    # The message view does not show WhatsApp's id; its conversation's thread does (Meta's `wamid.…`).
    wamid = _wait(
        lambda: next(
            (
                m["wa_message_id"]
                for m in _thread(stack, number["id"], CONTACT)
                if m["message_id"] == message["message_id"]
            ),
            None,
        ),
        "the sent message in its thread",
    )
    assert wamid.startswith("wamid.")

    refused = _webhook(stack, _statuses(number, wamid, "delivered"), tamper=True)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"

    for _ in range(2):
        assert _webhook(stack, _statuses(number, wamid, "delivered")).status_code == 200
    delivered = stack.wait_for_status(message["message_id"], "delivered")
    time.sleep(2)  # the second delivery has had its chance to be applied
    history = requests.get(f"{stack.base_url}/messages/{message['message_id']}", headers=stack.auth, timeout=30).json()[
        "history"
    ]
    assert [change["status"] for change in history].count("delivered") == 1
    assert delivered["status"] in ("delivered", "read")
