"""The sandbox network's other side (test keys only): what a contact received, a phone scanning a QR, a contact
writing."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Strict


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
