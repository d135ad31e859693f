"""A Cloud API number on the booted local stack with a test key, against the simulated Graph API (served by the
sandbox network under `/graph`, signing its webhooks with the public test app secret, calling our
/cloud/webhook): connected at once, a send delivered through Meta's statuses, an inbound reply in the inbox,
and Meta's webhooks refused when tampered with and counted once when delivered twice.

Written against the simulated Graph API's contract (docs: issue #19's shared contract, §2–§4); it needs that
simulator in the local stack."""

from __future__ import annotations

import json
import secrets
import threading
import time
from urllib.parse import quote

import pytest
import requests
from standardwebhooks.webhooks import Webhook as StandardWebhook
from support.receiver import WebhookReceiver
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


def _contact_writes(stack: Stack, number: dict, contact: str, body: str) -> None:
    """A simulated contact writes to the number (the sandbox's inbound endpoint, through the simulated Graph API
    and Meta's signed webhook): its 24-hour customer service window opens."""
    answer = _post(stack, f"/sandbox/instances/{number['id']}/inbound", {"from": contact, "type": "text", "body": body})
    assert answer.status_code == 202, answer.text
    _wait(
        lambda: [m for m in _thread(stack, number["id"], contact) if m["direction"] == "inbound"],
        f"{contact}'s message in the inbox",
    )


def _send_template(stack: Stack, number: dict, to: str) -> requests.Response:
    parameters = [{"type": "text", "text": "Maria"}, {"type": "text", "text": "#1234"}]
    return _post(
        stack,
        "/messages/template",
        {
            "instance_id": number["id"],
            "to": to,
            "template": {
                "name": "order_update",
                "language": "pt_BR",
                "components": [{"type": "body", "parameters": parameters}],
            },
            "client_reference": "order-1234",
        },
    )


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
    _contact_writes(stack, number, CONTACT, "Oi")  # a free-form message needs the contact's 24-hour window
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

    _wait(
        lambda: [
            m
            for m in _thread(stack, number["id"], CONTACT)
            if m["direction"] == "inbound" and m["content"].get("body") == "Quero um orçamento"
        ],
        "the inbound message in the inbox",
    )


def test_a_reply_from_the_auto_reply_range_arrives(stack: Stack, number: dict):
    assert _send_template(stack, number, REPLIER).status_code == 202  # outside the window: a template
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


FLOW_CONTACT = "+5511977776543"


def test_a_template_then_a_reply_then_free_form_reach_the_inbox_the_stream_and_our_webhooks(stack: Stack, number: dict):
    """The issue's whole path on one contact: outside the window a free-form send is refused and a template goes
    out (a utility one, billable); the contact answers through Meta's signed webhook; then a free-form text goes
    out (service, free). Both deliveries reach the stream and a signed webhook endpoint once each, as for a
    sandbox number."""
    receiver = WebhookReceiver([])
    created = _post(stack, "/webhooks", {"url": receiver.url, "events": ["message.delivered"]})
    assert created.status_code == 201, created.text
    endpoint = created.json()
    stream = requests.get(
        f"{stack.base_url}/stream",
        params={"types": "message.delivered"},
        headers=stack.auth,
        stream=True,
        timeout=120,
    )
    assert stream.status_code == 200
    streamed: list[dict] = []
    reader = threading.Thread(target=_read_stream, args=(stream, streamed), daemon=True)
    reader.start()
    try:
        refused = stack.send(instance_id=number["id"], to=FLOW_CONTACT, body="Oi!")
        assert (refused.status_code, refused.json()["code"]) == (422, "outside_customer_service_window")

        listed = requests.get(
            f"{stack.base_url}/templates", params={"instance_id": number["id"]}, headers=stack.auth, timeout=30
        )
        assert listed.status_code == 200, listed.text
        names = {(t["name"], t["language"], t["status"]) for t in listed.json()["data"]}
        assert {("order_update", language, "APPROVED") for language in ("en", "pt_BR", "es")} <= names

        template = _send_template(stack, number, FLOW_CONTACT)
        assert template.status_code == 202, template.text
        template_id = template.json()["message_id"]
        shown = stack.wait_for_status(template_id, "delivered")
        assert shown["pricing"] == {"category": "utility", "billable": True, "model": "PMP"}

        _contact_writes(stack, number, FLOW_CONTACT, "Pode mandar os detalhes?")
        text = stack.send(instance_id=number["id"], to=FLOW_CONTACT, body="Claro: chega amanhã.")
        assert text.status_code == 202, text.text
        text_id = text.json()["message_id"]
        assert stack.wait_for_status(text_id, "delivered")["pricing"]["category"] == "service"

        wanted = {template_id, text_id}
        _wait(lambda: wanted <= {e["data"]["message_id"] for e in streamed}, "both deliveries on the stream")
        secret = endpoint["secret"]
        delivered = _wait(
            lambda: (
                [json.loads(r.body) for r in receiver.requests if json.loads(r.body)["data"]["message_id"] in wanted]
                if len({json.loads(r.body)["data"]["message_id"] for r in receiver.requests} & wanted) == 2
                else None
            ),
            "both deliveries at our webhook endpoint",
        )
        assert sorted(event["data"]["message_id"] for event in delivered) == sorted(wanted)  # once each
        for request in receiver.requests:
            StandardWebhook(secret).verify(request.body, request.headers)  # signed as for any number
    finally:
        stream.close()
        receiver.close()
        requests.delete(f"{stack.base_url}/webhooks/{endpoint['id']}", headers=stack.auth, timeout=30)


def _read_stream(stream: requests.Response, into: list[dict]) -> None:
    try:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                into.append(json.loads(line[5:].strip()))
    except (requests.RequestException, ValueError, AttributeError):
        return  # closed by the test
