"""The calling account: its language, plan, entitlements and usage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Locale, Strict


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


class PricedCount(BaseModel):
    messages: int = Field(description="Messages delivered in this category.")
    billable: int = Field(description="Those Meta said it bills.")


class UsagePricing(BaseModel):
    """Delivered messages by the pricing category Meta reported on their statuses (Cloud API numbers only;
    docs/templates.md). A category Meta adds later counts as `other`."""

    marketing: PricedCount
    utility: PricedCount
    authentication: PricedCount
    service: PricedCount
    other: PricedCount


class UsageBucket(BaseModel):
    start: str
    sends: int
    otps: int
    delivered: int
    read: int
    failed: int
    inbound: int
    webhook_deliveries: int
    pricing: UsagePricing


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
                        "pricing": {
                            "marketing": {"messages": 0, "billable": 0},
                            "utility": {"messages": 5, "billable": 5},
                            "authentication": {"messages": 3, "billable": 3},
                            "service": {"messages": 2, "billable": 0},
                            "other": {"messages": 0, "billable": 0},
                        },
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
                    "pricing": {
                        "marketing": {"messages": 0, "billable": 0},
                        "utility": {"messages": 5, "billable": 5},
                        "authentication": {"messages": 3, "billable": 3},
                        "service": {"messages": 2, "billable": 0},
                        "other": {"messages": 0, "billable": 0},
                    },
                },
            }
        },
    )
