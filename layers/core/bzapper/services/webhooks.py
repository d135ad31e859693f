"""Webhooks: endpoints, fan-out of every event to its subscribers, signed delivery with durable retries."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bzapper import i18n
from bzapper.config import settings
from bzapper.domain.clock import iso, now_ms
from bzapper.domain.errors import BzError
from bzapper.domain.events import derived_id, envelope
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.ids import is_id, new_id
from bzapper.domain.model import Principal
from bzapper.domain.plans import plan_named
from bzapper.domain.usage import hour_of
from bzapper.domain.webhooks import (
    DISABLE_AFTER_MS,
    TIMEOUT_SECONDS,
    Delivery,
    DeliveryAttempt,
    Webhook,
    WebhookChanges,
    WebhookSecret,
    new_secret,
    retry_delay,
    retryable,
    subscribed,
    validated_subscriptions,
)
from bzapper.net import require_safe_url
from bzapper.services.container import Services
from bzapper.services.idempotent import once

logger = logging.getLogger(__name__)


# The API ------------------------------------------------------------------------------------------


def _validated_events(events: list[str] | None) -> set[str] | None:
    """None (every event) when omitted; an empty list or an unknown type is refused."""
    return None if events is None else validated_subscriptions(events, "events")


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    """A new endpoint (or one whose secret was just rotated) and its new secret, shown to the client once."""

    webhook: Webhook
    secret: str


def list_webhooks(services: Services, principal: Principal) -> list[Webhook]:
    """The endpoints the caller may see: a key limited to some numbers sees only those limited to them."""
    return [
        webhook
        for webhook in services.webhooks.list_for(principal.account_id, principal.livemode)
        if webhook.visible_to(principal.instance_ids)
    ]


def delete_webhook(services: Services, principal: Principal, webhook_id: str) -> None:
    services.webhooks.delete(owned(services, principal, webhook_id).webhook_id)


def owned(services: Services, principal: Principal, webhook_id: str) -> Webhook:
    item = services.webhooks.get(webhook_id) if is_id(webhook_id, "wh") else None
    if (
        item is None
        or item.account_id != principal.account_id
        or item.livemode != principal.livemode
        or not item.visible_to(principal.instance_ids)
    ):
        raise BzError("not_found")  # another key's endpoint is indistinguishable from none
    return item


def create_webhook(
    services: Services, principal: Principal, url: str, events: list[str] | None, description: str | None
) -> CreatedWebhook:
    require_safe_url(url, allow_loopback=settings().local_mode)
    patterns = _validated_events(events)
    now = now_ms()
    secret = new_secret()
    webhook = Webhook(
        webhook_id=new_id("wh"),
        account_id=principal.account_id,
        livemode=principal.livemode,
        url=url,
        events=frozenset(patterns) if patterns else None,
        description=description,
        status="enabled",
        secrets=(WebhookSecret(secret=secret),),
        created_at=now,
        updated_at=now,
        # A restricted key's endpoint carries only its numbers' events, as its stream does.
        instance_ids=principal.instance_ids,
    )
    if not services.webhooks.create(webhook, limit=plan_named(principal.plan).webhooks):
        raise BzError("limit_exceeded")
    return CreatedWebhook(webhook, secret)


def create_webhook_once(
    services: Services,
    principal: Principal,
    idempotency: IdempotencyRequest | None,
    url: str,
    events: list[str] | None,
    description: str | None,
) -> tuple[CreatedWebhook, bool]:
    """`create_webhook` under an Idempotency-Key: a retry answers the same endpoint (and whether it replayed)."""

    def replay(stored: dict[str, Any]) -> CreatedWebhook:
        webhook = owned(services, principal, str(stored["webhook_id"]))  # deleted since: 404, not a new one
        return CreatedWebhook(webhook, webhook.secrets[0].secret)

    return once(
        services,
        principal,
        idempotency,
        lambda: create_webhook(services, principal, url, events, description),
        remember=lambda created: {"webhook_id": created.webhook.webhook_id},
        replay=replay,
    )


def update_webhook(services: Services, principal: Principal, webhook_id: str, changes: dict[str, Any]) -> Webhook:
    """`changes` holds only the fields the client sent (a field sent as null is in it, as None)."""
    item = owned(services, principal, webhook_id)
    if "url" in changes:
        require_safe_url(changes["url"], allow_loopback=settings().local_mode)
    patterns = _validated_events(changes["events"]) if "events" in changes else None
    given = frozenset(changes) & {"url", "events", "description", "status"}
    if not given:
        return item
    update = WebhookChanges(
        given=given,
        url=changes.get("url"),
        events=frozenset(patterns) if patterns else None,
        description=changes.get("description"),
        status=changes.get("status"),
    )
    updated = services.webhooks.update(item.webhook_id, update)
    if updated is None:
        raise BzError("not_found")
    return updated


def rotate_secret(services: Services, principal: Principal, webhook_id: str) -> CreatedWebhook:
    for _ in range(3):
        item = owned(services, principal, webhook_id)
        secret = new_secret()
        rotated = services.webhooks.rotate(item, secret)
        if rotated is not None:
            return CreatedWebhook(rotated, secret)
    raise BzError("temporarily_unavailable", retry_after=1)


@dataclass(frozen=True, slots=True)
class TestDelivery:
    delivery_id: str
    event_id: str


def send_test(services: Services, principal: Principal, webhook_id: str) -> TestDelivery:
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
    return TestDelivery(_deliver(services, item, event), event["id"])


def list_deliveries(
    services: Services, principal: Principal, webhook_id: str, limit: int, cursor: str | None
) -> tuple[list[Delivery], str | None]:
    """A page of the endpoint's deliveries, newest first, and the cursor of the next one."""
    item = owned(services, principal, webhook_id)
    return services.deliveries.page(item.webhook_id, limit, cursor)


