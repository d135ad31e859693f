"""The events the code emits are the events the contract documents, in the documented shape."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from bzapper.api.contract import openapi_document
from bzapper.api.schemas.events import MessageEvent
from bzapper.domain.model import MessageView
from bzapper.services.statuses import status_event
from bzapper.services.stream import RETRY_MS


def test_every_emitted_event_type_is_documented():
    documented = set(openapi_document()["webhooks"])
    emitted = {f"message.{s}" for s in ("queued", "sent", "delivered", "read", "played", "failed")}
    emitted |= {"wallet.low_balance", "webhook.disabled", "webhook.test"}
    assert emitted <= documented


def test_a_real_status_event_validates_against_its_documented_model():
    view = MessageView(
        message_id="msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
        account_id="acct_1",
        instance_id="inst_1",
        livemode=False,
        type="text",
        content={"body": "x"},
        to_jid="5511988888888@s.whatsapp.net",
        to_phone="+5511988888888",
        client_reference="lead-42",
        status="failed",
        error_code="not_on_whatsapp",
    )
    event = status_event(view, "failed", 1_700_000_000_000)
    parsed = MessageEvent.model_validate(event)
    assert parsed.data.error and parsed.data.error.code == "not_on_whatsapp"
    assert parsed.data.client_reference == "lead-42"


def test_the_stream_documents_each_block_it_sends():
    """What services/stream.py writes, parsed as an SSE client (and schemathesis) sees it, matches `itemSchema`."""
    document = openapi_document()
    stream = document["paths"]["/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    item_schema = stream["itemSchema"]
    view = MessageView(
        message_id="msg_01JD5V6W4E7R8T9Y0V1W2X3Y4Z",
        account_id="acct_1",
        instance_id="inst_1",
        livemode=False,
        type="text",
        content={"body": "x"},
        to_jid="5511988888888@s.whatsapp.net",
        to_phone="+5511988888888",
        client_reference=None,
        status="sent",
    )
    event = status_event(view, "sent", 1_700_000_000_000)
    block = {"id": event["id"], "event": event["type"], "data": json.dumps(event)}
    Draft202012Validator(item_schema).validate(block)
    Draft202012Validator(item_schema).validate({"retry": RETRY_MS})
    (event_shape,) = [branch for branch in item_schema["oneOf"] if "data" in branch["properties"]]
    # `contentSchema` only annotates in JSON Schema: the data line is checked against it here.
    Draft202012Validator(event_shape["properties"]["data"]["contentSchema"]).validate(json.loads(block["data"]))
    assert "schema" not in stream  # in OpenAPI 3.2 it would describe the whole stream, not one event
