"""Request and response bodies of the public API (they generate openapi.yaml)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.domain.errors import ERROR_CODES
from bzapper.domain.otp import TTL_MAX_SECONDS, TTL_MIN_SECONDS
from bzapper.domain.plans import MAX_TOP_UP, MIN_TOP_UP

ErrorCode = Literal[ERROR_CODES]  # type: ignore[valid-type]


class Strict(BaseModel):
    # An unknown field is a client bug worth reporting, not something to ignore silently.
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: ErrorCode = Field(description="Stable, neutral code: branch on this.")  # type: ignore[valid-type]
    message: str = Field(description="Human-readable, translated by Accept-Language or the account's locale.")
    locale: Literal["en", "pt-BR", "es"]
    request_id: str | None = Field(description="Quote it to support.")
    param: str | None = Field(default=None, description="The offending field, on validation errors.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "code": "instance_not_connected",
                "message": "The number is disconnected. Reconnect it and try again.",
                "locale": "en",
                "request_id": "req_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
            }
        }
    )


def reply_to_field() -> Any:
    return Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Quote a message of this conversation (a quoted reply): our id (`msg_…`, sent or "
        "received) or WhatsApp's message id.",
    )


def mentions_field() -> Any:
    return Field(
        default=None,
        max_length=50,
        description="People mentioned (E.164 phones or JIDs); write them in the text as `@5511988888888`.",
    )


class MessageAccepted(BaseModel):
    message_id: str
    status: Literal["queued"]
    client_reference: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "status": "queued",
                "client_reference": "lead-42",
            }
        }
    )


MessageStatusName = Literal[
    "queued", "sending", "sent", "delivered", "read", "played", "failed", "expired", "canceled", "received"
]
"""`received` is the status of an incoming message (direction `inbound`); the others are of the ones you send."""


class StatusChangeOut(BaseModel):
    status: MessageStatusName
    at: str = Field(description="RFC 3339, UTC.")


class MessageErrorOut(BaseModel):
    code: str


class MessageOut(BaseModel):
    message_id: str
    instance_id: str
    direction: Literal["outbound", "inbound"] = Field(
        default="outbound", description="`inbound` for a message you received: `to` then names the contact's chat."
    )
    type: str
    to: str = Field(description="E.164 phone when known, else the JID.")
    to_jid: str
    content: dict[str, Any]
    status: MessageStatusName
    history: list[StatusChangeOut] = Field(description="Every status reached, oldest first.")
    error: MessageErrorOut | None = None
    client_reference: str | None
    livemode: bool
    created: str
    updated: str
    edited: str | None = Field(default=None, description="When an edit of it reached WhatsApp (the latest).")
    deleted: str | None = Field(default=None, description="When its deletion for everyone reached WhatsApp.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "type": "text",
                "to": "+5511988888888",
                "to_jid": "5511988888888@s.whatsapp.net",
                "content": {"body": "Hello"},
                "status": "delivered",
                "history": [
                    {"status": "queued", "at": "2026-11-24T12:00:00.000Z"},
                    {"status": "sending", "at": "2026-11-24T12:00:00.050Z"},
                    {"status": "sent", "at": "2026-11-24T12:00:00.120Z"},
                    {"status": "delivered", "at": "2026-11-24T12:00:00.400Z"},
                ],
                "error": None,
                "client_reference": "lead-42",
                "livemode": False,
                "created": "2026-11-24T12:00:00.000Z",
                "updated": "2026-11-24T12:00:00.400Z",
            }
        }
    )


class Health(BaseModel):
    status: Literal["ok"]

    model_config = ConfigDict(json_schema_extra={"example": {"status": "ok"}})


class SandboxReceived(BaseModel):
    wa_message_id: str
    instance_id: str
    to_jid: str
    message: dict[str, Any]
    received_at: str


class SandboxReceivedList(BaseModel):
    data: list[SandboxReceived]

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [
                    {
                        "wa_message_id": "3EB0C5A1D2E3F4A5B6C7D8",
                        "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "to_jid": "5511988888888@s.whatsapp.net",
                        "message": {"type": "text", "body": "Hello"},
                        "received_at": "2026-11-24T12:00:00.120Z",
                    }
                ]
            }
        }
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        401: "Missing or invalid API key (`unauthorized`).",
        402: "Not enough credits (`insufficient_balance`).",
        403: "Not allowed for this key (`forbidden`).",
        404: "No such resource in this account (`not_found`).",
        409: "Conflict with the resource's state.",
        413: "Request body too large (`payload_too_large`).",
        422: "Invalid request (`validation_failed`, with `param`) or `idempotency_conflict`.",
        429: "Too many requests (`rate_limited`); wait `Retry-After` seconds.",
        500: "Unexpected error (`internal_error`); quote `request_id`.",
        503: "Busy (`temporarily_unavailable`): retry after `Retry-After` seconds; nothing was charged.",
    }
    # Every operation can refuse its input (422) or fail unexpectedly (500), in the one error shape.
    wanted = sorted({*statuses, 422, 500})
    return {status: {"model": ErrorBody, "description": descriptions[status]} for status in wanted}


Locale = Literal["en", "pt-BR", "es"]


class AccountOut(BaseModel):
    account_id: str
    name: str
    locale: Locale
    plan: str
    livemode: bool = Field(description="Whether the key used is a live key.")
    created: str

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "name": "Acme",
                "locale": "pt-BR",
                "plan": "payg",
                "livemode": False,
                "created": "2026-11-24T12:00:00.000Z",
            }
        }
    )


class AccountPatch(Strict):
    locale: Locale | None = Field(default=None, description="The language of messages and generated texts.")

    model_config = ConfigDict(json_schema_extra={"example": {"locale": "pt-BR"}})


class Limits(BaseModel):
    instances: int
    sends_per_minute: int
    webhooks: int
    media_size_bytes: int


class Usage(BaseModel):
    instances: int
    sends_this_minute: int
    webhooks: int


class Entitlements(BaseModel):
    plan: str
    price_per_send: int = Field(description="Centavos (BRL) debited per accepted send.")
    currency: Literal["BRL"]
    limits: Limits
    features: dict[str, bool]
    usage: Usage

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "plan": "payg",
                "price_per_send": 1,
                "currency": "BRL",
                "limits": {"instances": 3, "sends_per_minute": 120, "webhooks": 5, "media_size_bytes": 16777216},
                "features": {"experimental_interactive_messages": False},
                "usage": {"instances": 1, "sends_this_minute": 4, "webhooks": 0},
            }
        }
    )


class LedgerEntryOut(BaseModel):
    id: str
    amount: int = Field(description="Centavos: negative for a debit, positive for a credit.")
    reason: Literal["message", "refund", "top_up", "test_credits", "operator"] | str
    reference: str | None = Field(description="The message, checkout or operator behind the entry.")
    created: str


class Wallet(BaseModel):
    balance: int = Field(description="Centavos (BRL); test keys see the test wallet.")
    currency: Literal["BRL"]
    low_balance_threshold: int
    livemode: bool
    entries: list[LedgerEntryOut] = Field(description="Newest first.")
    has_more: bool
    next_cursor: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "balance": 9_998,
                "currency": "BRL",
                "low_balance_threshold": 500,
                "livemode": False,
                "entries": [
                    {
                        "id": "le_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "amount": -1,
                        "reason": "message",
                        "reference": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "created": "2026-11-24T12:00:00.000Z",
                    },
                ],
                "has_more": True,
                "next_cursor": "eyJ3YWxsZXRfaWQiOi4uLn0",
            }
        }
    )


class CheckoutRequest(Strict):
    amount: int = Field(ge=MIN_TOP_UP, le=MAX_TOP_UP, description="Centavos (BRL): R$ 10,00 to R$ 10.000,00.")
    method: Literal["pix", "card"] = "pix"

    model_config = ConfigDict(json_schema_extra={"example": {"amount": 5_000, "method": "pix"}})


class CheckoutOut(BaseModel):
    checkout_id: str
    url: str = Field(description="Send the payer here; the wallet is credited when the payment settles.")
    expires_at: str
    amount: int
    currency: Literal["BRL"]
    method: Literal["pix", "card"]

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "checkout_id": "chk_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "url": "https://checkout.stripe.com/c/pay/cs_live_...",
                "expires_at": "2026-11-24T13:00:00.000Z",
                "amount": 5_000,
                "currency": "BRL",
                "method": "pix",
            }
        }
    )


class UsageBucket(BaseModel):
    start: str
    sends: int
    otps: int
    delivered: int
    read: int
    failed: int
    inbound: int
    webhook_deliveries: int


class UsageReport(BaseModel):
    granularity: Literal["hour", "day"]
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    instance_id: str | None
    data: list[UsageBucket]
    totals: UsageBucket

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "example": {
                "granularity": "hour",
                "from": "2026-11-24T11:00:00.000Z",
                "to": "2026-11-24T13:00:00.000Z",
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "data": [
                    {
                        "start": "2026-11-24T12:00:00.000Z",
                        "sends": 42,
                        "otps": 3,
                        "delivered": 40,
                        "read": 31,
                        "failed": 1,
                        "inbound": 12,
                        "webhook_deliveries": 55,
                    }
                ],
                "totals": {
                    "start": "2026-11-24T11:00:00.000Z",
                    "sends": 42,
                    "otps": 3,
                    "delivered": 40,
                    "read": 31,
                    "failed": 1,
                    "inbound": 12,
                    "webhook_deliveries": 55,
                },
            }
        },
    )


class Received(BaseModel):
    received: bool

    model_config = ConfigDict(json_schema_extra={"example": {"received": True}})


EventPattern = Field(
    description="Event types (`message.sent`) or families (`message.*`); omitted = every event; an empty list is 422."
)


class WebhookCreate(Strict):
    url: str = Field(min_length=8, max_length=2048, description="https URL that receives the POSTs.")
    events: list[str] | None = Field(default=None, max_length=50, description=EventPattern.description)
    description: str | None = Field(default=None, max_length=256)

    model_config = ConfigDict(
        json_schema_extra={"example": {"url": "https://example.com/hooks/bzapper", "events": ["message.*"]}}
    )


class WebhookPatch(Strict):
    """Only the fields sent change. `events: null` means every event (`[]` is 422); `description: null` clears it."""

    url: str = Field(default=None, min_length=8, max_length=2048)  # type: ignore[assignment]
    events: list[str] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=256)
    status: Literal["enabled", "disabled"] = Field(default=None)  # type: ignore[assignment]

    model_config = ConfigDict(
        json_schema_extra={"example": {"events": ["message.*", "webhook.*"], "status": "enabled"}}
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str] | None
    description: str | None
    status: Literal["enabled", "disabled"]
    livemode: bool
    created: str
    updated: str
    secret: str | None = Field(default=None, description="`whsec_…`: shown only at creation and rotation.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "wh_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "url": "https://example.com/hooks/bzapper",
                "events": ["message.*"],
                "description": None,
                "status": "enabled",
                "livemode": False,
                "created": "2026-11-24T12:00:00.000Z",
                "updated": "2026-11-24T12:00:00.000Z",
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            }
        }
    )


class WebhookList(BaseModel):
    data: list[WebhookOut]

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [
                    {
                        "id": "wh_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "url": "https://example.com/hooks/bzapper",
                        "events": ["message.*"],
                        "description": None,
                        "status": "enabled",
                        "livemode": False,
                        "created": "2026-11-24T12:00:00.000Z",
                        "updated": "2026-11-24T12:00:00.000Z",
                        "secret": None,
                    }
                ]
            }
        }
    )


class DeliveryAttemptOut(BaseModel):
    at: str
    status_code: int | None
    latency_ms: int
    error: str | None


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    status: Literal["pending", "retrying", "delivered", "failed"]
    attempts: list[DeliveryAttemptOut]
    created: str


class DeliveryList(BaseModel):
    data: list[DeliveryOut]
    has_more: bool
    next_cursor: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [
                    {
                        "id": "dlv_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "event_id": "evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "event_type": "message.delivered",
                        "status": "delivered",
                        "attempts": [
                            {"at": "2026-11-24T12:00:01.000Z", "status_code": 503, "latency_ms": 84, "error": None},
                            {"at": "2026-11-24T12:00:06.000Z", "status_code": 204, "latency_ms": 41, "error": None},
                        ],
                        "created": "2026-11-24T12:00:01.000Z",
                    }
                ],
                "has_more": False,
                "next_cursor": None,
            }
        }
    )


class DeliveryQueued(BaseModel):
    delivery_id: str
    event_id: str

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"delivery_id": "dlv_01JD5V6W4E7R8T9Y0U1I2O3P4Q", "event_id": "evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q"}
        }
    )


def html_responses(*statuses: int, example: str) -> dict[int | str, dict[str, Any]]:
    """An HTML page (200 and the given error statuses, each a page too), plus the JSON errors of any route."""
    pages: dict[int | str, dict[str, Any]] = {
        status: {
            "description": "An HTML page." if status == 200 else f"An HTML page explaining the refusal ({status}).",
            "content": {"text/html": {"schema": {"type": "string"}, **({"example": example} if status == 200 else {})}},
        }
        for status in (200, *statuses)
    }
    return {**pages, **error_responses()}


def event_stream_response(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a Server-Sent Events operation (`text/event-stream`), for the contract.

    The wire format: each event has an `id:` (send it back as `Last-Event-ID` to resume), an `event:`
    type and one `data:` line of JSON; `retry:` says how long to wait before reconnecting, and lines
    starting with `:` are heartbeats.
    """
    return {
        200: {
            "description": description,
            "content": {"text/event-stream": {"schema": {"type": "string"}, "example": example}},
        }
    }


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


