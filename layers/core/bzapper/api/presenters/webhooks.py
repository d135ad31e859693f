"""Webhook endpoints and their deliveries, as the API shows them (a secret only when it was just made)."""

from __future__ import annotations

from typing import Any

from bzapper.domain.clock import iso
from bzapper.domain.webhooks import Delivery, Webhook


def webhook_out(webhook: Webhook, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": webhook.webhook_id,
        "url": webhook.url,
        "events": sorted(webhook.events) if webhook.events else None,
        "description": webhook.description,
        "status": webhook.status,
        "livemode": webhook.livemode,
        "created": iso(webhook.created_at),
        "updated": iso(webhook.updated_at),
        "instance_ids": sorted(webhook.instance_ids) if webhook.instance_ids is not None else None,
    }
    if secret is not None:
        body["secret"] = secret  # shown once, at creation or rotation
    return body


def delivery_out(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.delivery_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": [
            {
                "at": iso(attempt.at),
                "status_code": attempt.status_code,
                "latency_ms": attempt.latency_ms,
                "error": attempt.error,
            }
            for attempt in delivery.attempts
        ],
        "created": iso(delivery.created_at),
    }


def delivery_page(deliveries: list[Delivery], next_cursor: str | None) -> dict[str, Any]:
    return {
        "data": [delivery_out(delivery) for delivery in deliveries],
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }
