"""Bodies of Meta's Cloud API webhook endpoint and of a Cloud API number's connection."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Strict


class CloudWebhookReceived(BaseModel):
    queued: int = Field(description="Statuses and messages of the webhook queued for processing.")

    model_config = ConfigDict(json_schema_extra={"example": {"queued": 2}})


class CloudConnect(Strict):
    """The Cloud API number to connect (Meta's WhatsApp Manager › API Setup shows these)."""

    phone_number_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")
    waba_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")
    access_token: str = Field(
        min_length=1,
        max_length=1024,
        pattern=r"^[\x21-\x7e]+$",  # it travels in an Authorization header: visible ASCII, as Meta's tokens are
        description="A system user's token with `whatsapp_business_messaging`. Stored sealed; never shown again "
        "(the instance shows its last 4 characters).",
    )


class CloudNumberOut(BaseModel):
    phone_number_id: str
    waba_id: str
    token_last4: str
    display_phone_number: str | None
    verified_name: str | None
    quality_rating: str | None = Field(description="Meta's quality rating of the number: GREEN, YELLOW, RED.")