class MessageEventData(BaseModel):
    message_id: str
    status: MessageStatusName
    to: str
    client_reference: str | None
    error: MessageEventError | None = None


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


# --- Every message type (docs/messages.md) ---------------------------------------------------------------

_INSTANCE = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_TO = "+5511988888888"


def _example(**fields: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"example": {"instance_id": _INSTANCE, "to": _TO, **fields}})


class Addressed(Strict):
    """Who sends (or which of your numbers we choose) and to whom: every send, OTP included."""

    instance_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The connected number to send from. Omitted: one of your connected numbers, the same one "
        "for a recipient as long as it stays connected (409 `no_number_available` when none is).",
    )
    to: str = Field(
        min_length=1,
        max_length=64,
        description="E.164 phone number (Brazil's ninth digit is added when missing) or a WhatsApp JID "
        "(`…@s.whatsapp.net`, `…@lid`).",
    )


class SendEnvelope(Addressed):
    """What every send has, whatever its type (the same as POST /messages/text)."""

    client_reference: str | None = Field(
        default=None, max_length=128, description="Your own reference, echoed in every response and event."
    )
    reply_to: str | None = reply_to_field()
    mentions: list[str] | None = mentions_field()


class SendTextRequest(SendEnvelope):
    body: str = Field(min_length=1, max_length=4096)

    model_config = _example(body="Hello", client_reference="lead-42")


