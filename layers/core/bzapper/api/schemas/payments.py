"""The payment provider's webhook (its acknowledgement)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Received(BaseModel):
    received: bool

    model_config = ConfigDict(json_schema_extra={"example": {"received": True}})
