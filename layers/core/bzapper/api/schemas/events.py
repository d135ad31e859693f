"""The events: the envelope every one has, and each type's payload (the contract's `webhooks` section; GET /stream
sends the same envelopes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import MessageStatusName, PartyOut

_INST = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_PHONE_JID = "5511988888888@s.whatsapp.net"
_LID = "123456789012345@lid"
_GROUP_JID = "120363025246125888@g.us"


class EventBase(BaseModel):
    """The envelope every event has, on webhooks and on GET /stream alike."""

    id: str = Field(description="`evt_…`: stable across retries and replays; also the `webhook-id` header.")
    type: str
    created: str
    livemode: bool
    account_id: str
    instance_id: str | None


class MessageEventError(BaseModel):
    code: str = Field(
        description="Stable: `not_on_whatsapp`, `media_rejected`, `account_restricted`, `send_failed`, … "
        "(docs/messages.md)."
    )


class MessagePricing(BaseModel):
    category: str
    billable: bool
    model: str | None


class MessageEventData(BaseModel):
    message_id: str
    status: MessageStatusName
    to: str
    client_reference: str | None
    error: MessageEventError | None = None
    pricing: MessagePricing | None = Field(
        default=None, description="What Meta said it costs (Cloud API numbers), once a status reported it."
    )


class MessageEvent(EventBase):
    data: MessageEventData

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "type": "message.delivered",
                "created": "2026-11-24T12:00:00.400Z",
                "livemode": False,
                "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "data": {
                    "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                    "status": "delivered",
                    "to": "+5511988888888",
                    "client_reference": "lead-42",
                },
            }
        }
    )


class LowBalanceData(BaseModel):
    balance: int
    threshold: int
    currency: Literal["BRL"]


class LowBalanceEvent(EventBase):
    data: LowBalanceData


class WebhookDisabledData(BaseModel):
    webhook_id: str
    url: str
    failing_since: str
    message: str = Field(description="The notice, in the account's language.")
    locale: str


class WebhookDisabledEvent(EventBase):
    data: WebhookDisabledData


class WebhookTestData(BaseModel):
    webhook_id: str


class WebhookTestEvent(EventBase):
    data: WebhookTestData


class MessageChangeData(BaseModel):
    message_id: str = Field(description="The message that was edited or deleted.")
    change_id: str = Field(description="The edit's or deletion's own message id (PATCH/DELETE's `message_id`).")
    to: str
    client_reference: str | None = Field(description="The original message's reference.")
    body: str | None = Field(default=None, description="message.edited: the new text or caption.")


class MessageChangeEvent(EventBase):
    data: MessageChangeData

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "type": "message.edited",
                "created": "2026-11-24T12:03:00.000Z",
                "livemode": False,
                "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "data": {
                    "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                    "change_id": "msg_01JD5V9Z8Y7X6W5V4U3T2S1R0Q",
                    "to": "+5511988888888",
                    "client_reference": "lead-42",
                    "body": "Hello, Maria (edited)",
                },
            }
        }
    )


class MessageReceivedData(BaseModel):
    message_id: str
    wa_message_id: str
    from_: PartyOut = Field(
        alias="from",
        description="Who sent it: the contact, the group's participant who wrote, or your own number (`from_me`).",
    )
    contact: PartyOut = Field(
        description="The other side of the conversation; `jid` is the conversation's. For a group: its `@g.us` "
        "JID, `phone` and `lid` null, `name` its subject when known."
    )
    chat_jid: str
    chat_type: Literal["contact", "group"] = Field(description="As the conversation's `type` in GET /conversations.")
    type: str
    content: dict[str, Any] = Field(description="As in GET /conversations/{jid}/messages.")
    from_me: bool = Field(description="Sent from the number's own phone (or another linked device).")
    at: str

    model_config = ConfigDict(populate_by_name=True)


class MessageReceivedEvent(EventBase):
    data: MessageReceivedData

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "evt_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                    "type": "message.received",
                    "created": "2026-11-24T12:03:00.000Z",
                    "livemode": False,
                    "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                    "instance_id": _INST,
                    "data": {
                        "message_id": "msg_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                        "wa_message_id": "3A5F0C1D2E3F4A5B6C7D",
                        "from": {"jid": _PHONE_JID, "phone": "+5511988888888", "lid": _LID, "name": "Maria"},
                        "contact": {"jid": _PHONE_JID, "phone": "+5511988888888", "lid": _LID, "name": "Maria"},
                        "chat_jid": _PHONE_JID,
                        "chat_type": "contact",
                        "type": "text",
                        "content": {"body": "Is the order on its way?"},
                        "from_me": False,
                        "at": "2026-11-24T12:03:00.000Z",
                    },
                },
                {
                    "id": "evt_01JD5VB2K3M4N5P6Q7R8S9T0V1",
                    "type": "message.received",
                    "created": "2026-11-24T11:58:00.000Z",
                    "livemode": False,
                    "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                    "instance_id": _INST,
                    "data": {
                        "message_id": "msg_01JD5VB2K3M4N5P6Q7R8S9T0V1",
                        "wa_message_id": "3A9B1C2D3E4F5A6B7C8D",
                        "from": {"jid": _LID, "phone": "+5511988888888", "lid": _LID, "name": "Maria"},
                        "contact": {"jid": _GROUP_JID, "phone": None, "lid": None, "name": "Orders team"},
                        "chat_jid": _GROUP_JID,
                        "chat_type": "group",
                        "type": "text",
                        "content": {"body": "Shipped the 3 boxes"},
                        "from_me": False,
                        "at": "2026-11-24T11:58:00.000Z",
                    },
                },
            ]
        }
    )


class CallParty(BaseModel):
    jid: str = Field(description="The caller as WhatsApp names them (a phone JID or an `@lid`).")
    phone: str | None = Field(description="E.164, when known.")
    lid: str | None = Field(description="The caller's `@lid`, when known.")


class CallReceivedData(BaseModel):
    call_id: str
    from_: CallParty = Field(alias="from")
    is_video: bool = Field(description="A video call (whatsmeow: read from the offer, best effort).")
    at: str
    rejected: bool = Field(description="Rejected at once by `settings.reject_calls`.")


class CallReceivedEvent(EventBase):
    data: CallReceivedData


class CallEndedData(BaseModel):
    call_id: str
    from_: CallParty = Field(alias="from")
    is_video: bool
    at: str
    reason: str | None = Field(description="`hangup`, `missed`, `rejected`, `busy`, or WhatsApp's own word.")
    duration_s: int | None = Field(description="Seconds talked, where the engine knows it (whatsmeow does not).")


class CallEndedEvent(EventBase):
    data: CallEndedData


class HistorySyncedData(BaseModel):
    instance_id: str
    conversations: int = Field(description="Conversations the import put messages in (each counted once).")
    messages: int = Field(description="Messages imported (a message already in the inbox is not counted again).")
    at: str = Field(description="When the import ended.")


class HistorySyncedEvent(EventBase):
    """Once per pairing, after the history WhatsApp handed the newly paired number is in the inbox."""

    data: HistorySyncedData

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "evt_01JD5VC3K3M4N5P6Q7R8S9T0V1",
                "type": "instance.history_synced",
                "created": "2026-11-24T12:10:00.000Z",
                "livemode": False,
                "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "data": {
                    "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                    "conversations": 12,
                    "messages": 340,
                    "at": "2026-11-24T12:10:00.000Z",
                },
            }
        }
    )