class MediaSend(SendEnvelope):
    url: str | None = Field(
        default=None,
        min_length=8,
        max_length=2048,
        description="A public https URL we download once (within 10 s, up to the kind's size limit). "
        "Exactly one of `url` and `media_id`.",
    )
    media_id: str | None = Field(
        default=None, max_length=64, description="A file uploaded with POST /media (or a completed upload)."
    )
    mime_type: str | None = Field(
        default=None,
        max_length=127,
        description="Only a label for a document whose content has no signature (plain text, CSV): the "
        "file's own bytes decide its type, never its name or this field.",
    )


def caption_field() -> Any:
    return Field(default=None, min_length=1, max_length=1024, description="Shown under the media (1024 max).")


class SendImageRequest(MediaSend):
    """JPEG or PNG, up to 16 MB (or the plan's media size)."""

    caption: str | None = caption_field()

    model_config = _example(url="https://example.com/catalogue.jpg", caption="Our new catalogue")


class SendVideoRequest(MediaSend):
    """MP4 (H.264 + AAC) or 3GPP, up to 16 MB."""

    caption: str | None = caption_field()

    model_config = _example(media_id="med_01JD5V6W4E7R8T9Y0U1I2O3P4Q", caption="How to install")


class SendDocumentRequest(MediaSend):
    """Any file up to 100 MB (or the plan's media size)."""

    caption: str | None = caption_field()
    filename: str | None = Field(
        default=None,
        min_length=1,
        max_length=240,
        description="The name the recipient sees (default: the uploaded or downloaded file's name).",
    )

    model_config = _example(url="https://example.com/invoices/1234.pdf", filename="invoice-1234.pdf")


