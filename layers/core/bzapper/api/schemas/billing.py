"""The prepaid wallet: balance, ledger and top-ups."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Strict
from bzapper.domain.plans import MAX_TOP_UP, MIN_TOP_UP


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