def replay(services: Services, principal: Principal, webhook_id: str, delivery_id: str) -> Delivery:
    """Sends the delivery again (its job goes back to the queue); the delivery as it was when asked."""
    item = owned(services, principal, webhook_id)
    delivery = services.deliveries.get(item.webhook_id, delivery_id) if is_id(delivery_id, "dlv") else None
    if delivery is None:
        raise BzError("not_found")
    services.deliveries.reset_for_replay(delivery)
    services.delivery_jobs.enqueue(
        {"webhook_id": item.webhook_id, "delivery_id": delivery_id, "base": len(delivery.attempts)}
    )
    return delivery


# Fan-out: one event → one delivery per subscribed endpoint --------------------------------------------


def _deliver(services: Services, webhook: Webhook, event: dict[str, Any]) -> str:
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
    # A notice about an endpoint (webhook.disabled names its URL) goes only to endpoints whose key could see it.
    subject_id = event.get("data", {}).get("webhook_id") if event["type"].startswith("webhook.") else None
    subject = next((webhook for webhook in endpoints if webhook.webhook_id == subject_id), None)
    count = 0
    for webhook in endpoints:
        if (
            webhook.status == "enabled"
            and subscribed(set(webhook.events or ()), event["type"])
            and webhook.carries(event.get("instance_id"))
            and (subject is None or subject.visible_to(webhook.instance_ids))
        ):
            _deliver(services, webhook, event)
            count += 1
    return count


# Dispatch: sign, POST, record, retry by visibility -------------------------------------------------


def signature_headers(webhook: Webhook, event_id: str, body: str, at_s: int) -> dict[str, str]:
    """Standard Webhooks headers; during a rotation every live secret signs (space-separated)."""
    from standardwebhooks.webhooks import Webhook as Signer

    timestamp = datetime.fromtimestamp(at_s, UTC)
    signatures = [Signer(secret).sign(event_id, timestamp, body) for secret in webhook.signing_secrets(now_ms())]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(at_s),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }


def backoff_scale() -> float:
    """1 in production; the local stack's tests shrink the schedule (`BZ_WEBHOOK_BACKOFF_SCALE`)."""
    return settings().webhook_backoff_scale


class DeliveryTally:
    """The successful deliveries of one dispatcher invocation, counted per usage counter and added with one update
    per counter at its end (`flush`), instead of one per delivery. Usage counts a delivery at most once either way:
    it is recorded `delivered` before it is counted, and a job retried after that finds it done."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, bool, str, str], tuple[int, int]] = {}

    def add(self, account_id: str, livemode: bool, instance_id: str, at_ms: int) -> None:
        key = (account_id, livemode, instance_id, hour_of(at_ms))
        first, count = self._counts.get(key, (at_ms, 0))
        self._counts[key] = (first, count + 1)

    def flush(self, services: Services) -> None:
        counts, self._counts = self._counts, {}
        for (account_id, livemode, instance_id, _), (at_ms, count) in counts.items():
            services.usage.increment(account_id, livemode, instance_id, at_ms, "webhook_deliveries", by=count)


def dispatch(
    services: Services,
    job: dict[str, Any],
    queue_arn: str,
    receipt_handle: str,
    tally: DeliveryTally | None = None,
) -> bool:
    """True when the job is finished (delete it); False to let SQS bring it back (retry, or the DLQ).

    DynamoDB calls: one read of the delivery and its endpoint together, the attempt and the delivery's state in
    one write, and on success the usage counter (3; with a `tally`, the counter is added once per invocation
    and counter instead); on a failure, a write of `failing_since` only when the endpoint was not failing yet (or
    a read of it again when it looks past the disable threshold), and a success clears it only when it was
    (docs/performance.md).
    """
    delivery, webhook = services.deliveries.get_with_endpoint(job["webhook_id"], job["delivery_id"])
    if delivery is None or delivery.status in ("delivered", "failed"):
        return True
    if webhook is None or webhook.status != "enabled":
        services.deliveries.record_attempt(
            delivery, DeliveryAttempt(at=now_ms(), latency_ms=0, error="endpoint disabled or deleted"), "failed"
        )
        return True
    attempt_number = len(delivery.attempts) - int(job.get("base", 0)) + 1
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
        instance_id = event.get("instance_id") or "-"
        if tally is not None:
            tally.add(webhook.account_id, webhook.livemode, instance_id, started)
        else:
            services.usage.increment(webhook.account_id, webhook.livemode, instance_id, started, "webhook_deliveries")
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


def _streak_start(services: Services, webhook: Webhook, at: int) -> int | None:
    """Since when the endpoint has been failing, this failure included."""
    if not webhook.failing_since:
        return services.webhooks.note_failure(webhook.webhook_id, at)
    # Already failing when read (before the POST, consistently): the streak's start is known, nothing to write.
    since = webhook.failing_since
    if at - since < DISABLE_AFTER_MS:
        return since
    # Past the threshold on that read, but a concurrent delivery may have succeeded since (and ended the streak,
    # or another started a new one): read it again before disabling. Only this rare path pays the call.
    current = services.webhooks.get(webhook.webhook_id)
    if current is not None and current.failing_since:
        return current.failing_since
    return services.webhooks.note_failure(webhook.webhook_id, at)


def _track_failure(services: Services, webhook: Webhook, at: int) -> None:
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