class SendAudioRequest(MediaSend):
    """AAC, AMR, MP3, M4A or OGG, up to 16 MB. A voice note must be OGG/Opus."""

    voice: bool = Field(
        default=False, description="Send as a voice note (push-to-talk): OGG/Opus only; can reach `played`."
    )

    model_config = _example(media_id="med_01JD5V6W4E7R8T9Y0U1I2O3P4Q", voice=True)


class SendStickerRequest(MediaSend):
    """WebP: 100 KB static, 500 KB animated."""

    model_config = _example(url="https://example.com/stickers/thumbs-up.webp")


class SendLocationRequest(SendEnvelope):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = Field(default=None, min_length=1, max_length=1000)
    address: str | None = Field(default=None, min_length=1, max_length=1000)

    model_config = _example(
        latitude=-23.561684, longitude=-46.655981, name="MASP", address="Av. Paulista, 1578 - São Paulo"
    )


class ContactPhone(Strict):
    number: str = Field(min_length=1, max_length=64, description="E.164 preferably: it becomes WhatsApp's `waid`.")
    type: Literal["CELL", "MAIN", "HOME", "WORK", "IPHONE", "OTHER"] | None = None


class ContactCard(Strict):
    name: str = Field(min_length=1, max_length=256)
    phones: list[ContactPhone] = Field(min_length=1, max_length=10)
    emails: list[str] | None = Field(default=None, max_length=10)
    organization: str | None = Field(default=None, min_length=1, max_length=256)


