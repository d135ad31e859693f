"""Webhooks: endpoints, fan-out of every event to its subscribers, signed delivery with durable retries."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bzapper import i18n
from bzapper.adapters.aws.models import DeliveryAttempt, DeliveryModel, WebhookModel, WebhookSecret
from bzapper.config import settings
from bzapper.domain.clock import iso, now_ms
from bzapper.domain.errors import BzError
from bzapper.domain.events import derived_id, envelope
from bzapper.domain.ids import is_id, new_id
from bzapper.domain.model import Principal
from bzapper.domain.plans import plan_named
from bzapper.domain.webhooks import (
    DISABLE_AFTER_MS,
    TIMEOUT_SECONDS,
    new_secret,
    retry_delay,
    retryable,
    subscribed,
    validated_subscriptions,
)
from bzapper.net import require_safe_url
from bzapper.services.container import Services

logger = logging.getLogger(__name__)


# The API ------------------------------------------------------------------------------------------


def webhook_out(item: WebhookModel, secret: str | None = None) -> dict[str, Any]:
    body = {
        "id": item.webhook_id,
        "url": item.url,
        "events": sorted(item.events) if item.events else None,
        "description": item.description,
        "status": item.status,
        "livemode": item.livemode,
        "created": iso(int(item.created_at)),
        "updated": iso(int(item.updated_at)),
    }
    if secret is not None:
        body["secret"] = secret  # shown once, at creation or rotation
    return body


def _validated_events(events: list[str] | None) -> set[str] | None:
    """None (every event) when omitted; an empty list or an unknown type is refused."""
    return None if events is None else validated_subscriptions(events, "events")


def owned(services: Services, principal: Principal, webhook_id: str) -> WebhookModel:
    item = services.webhooks.get(webhook_id) if is_id(webhook_id, "wh") else None
    if item is None or item.account_id != principal.account_id or item.livemode != principal.livemode:
        raise BzError("not_found")
    return item


def create_webhook(
    services: Services, principal: Principal, url: str, events: list[str] | None, description: str | None
) -> dict[str, Any]:
    require_safe_url(url, allow_loopback=settings().local_mode)
    patterns = _validated_events(events)
    if len(services.webhooks.list_for(principal.account_id, principal.livemode)) >= plan_named(principal.plan).webhooks:
        raise BzError("limit_exceeded")
    now = now_ms()
    secret = new_secret()
    item = WebhookModel(
        new_id("wh"),
        account_id=principal.account_id,
        livemode=principal.livemode,
        url=url,
        events=patterns,
        description=description,
        status="enabled",
        secrets=[WebhookSecret(secret=secret)],
        created_at=now,
        updated_at=now,
    )
    services.webhooks.create(item)
    return webhook_out(item, secret)


def update_webhook(services: Services, principal: Principal, webhook_id: str, changes: dict[str, Any]) -> dict:
    item = owned(services, principal, webhook_id)
    actions = []
    if "url" in changes:
        require_safe_url(changes["url"], allow_loopback=settings().local_mode)
        actions.append(WebhookModel.url.set(changes["url"]))
    if "events" in changes:
        patterns = _validated_events(changes["events"])
        actions.append(WebhookModel.events.set(patterns) if patterns else WebhookModel.events.remove())
    if "description" in changes:
        actions.append(WebhookModel.description.set(changes["description"]))
    if "status" in changes:
        actions.append(WebhookModel.status.set(changes["status"]))
        if changes["status"] == "enabled":
            actions.append(WebhookModel.failing_since.remove())  # a fresh start after a fix
    updated = services.webhooks.update(item.webhook_id, actions) if actions else item
    if updated is None:
        raise BzError("not_found")
    return webhook_out(services.webhooks.get(item.webhook_id) or updated)


def rotate_secret(services: Services, principal: Principal, webhook_id: str) -> dict[str, Any]:
    for _ in range(3):
        item = owned(services, principal, webhook_id)
        secret = new_secret()
        if services.webhooks.rotate(item, secret) is not None:
            return webhook_out(services.webhooks.get(item.webhook_id) or item, secret)
    raise BzError("temporarily_unavailable", headers={"Retry-After": "1"})


def send_test(services: Services, principal: Principal, webhook_id: str) -> dict[str, Any]:
    item = owned(services, principal, webhook_id)
    at = now_ms()
    event = envelope(
        "webhook.test",
        at_ms=at,
        account_id=principal.account_id,
        instance_id=None,
        livemode=principal.livemode,
        data={"webhook_id": item.webhook_id},
        identity=(item.webhook_id, new_id("test")),
    )
    delivery_id = _deliver(services, item, event)
    return {"delivery_id": delivery_id, "event_id": event["id"]}


def delivery_out(item: DeliveryModel) -> dict[str, Any]:
    return {
        "id": item.delivery_id,
        "event_id": item.event_id,
        "event_type": item.event_type,
        "status": item.status,
        "attempts": [
            {
                "at": iso(int(attempt.at)),
                "status_code": int(attempt.status_code) if attempt.status_code is not None else None,
                "latency_ms": int(attempt.latency_ms),
                "error": attempt.error,
            }
            for attempt in item.attempts or []
        ],
        "created": iso(int(item.created_at)),
    }


def list_deliveries(services: Services, principal: Principal, webhook_id: str, limit: int, cursor: str | None):
    item = owned(services, principal, webhook_id)
    page, next_cursor = services.deliveries.page(item.webhook_id, limit, cursor)
    return {"data": [delivery_out(d) for d in page], "has_more": next_cursor is not None, "next_cursor": next_cursor}


def replay(services: Services, principal: Principal, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    item = owned(services, principal, webhook_id)
    delivery = services.deliveries.get(item.webhook_id, delivery_id) if is_id(delivery_id, "dlv") else None
    if delivery is None:
        raise BzError("not_found")
    services.deliveries.reset_for_replay(delivery)
    services.delivery_jobs.enqueue(
        {"webhook_id": item.webhook_id, "delivery_id": delivery_id, "base": len(delivery.attempts or [])}
    )
    return {"delivery_id": delivery_id, "event_id": delivery.event_id, "status": "pending"}


# Fan-out: one event → one delivery per subscribed endpoint --------------------------------------------


def _deliver(services: Services, webhook: WebhookModel, event: dict[str, Any]) -> str:
    at = int(datetime.fromisoformat(event["created"].replace("Z", "+00:00")).timestamp() * 1000)
    delivery_id = derived_id("dlv", at, webhook.webhook_id, event["id"])
    created = services.deliveries.create(webhook.webhook_id, delivery_id, event)
    if created is None:
        existing = services.deliveries.get(webhook.webhook_id, delivery_id)
        if existing is None or existing.status != "pending" or existing.attempts:
            return delivery_id  # fanned out before, and its job ran
        # The record exists but its job may never have been sent (a crash in between): send it again;
        # the dispatcher skips a delivery that is already done.
    services.delivery_jobs.enqueue({"webhook_id": webhook.webhook_id, "delivery_id": delivery_id, "base": 0})
    return delivery_id


def fan_out(services: Services, event: dict[str, Any]) -> int:
    endpoints = services.webhooks.list_for(event["account_id"], bool(event["livemode"]), cached=True)
    count = 0
    for webhook in endpoints:
        if webhook.status == "enabled" and subscribed(set(webhook.events or ()), event["type"]):
            _deliver(services, webhook, event)
            count += 1
    return count


# Dispatch: sign, POST, record, retry by visibility -------------------------------------------------


def signature_headers(webhook: WebhookModel, event_id: str, body: str, at_s: int) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation every live secret signs (space-separated)."""
    from standardwebhooks.webhooks import Webhook

    now = now_ms()
    timestamp = datetime.fromtimestamp(at_s, UTC)
    signatures = [
        Webhook(secret.secret).sign(event_id, timestamp, body)
        for secret in webhook.secrets
        if not secret.expires_at or secret.expires_at > now
    ]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(at_s),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


