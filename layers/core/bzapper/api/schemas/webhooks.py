"""Webhook endpoints and their deliveries."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import EVENT_SUBSCRIPTIONS, HTTP_URL_PATTERN, Strict, documented

EventPattern = Field(
    description="Event types (`message.sent`) or families (`message.*`); omitted = every event; an empty list is 422."
)
EventSubscriptions = Annotated[list[Annotated[str, documented(enum=list(EVENT_SUBSCRIPTIONS))]], documented(minItems=1)]
ENDPOINT_URL = (
    "The https URL that receives the POSTs (http only on the local stack). Its host must resolve to a public "
    "address (a 422 on `url` otherwise: the schema cannot resolve names)."
)


class WebhookCreate(Strict):
    url: str = Field(
        min_length=8, max_length=2048, json_schema_extra={"pattern": HTTP_URL_PATTERN}, description=ENDPOINT_URL
    )
    events: EventSubscriptions | None = Field(default=None, max_length=50, description=EventPattern.description)
    description: str | None = Field(default=None, max_length=256)

    model_config = ConfigDict(
        json_schema_extra={"example": {"url": "https://example.com/hooks/bzapper", "events": ["message.*"]}}
    )


class WebhookPatch(Strict):
    """Only the fields sent change. `events: null` means every event (`[]` is 422); `description: null` clears it."""

    url: str = Field(  # type: ignore[assignment]
        default=None,
        min_length=8,
        max_length=2048,
        json_schema_extra={"pattern": HTTP_URL_PATTERN},
        description=ENDPOINT_URL,
    )
    events: EventSubscriptions | None = Field(default=None, max_length=50)
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
    instance_ids: list[str] | None = Field(
        description="The numbers whose events it receives: those of the restricted key that created it "
        "(only keys limited to those numbers see it); null: every number of the account."
    )
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
                "instance_ids": None,
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
                        "instance_ids": None,
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