class SendContactRequest(SendEnvelope):
    """Contact cards, rendered to the vCards WhatsApp shows (with "Message" and "Add" buttons)."""

    contacts: list[ContactCard] = Field(min_length=1, max_length=10)

    model_config = _example(
        contacts=[
            {
                "name": "Maria Silva",
                "phones": [{"number": "+5511977770001", "type": "CELL"}],
                "emails": ["maria@example.com"],
                "organization": "Acme",
            }
        ]
    )


class SendPollRequest(SendEnvelope):
    name: str = Field(min_length=1, max_length=255, description="The question.")
    options: list[str] = Field(min_length=2, max_length=12, description="2 to 12 different options.")
    selectable_count: int = Field(
        default=1, ge=1, le=12, description="How many options one person may choose: 1 is a single choice."
    )

    model_config = _example(name="Best day for the meeting?", options=["Monday", "Wednesday", "Friday"])


class SendReactionRequest(SendEnvelope):
    message_id: str = Field(
        min_length=1, max_length=128, description="The message reacted to: our id (`msg_…`) or WhatsApp's."
    )
    emoji: str = Field(max_length=32, description='One emoji; `""` removes your reaction.')

    model_config = _example(message_id="msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q", emoji="👍")


class ReplyButton(Strict):
    id: str = Field(min_length=1, max_length=256, description="Comes back in the reply when it is tapped.")
    title: str = Field(min_length=1, max_length=20)


class SendButtonsRequest(SendEnvelope):
    """Experimental: needs the `experimental_interactive_messages` entitlement (else 403 `not_supported`)."""

    body: str = Field(min_length=1, max_length=1024)
    footer: str | None = Field(default=None, min_length=1, max_length=60)
    buttons: list[ReplyButton] = Field(min_length=1, max_length=3)

    model_config = _example(
        body="Confirm your appointment on Monday at 10:00?",
        footer="Clínica Exemplo",
        buttons=[{"id": "confirm", "title": "Confirm"}, {"id": "reschedule", "title": "Reschedule"}],
    )


class ListRow(Strict):
    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=24)
    description: str | None = Field(default=None, min_length=1, max_length=72)


class ListSection(Strict):
    title: str = Field(min_length=1, max_length=24)
    rows: list[ListRow] = Field(min_length=1, max_length=10)


class SendListRequest(SendEnvelope):
    """Experimental: needs the `experimental_interactive_messages` entitlement (else 403 `not_supported`)."""

    body: str = Field(min_length=1, max_length=4096)
    footer: str | None = Field(default=None, min_length=1, max_length=60)
    button_text: str = Field(min_length=1, max_length=20, description="The button that opens the list.")
    sections: list[ListSection] = Field(min_length=1, max_length=10, description="At most 10 rows in all.")

    model_config = _example(
        body="Choose a time slot",
        button_text="See times",
        sections=[
            {
                "title": "Monday",
                "rows": [
                    {"id": "mon-10", "title": "10:00", "description": "With Dr. Souza"},
                    {"id": "mon-14", "title": "14:00"},
                ],
            }
        ],
    )


class MessageEditRequest(Strict):
    body: str = Field(
        min_length=1, max_length=4096, description="The new text (of a text), or the new caption (1024 max)."
    )
    client_reference: str | None = Field(default=None, max_length=128)

    model_config = ConfigDict(json_schema_extra={"example": {"body": "Hello, Maria (edited)"}})


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


# --- Media -----------------------------------------------------------------------------------------------


class MediaOut(BaseModel):
    media_id: str
    mime_type: str = Field(description="From the file's own signature (its bytes), not its name.")
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="Hex SHA-256 of the bytes.")
    filename: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "media_id": "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "mime_type": "image/jpeg",
                "size": 482113,
                "sha256": "9f2c7a0e5b1d4c3a8e6f0b2d4c6a8e0f1b3d5c7a9e1f3b5d7c9a1e3f5b7d9c1a",
                "filename": "catalogue.jpg",
            }
        }
    )