def backoff_scale() -> float:
    """1 in production; the local stack's tests shrink the schedule (`BZ_WEBHOOK_BACKOFF_SCALE`)."""
    return settings().webhook_backoff_scale


def dispatch(services: Services, job: dict[str, Any], queue_arn: str, receipt_handle: str) -> bool:
    """True when the job is finished (delete it); False to let SQS bring it back (retry, or the DLQ).

    DynamoDB calls: one read of the delivery and its endpoint together, the attempt and the delivery's state in
    one write, and on success the usage counter (3); on a failure, a write of `failing_since` only when the
    endpoint was not failing yet (or a read of it again when it looks past the disable threshold), and a success
    clears it only when it was (docs/performance.md).
    """
    delivery, webhook = services.deliveries.get_with_endpoint(job["webhook_id"], job["delivery_id"])
    if delivery is None or delivery.status in ("delivered", "failed"):
        return True
    if webhook is None or webhook.status != "enabled":
        services.deliveries.record_attempt(
            delivery, DeliveryAttempt(at=now_ms(), latency_ms=0, error="endpoint disabled or deleted"), "failed"
        )
        return True
    attempt_number = len(delivery.attempts or []) - int(job.get("base", 0)) + 1
    started = now_ms()
    headers = signature_headers(webhook, delivery.event_id, delivery.payload, started // 1000)
    outcome = services.http.post(webhook.url, delivery.payload.encode(), headers, TIMEOUT_SECONDS)
    attempt = DeliveryAttempt(
        at=started, status_code=outcome.status_code, latency_ms=outcome.latency_ms, error=outcome.error
    )
    if outcome.status_code is not None and 200 <= outcome.status_code < 300:
        services.deliveries.record_attempt(delivery, attempt, "delivered")
        if webhook.failing_since:  # read with the delivery, consistently: healthy endpoints skip a vain write
            services.webhooks.note_success(webhook.webhook_id)
        event = json.loads(delivery.payload)
        services.usage.increment(
            webhook.account_id, webhook.livemode, event.get("instance_id") or "-", started, "webhook_deliveries"
        )
        return True

    delay = retry_delay(attempt_number, backoff_scale()) if retryable(outcome.status_code) else None
    services.deliveries.record_attempt(delivery, attempt, "retrying" if delay else "failed")
    _track_failure(services, webhook, started)
    if delay is None:
        # A final answer (a 4xx), or the last attempt: marked failed; an exhausted job is kept in the DLQ.
        if retryable(outcome.status_code):
            services.delivery_jobs.dead_letter(job)
        return True
    services.delivery_jobs.postpone(queue_arn, receipt_handle, delay)
    return False


def _streak_start(services: Services, webhook: WebhookModel, at: int) -> int | None:
    """Since when the endpoint has been failing, this failure included."""
    if not webhook.failing_since:
        return services.webhooks.note_failure(webhook.webhook_id, at)
    # Already failing when read (before the POST, consistently): the streak's start is known, nothing to write.
    since = int(webhook.failing_since)
    if at - since < DISABLE_AFTER_MS:
        return since
    # Past the threshold on that read, but a concurrent delivery may have succeeded since (and ended the streak,
    # or another started a new one): read it again before disabling. Only this rare path pays the call.
    current = services.webhooks.get(webhook.webhook_id)
    if current is not None and current.failing_since:
        return int(current.failing_since)
    return services.webhooks.note_failure(webhook.webhook_id, at)


def _track_failure(services: Services, webhook: WebhookModel, at: int) -> None:
    since = _streak_start(services, webhook, at)
    if since is None or at - since < DISABLE_AFTER_MS:
        return
    if not services.webhooks.disable_if_enabled(webhook.webhook_id, since):
        return  # already disabled, or a delivery succeeded since the streak was read: it ended
    account = services.accounts.get(webhook.account_id)
    locale = account.locale if account else i18n.DEFAULT_LOCALE
    services.events.publish(
        [
            envelope(
                "webhook.disabled",
                at_ms=at,
                account_id=webhook.account_id,
                instance_id=None,
                livemode=webhook.livemode,
                data={
                    "webhook_id": webhook.webhook_id,
                    "url": webhook.url,
                    "failing_since": iso(since),
                    "message": i18n.translate("webhook.disabled_notice", locale, url=webhook.url),
                    "locale": locale,
                },
                identity=(webhook.webhook_id, str(since)),
            )
        ]
    )
