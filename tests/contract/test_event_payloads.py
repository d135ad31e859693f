"""The events the code emits are the events the contract documents, in the documented shape."""

from __future__ import annotations

from bzapper.api.contract import openapi_document
from bzapper.api.schemas.events import MessageEvent
from bzapper.domain.model import MessageView
from bzapper.services.statuses import status_event


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