class UploadForm(BaseModel):
    method: Literal["POST"]
    url: str = Field(description="POST a multipart form here: every `fields` entry, then the file as `file`.")
    fields: dict[str, str]


class UploadStarted(BaseModel):
    media_id: str
    upload: UploadForm
    max_size: int = Field(description="Bytes: S3 refuses a larger file.")
    expires_at: str = Field(description="Upload before this, then call POST /media/uploads/{media_id}/complete.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "media_id": "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "upload": {
                    "method": "POST",
                    "url": "https://bzapper-prod-media.s3.amazonaws.com/",
                    "fields": {
                        "key": "uploads/acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q/live/med_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "x-amz-algorithm": "AWS4-HMAC-SHA256",
                        "x-amz-credential": "ASIA.../20261124/sa-east-1/s3/aws4_request",
                        "x-amz-date": "20261124T120000Z",
                        "x-amz-security-token": "IQoJb3JpZ2luX2Vj...",
                        "policy": "eyJleHBpcmF0aW9uIjogIjIwMjYtMTEtMjRUMTM6MDA6MDBaIiwgLi4ufQ==",
                        "x-amz-signature": "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
                    },
                },
                "max_size": 16777216,
                "expires_at": "2026-11-24T13:00:00.000Z",
            }
        }
    )


class UploadComplete(Strict):
    filename: str | None = Field(default=None, min_length=1, max_length=240)
    mime_type: str | None = Field(
        default=None, max_length=127, description="Only used when the file's bytes have no known signature."
    )

    model_config = ConfigDict(json_schema_extra={"example": {"filename": "report-2026-11.pdf"}})


# --- Inbox ------------------------------------------------------------------------------------------

_INST = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_PHONE_JID = "5511988888888@s.whatsapp.net"
_LID = "123456789012345@lid"
_GROUP_JID = "120363025246125888@g.us"


class LastMessageOut(BaseModel):
    message_id: str
    direction: Literal["inbound", "outbound"]
    type: str
    text: str | None = Field(description="Body, caption or name, cut at 120 characters; null when it has none.")
    at: str


class ConversationOut(BaseModel):
    jid: str = Field(
        description="The contact's phone JID when its phone is known, else its `@lid` JID; a group's `@g.us` JID."
    )
    type: Literal["contact", "group"] = Field(
        description="`contact`: a one-to-one chat; `group`: a WhatsApp group (each message's `from` is who wrote it)."
    )
    instance_id: str
    phone: str | None = Field(description="E.164, when known; null for a group.")
    lid: str | None = Field(description="The contact's `@lid` JID, when known; null for a group.")
    name: str | None = Field(
        description="The contact's WhatsApp name, as its last message carried it; a group's subject when the "
        "engine reports it (the sandbox does, whatsmeow does not yet), else null."
    )
    unread_count: int
    last_message: LastMessageOut | None
    last_activity: str
    livemode: bool
    created: str


_CONVERSATION_EXAMPLE = {
    "jid": _PHONE_JID,
    "type": "contact",
    "instance_id": _INST,
    "phone": "+5511988888888",
    "lid": _LID,
    "name": "Maria",
    "unread_count": 2,
    "last_message": {
        "message_id": "msg_01JD5V9Q0A1B2C3D4E5F6G7H8J",
        "direction": "inbound",
        "type": "text",
        "text": "Is the order on its way?",
        "at": "2026-11-24T12:03:00.000Z",
    },
    "last_activity": "2026-11-24T12:03:00.000Z",
    "livemode": False,
    "created": "2026-11-24T12:00:00.000Z",
}


_GROUP_CONVERSATION_EXAMPLE = {
    "jid": _GROUP_JID,
    "type": "group",
    "instance_id": _INST,
    "phone": None,
    "lid": None,
    "name": "Orders team",
    "unread_count": 1,
    "last_message": {
        "message_id": "msg_01JD5VB2K3M4N5P6Q7R8S9T0V1",
        "direction": "inbound",
        "type": "text",
        "text": "Shipped the 3 boxes",
        "at": "2026-11-24T11:58:00.000Z",
    },
    "last_activity": "2026-11-24T11:58:00.000Z",
    "livemode": False,
    "created": "2026-11-20T09:00:00.000Z",
}


class ConversationList(BaseModel):
    data: list[ConversationOut] = Field(description="Newest activity first.")
    has_more: bool
    next_cursor: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [_CONVERSATION_EXAMPLE, _GROUP_CONVERSATION_EXAMPLE],
                "has_more": False,
                "next_cursor": None,
            }
        }
    )


