"""Liveness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Health(BaseModel):
    status: Literal["ok"]

    model_config = ConfigDict(json_schema_extra={"example": {"status": "ok"}})
