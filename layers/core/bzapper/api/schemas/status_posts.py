"""Posting a status (WhatsApp "stories", docs/status.md) and the `status.posted` event."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from bzapper.api.schemas.common import IN_NUMBERING_PLAN, Recipient, Strict, documented
from bzapper.api.schemas.events import EventBase
from bzapper.api.schemas.messages import MediaId, WebUrl
from bzapper.domain.status_posts import COLOR, FONTS, MAX_AUDIENCE, MAX_TEXT

_INSTANCE = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_MEDIA = "med_01JD5V6W4E7R8T9Y0V1W2X3Y4Z"

# No NUL: WhatsApp's apps cut a text there, and no one means to post one.
NoNul = Annotated[str, documented(pattern=r"^[^\u0000]*$")]
Color = Annotated[str, documented(pattern=COLOR.pattern)]
Font = Literal[FONTS]  # type: ignore[valid-type]


def _example(**fields: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"example": {"instance_id": _INSTANCE, **fields}})


class StatusEnvelope(Strict):
    instance_id: str = Field(
        min_length=1,
        max_length=64,
        description="The number that posts (a sandbox or linked-device number: a Cloud API number has no status, "
        "a 422 `not_supported`).",
    )
    audience: list[Recipient] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_AUDIENCE,
        description="Only these contacts see it (phones or JIDs, each once). Left out: the number's contacts, as "
        "the phone's status privacy allows. The sandbox honours it; a whatsmeow number cannot restrict a post "
        "(a 422 `not_supported`)." + IN_NUMBERING_PLAN,
    )
    client_reference: str | None = Field(
        default=None, max_length=128, description="Your own reference, echoed in every response and event."
    )


class StatusTextRequest(StatusEnvelope):
    """A text status: white text on a colored background."""

    text: NoNul = Field(min_length=1, max_length=MAX_TEXT, description=f"Up to {MAX_TEXT} characters.")
    background_color: Color | None = Field(default=None, description="`#RRGGBB` (default `#128C7E`, WhatsApp's teal).")
    font: Font | None = Field(
        default=None,
        description="WhatsApp's status fonts: sans (the default), serif, script, bold, rounded, display, "
        "condensed, mono.",
    )

    model_config = _example(text="We are open on Sunday!", background_color="#25D366", font="bold")


class StatusMediaRequest(StatusEnvelope):
    """Exactly one of `url` and `media_id`, with the same rules as POST /messages/image or /messages/video."""

    url: WebUrl | None = Field(
        default=None,
        min_length=8,
        max_length=2048,
        description="A public https URL we download once (its host must resolve to a public address).",
    )
    media_id: MediaId | None = Field(
        default=None,
        max_length=64,
        description="A file uploaded with POST /media of this account (a 422 otherwise), of the right kind.",
    )
    caption: NoNul | None = Field(default=None, min_length=1, max_length=1024, description="Shown on the status.")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        handler.resolve_ref_schema(schema)["oneOf"] = [
            {"required": [field], "properties": {field: {"type": "string"}}} for field in ("url", "media_id")
        ]
        return schema


class StatusImageRequest(StatusMediaRequest):
    """JPEG or PNG, up to 16 MB (or the plan's media size)."""

    model_config = _example(media_id=_MEDIA, caption="New arrivals")


class StatusVideoRequest(StatusMediaRequest):
    """MP4 (H.264 + AAC) or 3GPP, up to 16 MB."""

    model_config = _example(url="https://example.com/teaser.mp4", caption="Coming soon")


class StatusPostedData(BaseModel):
    message_id: str = Field(description="The post's message (`GET /messages/{id}`, type `status`).")
    kind: Literal["text", "image", "video"]
    audience_size: int | None = Field(description="How many contacts it was restricted to; null: all contacts.")
    client_reference: str | None
    posted: str = Field(description="When WhatsApp accepted it.")


class StatusPostedEvent(EventBase):
    data: StatusPostedData

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "type": "status.posted",
                "created": "2026-11-24T12:00:00.000Z",
                "livemode": True,
                "account_id": "acc_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "instance_id": _INSTANCE,
                "data": {
                    "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                    "kind": "text",
                    "audience_size": None,
                    "client_reference": "promo-7",
                    "posted": "2026-11-24T12:00:00.000Z",
                },
            }
        }
    )