class ConversationReadOut(ConversationOut):
    receipts_sent: int = Field(description="Messages whose read receipts were handed to the number's session.")

    model_config = ConfigDict(
        json_schema_extra={"example": {**_CONVERSATION_EXAMPLE, "unread_count": 0, "receipts_sent": 2}}
    )


class PartyOut(BaseModel):
    jid: str | None
    phone: str | None
    lid: str | None
    name: str | None


InboxStatusName = Literal[
    "received", "queued", "sending", "sent", "delivered", "read", "played", "failed", "expired", "canceled"
]


class InboxMessageOut(BaseModel):
    message_id: str
    wa_message_id: str = Field(description="WhatsApp's id: reactions, replies and edits name their target by it.")
    direction: Literal["inbound", "outbound"]
    sent_from: Literal["api", "phone"] | None = Field(
        description="Outbound only: sent through this API, or from the phone itself (its echo)."
    )
    from_: PartyOut | None = Field(
        alias="from", description="Inbound only: who sent it (in a group, the participant who wrote)."
    )
    chat_jid: str = Field(description="The chat as WhatsApp named it (a phone JID, an `@lid` or a group's `@g.us`).")
    type: str
    content: dict[str, Any] = Field(
        description="As sent; media as `{media_id, url: /media/{id}, mime_type, size, filename?}`; "
        "a verification code masked."
    )
    status: InboxStatusName = Field(description="Inbound: `received` or `read` (by POST …/read); outbound: its status.")
    history: list[StatusChangeOut] = Field(description="Outbound: every status reached, oldest first.")
    error: MessageErrorOut | None = None
    client_reference: str | None
    at: str = Field(description="When WhatsApp has it: received, or sent.")

    model_config = ConfigDict(populate_by_name=True)


class ConversationMessages(BaseModel):
    conversation: ConversationOut
    data: list[InboxMessageOut] = Field(description="Both directions, newest first.")
    has_more: bool
    next_cursor: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "conversation": _CONVERSATION_EXAMPLE,
                "data": [
                    {
                        "message_id": "msg_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                        "wa_message_id": "3A5F0C1D2E3F4A5B6C7D",
                        "direction": "inbound",
                        "sent_from": None,
                        "from": {"jid": _PHONE_JID, "phone": "+5511988888888", "lid": _LID, "name": "Maria"},
                        "chat_jid": _PHONE_JID,
                        "type": "image",
                        "content": {
                            "caption": "Is the order on its way?",
                            "media": {
                                "media_id": "med_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                                "url": "/media/med_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                                "mime_type": "image/jpeg",
                                "size": 48213,
                            },
                        },
                        "status": "received",
                        "history": [],
                        "error": None,
                        "client_reference": None,
                        "at": "2026-11-24T12:03:00.000Z",
                    },
                    {
                        "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "wa_message_id": "3EB0C5A1D2E3F4A5B6C7",
                        "direction": "outbound",
                        "sent_from": "api",
                        "from": None,
                        "chat_jid": _PHONE_JID,
                        "type": "text",
                        "content": {"body": "Hello"},
                        "status": "read",
                        "history": [
                            {"status": "queued", "at": "2026-11-24T12:00:00.000Z"},
                            {"status": "sending", "at": "2026-11-24T12:00:00.050Z"},
                            {"status": "sent", "at": "2026-11-24T12:00:00.120Z"},
                            {"status": "read", "at": "2026-11-24T12:01:00.000Z"},
                        ],
                        "error": None,
                        "client_reference": "lead-42",
                        "at": "2026-11-24T12:00:00.120Z",
                    },
                ],
                "has_more": True,
                "next_cursor": "eyJpIjoiaW5zdF8uLi4iLCJzIjoiLi4uIn0",
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


# --- Sandbox: pairing and inbound messages, simulated (test keys only) --------------------------------

SandboxInboundType = Literal[
    "audio",
    "contact",
    "document",
    "edit",
    "image",
    "location",
    "poll",
    "reaction",
    "revoke",
    "sticker",
    "text",
    "unknown",
    "video",
]


class SandboxScanRequest(Strict):
    phone: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The number whose phone scans (E.164). Default: one derived from the instance id, "
        "+55 11 97xxx-xxxx. Ignored with `code` (the code names its number).",
    )
    code: str | None = Field(
        default=None,
        min_length=8,
        max_length=16,
        description="Confirm this pairing code (from `POST /instances/{id}/pairing-code`) instead of scanning the QR.",
    )

    model_config = ConfigDict(json_schema_extra={"example": {"phone": "+5511955550001"}})


