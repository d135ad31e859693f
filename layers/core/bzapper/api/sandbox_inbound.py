"""Checks what a simulated contact injects against its type's content model (api/schemas/inbound.py), with the
send endpoints' own poll and reaction checks, and shapes it as WhatsApp delivers it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bzapper.api.content import contact_content, poll_content, reaction_content
from bzapper.api.errors import field_refusal
from bzapper.api.schemas.inbound import CONTENT_MODELS
from bzapper.domain.errors import BzError


def renamed(error: BzError, param: str) -> BzError:
    """The same refusal, naming the field where the caller wrote it."""
    return BzError(error.code, message_key=error.message_key, param=param, params={**error.params, "param": param})


def _refusal(error: ValidationError) -> BzError:
    first = error.errors()[0]
    return field_refusal(first["type"], ".".join(["content", *(str(part) for part in first["loc"])]))


def inbound_content(message_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """The content to inject, checked against its type's shape (with its defaults filled in, e.g. an audio's
    `voice`); raises a 422 naming the offending field (`content.latitude`)."""
    try:
        checked = CONTENT_MODELS[message_type].model_validate(content)
    except ValidationError as error:
        raise _refusal(error) from None
    try:
        if message_type == "poll":
            poll_content(checked)  # type: ignore[arg-type]
        elif message_type == "reaction":
            reaction_content(checked)  # type: ignore[arg-type]
    except BzError as error:
        raise renamed(error, f"content.{error.param}") from None
    shaped = checked.model_dump(exclude_none=True, mode="json")
    if message_type == "contact" and "vcards" not in shaped:
        shaped["vcards"] = contact_content(checked)["vcards"]  # type: ignore[arg-type]  # WhatsApp carries both
    if message_type == "document" and "filename" not in shaped:
        shaped["filename"] = shaped["media"].get("filename") or "file"  # as a phone names an unnamed file
    return shaped
