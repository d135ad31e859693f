"""Sending every message type (docs/messages.md), a verification code (docs/otp.md), reading, editing and
deleting a message."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from bzapper.api.schemas.common import (
    HTTP_URL_PATTERN,
    IN_NUMBERING_PLAN,
    ULID,
    Destination,
    MessageErrorOut,
    MessageStatusName,
    Recipient,
    StatusChangeOut,
    Strict,
    documented,
)
from bzapper.domain.otp import CODE_LENGTH_MAX, CODE_LENGTH_MIN, TTL_MAX_SECONDS, TTL_MIN_SECONDS

MessageReference = Annotated[str, documented(pattern=rf"^(?:msg_{ULID}|[0-9A-Za-z]{{6,64}})$")]
"""A message named by our id or by WhatsApp's (as bzapper.services.sending reads a reference)."""
MediaId = Annotated[str, documented(pattern=rf"^med_{ULID}$")]
WebUrl = Annotated[str, documented(pattern=HTTP_URL_PATTERN)]


def reply_to_field() -> Any:
    return Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Quote a message of this conversation (a quoted reply): our id (`msg_…`, sent or "
        "received) or WhatsApp's message id. It must name a message of this conversation (a 422 otherwise: "
        "which messages exist is not in the schema).",
    )


MENTIONS = "People mentioned (E.164 phones or JIDs); write them in the text as `@5511988888888`."


def mentions_field(description: str = MENTIONS) -> Any:
    return Field(default=None, max_length=50, description=description)


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


class PricingOut(BaseModel):
    """Meta's pricing of a message, as its status webhooks reported it (docs/templates.md)."""

    category: str = Field(description="`marketing`, `utility`, `authentication` or `service` (or a newer one).")
    billable: bool
    model: str | None = Field(description="Meta's pricing model (`PMP`: per message).")


class ParticipantStatusOut(BaseModel):
    """One group participant's receipt of a message sent to a group."""

    phone: str | None = Field(description="E.164, when WhatsApp named the participant by phone.")
    lid: str | None = Field(description="The participant's `@lid` JID, when known.")
    status: MessageStatusName = Field(description="The furthest receipt from this participant: delivered, read…")
    at: str


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
    pricing: PricingOut | None = Field(
        default=None, description="What Meta said it costs (Cloud API numbers), from its first priced status."
    )
    participants: list[ParticipantStatusOut] | None = Field(
        default=None,
        description="A message sent to a group: each participant's own receipt, where WhatsApp reports them "
        "(`status` is then the furthest any participant reached). Null for other messages.",
    )

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


_INSTANCE = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_TO = "+5511988888888"
# Request examples of fields the schema gives a pattern: real ids (a ULID never holds I, L, O or U).
_MEDIA = "med_01JD5V6W4E7R8T9Y0V1W2X3Y4Z"
_MESSAGE = "msg_01JD5V6W4E7R8T9Y0V1W2X3Y4Z"


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
    to: Recipient = Field(
        min_length=1,
        max_length=64,
        description="E.164 phone number (Brazil's ninth digit is added when missing) or a WhatsApp JID "
        "(`…@s.whatsapp.net`, `…@lid`)." + IN_NUMBERING_PLAN,
    )


class SendEnvelope(Addressed):
    """What every send has, whatever its type (the same as POST /messages/text)."""

    to: Destination = Field(  # type: ignore[assignment]
        min_length=1,
        max_length=64,
        description="E.164 phone number (Brazil's ninth digit is added when missing), a WhatsApp JID "
        "(`…@s.whatsapp.net`, `…@lid`) or a group's JID (`…@g.us`, a group the sending number is in; with "
        "several connected numbers, name it in `instance_id`)." + IN_NUMBERING_PLAN,
    )
    client_reference: str | None = Field(
        default=None, max_length=128, description="Your own reference, echoed in every response and event."
    )
    reply_to: MessageReference | None = reply_to_field()
    mentions: list[Recipient] | None = mentions_field(
        MENTIONS + " Each number must exist in the numbering plan (a 422 on `mentions.<i>` otherwise)."
    )


class SendTextRequest(SendEnvelope):
    body: str = Field(min_length=1, max_length=4096)

    model_config = _example(body="Hello", client_reference="lead-42")


class MediaSend(SendEnvelope):
    """Exactly one of `url` and `media_id` (the schema's `oneOf`). The file itself must then suit the kind (its
    bytes decide its type and size, which no schema sees): a 422 on the field that named it otherwise."""

    url: WebUrl | None = Field(
        default=None,
        min_length=8,
        max_length=2048,
        description="A public https URL we download once (within 10 s, up to the kind's size limit). "
        "Exactly one of `url` and `media_id`. Its host must resolve to a public address (a 422 otherwise).",
    )
    media_id: MediaId | None = Field(
        default=None,
        max_length=64,
        description="A file uploaded with POST /media (or a completed upload) of this account (a 422 otherwise).",
    )
    mime_type: str | None = Field(
        default=None,
        max_length=127,
        description="Only a label for a document whose content has no signature (plain text, CSV): the "
        "file's own bytes decide its type, never its name or this field.",
    )

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        handler.resolve_ref_schema(schema)["oneOf"] = [
            {"required": [field], "properties": {field: {"type": "string"}}} for field in ("url", "media_id")
        ]
        return schema


