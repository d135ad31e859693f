"""Documenting an event type in the contract's `webhooks` section: one POST per type, its payload model as the body.

Every router module that emits events declares them here the same way (bzapper.api.apps includes a module's
`webhooks` router): what a customer's endpoint receives, how it acknowledges, how deliveries are retried.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

SIGNED_AND_RETRIED = "Signed and retried like every event (docs/webhooks.md); also on GET /stream."
DELIVERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Any 2xx acknowledges the event."},
    "4XX": {"description": "Final: not retried (except 408 and 429, retried like a 5xx)."},
    "5XX": {"description": "Retried with exponential backoff for about 3.5 days."},
}


def _receiver(model: type) -> Any:
    def receive(event) -> None:  # type: ignore[no-untyped-def]
        """Documentation only: what your endpoint receives."""

    receive.__annotations__ = {"event": model, "return": None}  # not a string: postponed annotations
    return receive


def document_event(
    webhooks: APIRouter, event_type: str, model: type, summary: str, description: str = SIGNED_AND_RETRIED
) -> None:
    webhooks.add_api_route(
        event_type,
        _receiver(model),
        methods=["POST"],
        summary=summary,
        description=description,
        operation_id=f"event_{event_type.replace('.', '_')}",
        status_code=200,
        response_model=None,
        responses=DELIVERY_RESPONSES,
    )


def document_events(webhooks: APIRouter, events: dict[str, tuple[type, str]]) -> None:
    """`events`: event type → (payload model, summary)."""
    for event_type, (model, summary) in events.items():
        document_event(webhooks, event_type, model, summary)
