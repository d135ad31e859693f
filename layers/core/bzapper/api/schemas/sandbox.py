"""The sandbox network's other side (test keys only): what a contact received, a phone scanning a QR, a contact
writing."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from bzapper.api.schemas.common import (
    GROUP_JID,
    IN_NUMBERING_PLAN,
    PHONE,
    PHONE_JID,
    Recipient,
    Strict,
    documented,
    whole,
)
from bzapper.api.schemas.inbound import BODY_SHORTCUT, CONTENT_BESIDE_BODY, CONTENT_MODELS


class SandboxReceived(BaseModel):
    wa_message_id: str
    instance_id: str
    to_jid: str
    message: dict[str, Any]
    received_at: str
    group_jid: str | None = Field(
        default=None,
        description="Received in this group (a message to the group, or an invite to it: `message.type` "
        "`group_invite`); null for a one-to-one message.",
    )


class SandboxJoinRequest(Strict):
    invite_link: str = Field(
        min_length=1, max_length=128, description="The group's invite link (`GET /groups/{jid}/invite-link`)."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"invite_link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv"}}
    )


class SandboxJoined(BaseModel):
    group_jid: str

    model_config = ConfigDict(json_schema_extra={"example": {"group_jid": "120363025246125888@g.us"}})


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


_WA_ID = Field(
    default=None,
    pattern=r"^[0-9A-Za-z]{1,64}$",
    description="Choose the message's WhatsApp id (e.g. to deliver it live too, by the inbound control).",
)


class SandboxHistoryMessage(Strict):
    body: str = Field(min_length=1, max_length=4096, description="A text message.")
    from_me: bool = Field(default=False, description="Written by the number's own phone.")
    sender: Recipient | None = Field(
        default=None,
        alias="from",
        min_length=1,
        max_length=64,
        description="In a group, the participant who wrote it (required there unless `from_me`); ignored in a "
        "one-to-one conversation." + IN_NUMBERING_PLAN,
    )
    wa_message_id: str | None = _WA_ID
    push_name: str | None = Field(default=None, min_length=1, max_length=128, description="The writer's name.")

    model_config = ConfigDict(populate_by_name=True)


class SandboxHistoryConversation(Strict):
    contact: Recipient | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A one-to-one conversation with this contact (or give `group`)." + IN_NUMBERING_PLAN,
    )
    group: Annotated[str, documented(pattern=whole(GROUP_JID))] | None = Field(
        default=None, min_length=1, max_length=64, description="A group's conversation (a `@g.us` JID)."
    )
    group_name: str | None = Field(default=None, min_length=1, max_length=128, description="The group's subject.")
    messages: list[SandboxHistoryMessage] = Field(min_length=1, max_length=100, description="Oldest first.")


class SandboxScanRequest(Strict):
    phone: Annotated[str, documented(pattern=rf"^{PHONE}$|{whole(PHONE_JID)}")] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The number whose phone scans (E.164, or its phone JID). Default: one derived from the instance "
        "id, +55 11 97xxx-xxxx. Ignored with `code` (the code names its number)." + IN_NUMBERING_PLAN,
    )
    code: str | None = Field(
        default=None,
        min_length=8,
        max_length=16,
        description="Confirm this pairing code (from `POST /instances/{id}/pairing-code`) instead of scanning the QR: "
        "the code the instance shows now (a 422 on `code` otherwise).",
    )
    history: list[SandboxHistoryConversation] | None = Field(
        default=None,
        max_length=50,
        description="The phone's earlier conversations. Handed to the newly paired number when its "
        "`settings.history_sync` is on (docs/history.md): in chunks of two conversations, each conversation's "
        "messages an hour older than the previous one's. Ignored when the phone was already paired. Each "
        "conversation names a `contact` or a `group` (one of the two); a group's messages name who wrote them "
        "(`from`) unless `from_me`.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"phone": "+5511955550001"},
            "examples": [
                {"phone": "+5511955550001"},
                {
                    "history": [
                        {"contact": "+5511988880001", "messages": [{"body": "Did the order ship?"}]},
                        {
                            "group": "120363025246125888@g.us",
                            "group_name": "Orders",
                            "messages": [{"from": "+5511988880003", "body": "3 boxes today"}],
                        },
                    ]
                },
            ],
        }
    )


class SandboxHistoryHanded(BaseModel):
    sync_id: str | None = Field(description="The pairing's history sync; null when none was handed.")
    chunks: int
    conversations: int
    messages: int


class SandboxHistoryRedeliver(Strict):
    chunk: int = Field(default=0, ge=0, le=100, description="Which chunk of the pairing's history (0 first).")

    model_config = ConfigDict(json_schema_extra={"example": {"chunk": 0}})


class SandboxHistoryRedelivered(BaseModel):
    sync_id: str
    chunk_id: str
    final: bool = Field(description="The last chunk: its delivery ends the sync (again).")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "sync_id": "sbx-inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q-1-5511955550001",
                "chunk_id": "chunk-0",
                "final": False,
            }
        }
    )


class SandboxInstanceState(BaseModel):
    instance_id: str
    state: Literal["disconnected", "pairing", "connected", "logged_out", "restricted", "failed", "passkey_required"] = (
        Field(description="What the sandbox network sees now; the instance's own status follows through the worker.")
    )
    phone: str | None
    lid: str | None
    push_name: str | None
    history: SandboxHistoryHanded | None = Field(
        default=None,
        description="What the phone handed the newly paired number: only when the scan gave a `history`.",
    )

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


def _as_given(value: Any) -> Any:
    return value


_CONTENT_SHAPES = (*CONTENT_MODELS.values(), *CONTENT_BESIDE_BODY.values())
_ANY_SHAPE = Union[_CONTENT_SHAPES] | None  # type: ignore[valid-type]  # noqa: UP007 (a Union of a tuple)
InboundContent = Annotated[
    dict[str, Any] | None,
    # Checked against its type's model by api/sandbox_inbound.py (a 422 on `content.<field>`), not here: the
    # contract lists every shape, and the request's `oneOf` says which one each `type` takes.
    BeforeValidator(_as_given, json_schema_input_type=_ANY_SHAPE),
]


class SandboxInboundRequest(Strict):
    sender: Recipient = Field(
        alias="from",
        min_length=1,
        max_length=64,
        description="The contact who writes: E.164, a phone JID or an `@lid` JID. With `from_me`, the contact "
        "the instance's own phone writes to; with `from_me` and `group`, the phone writes in the group."
        + IN_NUMBERING_PLAN,
    )
    group: Annotated[str, documented(pattern=whole(GROUP_JID))] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Write in this WhatsApp group (a `@g.us` JID) instead of to the instance: `from` is the "
        "participant who writes. The sandbox models no membership: any well-formed group JID works.",
    )
    group_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The group's subject, reported with the message (only with `group`).",
    )
    type: SandboxInboundType
    content: InboundContent = Field(
        default=None,
        description="The message's content, shaped as the inbox shows it for that type (one model per `type`). "
        'Media: `{"media": {"mime_type", "data_base64", "filename"?}, "caption"?}`.',
    )
    body: Annotated[str, documented(minLength=1)] | None = Field(
        default=None,
        max_length=4096,
        description="Shortcut for `content.body`, of a `text` or an `edit`: one of the two, not both.",
    )
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

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """One branch per `type` with its content's shape (a union on `type`), and the rule between the group's
        fields, as the API checks them."""
        schema = handler(core_schema)
        request = handler.resolve_ref_schema(schema)
        # The shapes' references, as the `content` property lists them (in _CONTENT_SHAPES' order, then null).
        shapes = dict(zip(_CONTENT_SHAPES, request["properties"]["content"]["anyOf"], strict=False))
        request["oneOf"] = [branch for message_type in CONTENT_MODELS for branch in _branches(message_type, shapes)]
        request["anyOf"] = [  # `group_name` only with `group`
            {"properties": {"group_name": {"type": "null"}}},
            {"required": ["group"], "properties": {"group": {"type": "string"}}},
        ]
        return schema


def _branches(message_type: str, shapes: dict[type[BaseModel], dict[str, Any]]) -> list[dict[str, Any]]:
    """`content` in this type's shape; for a text or an edit, also `body` standing for `content.body`."""
    kind = {"type": {"const": message_type}}
    in_content = {
        "required": ["content"],
        "properties": {**kind, "content": shapes[CONTENT_MODELS[message_type]], "body": {"type": "null"}},
    }
    if message_type not in BODY_SHORTCUT:
        return [in_content]
    beside_body = CONTENT_BESIDE_BODY[message_type]
    content = shapes[beside_body]
    if any(field.is_required() for field in beside_body.model_fields.values()):  # an edit's target
        shortcut = {"required": ["body", "content"], "properties": {**kind, "content": content}}
    else:
        shortcut = {"required": ["body"], "properties": {**kind, "content": {"anyOf": [content, {"type": "null"}]}}}
    shortcut["properties"]["body"] = {"type": "string"}
    return [in_content, shortcut]


class SandboxInboundAccepted(BaseModel):
    wa_message_id: str

    model_config = ConfigDict(json_schema_extra={"example": {"wa_message_id": "3A5F0C1D2E3F4A5B6C7D"}})


class SandboxCallRequest(Strict):
    caller: Recipient = Field(
        alias="from",
        min_length=1,
        max_length=64,
        description="The contact who calls: E.164, a phone JID or an `@lid` JID." + IN_NUMBERING_PLAN,
    )
    video: bool = Field(default=False, description="A video call.")

    model_config = ConfigDict(json_schema_extra={"example": {"from": "+5511988888888", "video": False}})


class SandboxCallStarted(BaseModel):
    call_id: str = Field(description="The call's id, as in `call.received` and `call.ended`.")
    instance_id: str

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"call_id": "3A0F1E2D3C4B5A69788F", "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"}
        }
    )