def caption_field() -> Any:
    return Field(default=None, min_length=1, max_length=1024, description="Shown under the media (1024 max).")


class SendImageRequest(MediaSend):
    """JPEG or PNG, up to 16 MB (or the plan's media size)."""

    caption: str | None = caption_field()

    model_config = _example(url="https://example.com/catalogue.jpg", caption="Our new catalogue")


class SendVideoRequest(MediaSend):
    """MP4 (H.264 + AAC) or 3GPP, up to 16 MB."""

    caption: str | None = caption_field()

    model_config = _example(media_id=_MEDIA, caption="How to install")


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

    model_config = _example(media_id=_MEDIA, voice=True)


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


POLL_OPTIONS_MIN = 2
POLL_OPTIONS_MAX = 12
SELECTABLE_AT_MOST_OPTIONS = {
    "anyOf": [
        {"properties": {"selectable_count": {"maximum": POLL_OPTIONS_MIN}}},
        *(
            {"properties": {"selectable_count": {"const": count}, "options": {"minItems": count}}}
            for count in range(POLL_OPTIONS_MIN + 1, POLL_OPTIONS_MAX + 1)
        ),
    ]
}
"""`selectable_count` at most the number of options (bzapper.api.content.poll_content's rule)."""


class SendPollRequest(SendEnvelope):
    name: str = Field(min_length=1, max_length=255, description="The question.")
    options: list[str] = Field(
        min_length=POLL_OPTIONS_MIN,
        max_length=POLL_OPTIONS_MAX,
        json_schema_extra={"uniqueItems": True},
        description="2 to 12 different options, also once trimmed and compared without case (`Yes` and ` yes` "
        "are one option: a 422 the schema's `uniqueItems` does not catch).",
    )
    selectable_count: int = Field(
        default=1,
        ge=1,
        le=POLL_OPTIONS_MAX,
        description="How many options one person may choose: 1 is a single choice; at most the number of options.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "instance_id": _INSTANCE,
                "to": _TO,
                "name": "Best day for the meeting?",
                "options": ["Monday", "Wednesday", "Friday"],
            },
            **SELECTABLE_AT_MOST_OPTIONS,
        }
    )


class SendReactionRequest(SendEnvelope):
    message_id: MessageReference = Field(
        min_length=1,
        max_length=128,
        description="The message reacted to: our id (`msg_…`) or WhatsApp's, of this conversation (a 422 otherwise).",
    )
    emoji: str = Field(
        max_length=32,
        description='One emoji; `""` removes your reaction. A single emoji is a rule of Unicode\'s emoji data, '
        "which no pattern states (a 422 on `emoji` otherwise).",
    )

    model_config = _example(message_id=_MESSAGE, emoji="👍")


class ReplyButton(Strict):
    id: str = Field(min_length=1, max_length=256, description="Comes back in the reply when it is tapped.")
    title: str = Field(min_length=1, max_length=20)


class SendButtonsRequest(SendEnvelope):
    """Experimental: needs the `experimental_interactive_messages` entitlement (else 403 `not_supported`)."""

    body: str = Field(min_length=1, max_length=1024)
    footer: str | None = Field(default=None, min_length=1, max_length=60)
    buttons: list[ReplyButton] = Field(
        min_length=1,
        max_length=3,
        json_schema_extra={"uniqueItems": True},
        description="Each with its own `id` (a rule on one property of the items, which no schema states: a 422 "
        "on `buttons` otherwise).",
    )

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
    sections: list[ListSection] = Field(
        min_length=1,
        max_length=10,
        description="At most 10 rows in all, each with its own `id` across sections (rules across items, which no "
        "schema states: a 422 on `sections` otherwise).",
    )

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
    length: int = Field(
        default=6,
        ge=4,
        le=10,
        description="Digits of a generated code. With `code` too, it must be the code's length.",
    )
    body: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="The first message. Omitted: written for you in `language`, naming your account and the "
        "expiry. It must not contain the code (the code is the second message; a 422 on `body` otherwise, a "
        "rule between two fields that no schema states).",
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
            ],
            # `length` and `code` given together agree: no code, no `length`, or a code of `length` digits.
            "anyOf": [
                {"properties": {"code": {"type": "null"}}},
                {"not": {"required": ["length"]}},
                *(
                    {"properties": {"code": {"pattern": f"^[0-9]{{{digits}}}$"}, "length": {"const": digits}}}
                    for digits in range(CODE_LENGTH_MIN, CODE_LENGTH_MAX + 1)
                ),
            ],
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