class SandboxInstanceState(BaseModel):
    instance_id: str
    state: Literal["disconnected", "pairing", "connected", "logged_out", "restricted", "failed"] = Field(
        description="What the sandbox network sees now; the instance's own status follows through the worker."
    )
    phone: str | None
    lid: str | None
    push_name: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "state": "connected",
                "phone": "+5511955550001",
                "lid": "112345678901234567@lid",
                "push_name": "Sandbox 0001",
            }
        }
    )


class SandboxInboundRequest(Strict):
    sender: str = Field(
        alias="from",
        min_length=1,
        max_length=64,
        description="The contact who writes: E.164, a phone JID or an `@lid` JID. With `from_me`, the contact "
        "the instance's own phone writes to; with `from_me` and `group`, the phone writes in the group.",
    )
    group: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Write in this WhatsApp group (a `@g.us` JID) instead of to the instance: `from` is the "
        "participant who writes. The sandbox models no membership: any well-formed group JID works.",
    )
    group_name: str | None = Field(
        default=None, min_length=1, max_length=128, description="The group's subject, reported with the message."
    )
    type: SandboxInboundType
    content: dict[str, Any] | None = Field(
        default=None,
        description="The message's content, shaped as the inbox shows it for that type. Media: "
        '`{"media": {"mime_type", "data_base64", "filename"?}, "caption"?}`.',
    )
    body: str | None = Field(default=None, max_length=4096, description="Shortcut for `content.body` (a text).")
    from_me: bool = Field(default=False, description="Sent by the instance's own phone (another device).")
    push_name: str | None = Field(default=None, min_length=1, max_length=128, description="The sender's name.")
    wa_message_id: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z]{1,64}$",
        description="Choose the WhatsApp id (the same one again is delivered again, as WhatsApp may redeliver).",
    )

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {"from": "+5511988888888", "type": "text", "body": "Oi! Quero um orçamento."},
                {
                    "from": "+5511988888888",
                    "group": "120363025246125888@g.us",
                    "group_name": "Orders team",
                    "type": "text",
                    "body": "Shipped the 3 boxes",
                },
            ]
        },
    )


class SandboxInboundAccepted(BaseModel):
    wa_message_id: str

    model_config = ConfigDict(json_schema_extra={"example": {"wa_message_id": "3A5F0C1D2E3F4A5B6C7D"}})


# --- Verification codes (POST /messages/otp, docs/otp.md) -------------------------------------------------


class SendOtpRequest(Addressed):
    """A verification code in two WhatsApp messages: a text, then the code alone (easy to copy). Charged and
    counted as one send, sent through the number's priority lane. The code is never stored: not in the
    message, the inbox, events, webhooks, logs or queues in clear (it travels sealed to the worker); the
    inbox and every event show `••••••`, and the code bubble's echo from the phone is masked too."""

    code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4,10}$",
        description="Your code: 4 to 10 digits. Omitted: we generate one (`length` digits, from a CSPRNG) and "
        "answer it once, in this response.",
    )
    length: int = Field(default=6, ge=4, le=10, description="Digits of a generated code (only without `code`).")
    body: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="The first message. Omitted: written for you in `language`, naming your account and the "
        "expiry. It must not contain the code (the code is the second message).",
    )
    ttl_seconds: int = Field(
        default=600,
        ge=TTL_MIN_SECONDS,
        le=TTL_MAX_SECONDS,
        description="How long the code is valid: said in the generated text, and a code no worker could send "
        "in time is never sent late (the message fails with `otp_expired`, refunded).",
    )
    language: Literal["en", "pt-BR", "es"] | None = Field(
        default=None, description="The generated text's language. Omitted: your account's locale (PATCH /me)."
    )
    client_reference: str | None = Field(
        default=None, max_length=128, description="Your own reference, echoed in every response and event."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"instance_id": _INSTANCE, "to": _TO, "client_reference": "login-42"},
                {"instance_id": _INSTANCE, "to": _TO, "code": "482913", "ttl_seconds": 300, "language": "pt-BR"},
            ]
        }
    )


class OtpAccepted(MessageAccepted):
    code: str | None = Field(
        default=None,
        description="Only when we generated the code: shown this once and stored nowhere, so a replay of the "
        "same Idempotency-Key answers without it.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "status": "queued",
                "client_reference": "login-42",
                "code": "482913",
            }
        }
    )
