"""Webhook endpoints and their deliveries."""

from __future__ import annotations

import json
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied, created_in_slot
from bzapper.adapters.aws.models import (
    DeliveryAttemptAttribute,
    DeliveryModel,
    WebhookModel,
    WebhookSecretAttribute,
    WebhookSlotModel,
)
from bzapper.cache import MISSING, TTLCache
from bzapper.domain.clock import now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.webhooks import (
    SECRET_OVERLAP_MS,
    Delivery,
    DeliveryAttempt,
    Webhook,
    WebhookChanges,
    WebhookSecret,
)

_ENDPOINTS_TTL_SECONDS = 5.0
_UNPROCESSED_RETRIES = 4
"""BatchGetItem may hand keys back under throttling: read them again, then give up (SQS retries the job)."""


def _webhook(item: WebhookModel) -> Webhook:
    return Webhook(
        webhook_id=item.webhook_id,
        account_id=item.account_id,
        livemode=bool(item.livemode),
        url=item.url,
        events=frozenset(item.events) if item.events else None,
        description=item.description,
        status=item.status,
        secrets=tuple(
            WebhookSecret(secret.secret, int(secret.expires_at) if secret.expires_at else None)
            for secret in item.secrets or []
        ),
        created_at=int(item.created_at),
        updated_at=int(item.updated_at),
        failing_since=int(item.failing_since) if item.failing_since else None,
        instance_ids=frozenset(item.instance_ids) if item.instance_ids is not None else None,
    )


def _secrets(secrets: tuple[WebhookSecret, ...] | list[WebhookSecret]) -> list[WebhookSecretAttribute]:
    return [WebhookSecretAttribute(secret=s.secret, expires_at=s.expires_at) for s in secrets]


def _delivery(item: DeliveryModel) -> Delivery:
    return Delivery(
        webhook_id=item.webhook_id,
        delivery_id=item.delivery_id,
        event_id=item.event_id,
        event_type=item.event_type,
        payload=item.payload,
        status=item.status,
        created_at=int(item.created_at),
        updated_at=int(item.updated_at),
        attempts=tuple(
            DeliveryAttempt(
                at=int(attempt.at),
                latency_ms=int(attempt.latency_ms),
                status_code=int(attempt.status_code) if attempt.status_code is not None else None,
                error=attempt.error,
            )
            for attempt in item.attempts or []
        ),
    )


def _slot_key(account_id: str, livemode: bool, slot: int) -> str:
    return f"slot#{account_id}#{'live' if livemode else 'test'}#{slot}"


class WebhookStore:
    def __init__(self) -> None:
        self._by_account: TTLCache[list[Webhook]] = TTLCache(1_000)

    def create(self, webhook: Webhook, *, limit: int) -> bool:
        """Creates the endpoint in one of the account's `limit` slots; False when every slot is taken."""
        held = [
            item.slot for item in WebhookModel.by_account.query(webhook.account_id) if item.livemode == webhook.livemode
        ]
        if len(held) >= limit:
            return False
        # The index is eventually consistent: a slot it shows free may have just been taken, and then the
        # transaction's condition refuses it and the next one is tried.
        taken = {int(slot) for slot in held if slot is not None}
        for slot in range(limit):
            if slot not in taken and self._create_in_slot(webhook, slot):
                self._by_account.clear()
                return True
        return False

    def _create_in_slot(self, webhook: Webhook, slot: int) -> bool:
        item = WebhookModel(
            webhook.webhook_id,
            account_id=webhook.account_id,
            livemode=webhook.livemode,
            url=webhook.url,
            events=set(webhook.events) if webhook.events else None,
            description=webhook.description,
            status=webhook.status,
            secrets=_secrets(webhook.secrets),
            instance_ids=set(webhook.instance_ids) if webhook.instance_ids is not None else None,
            slot=slot,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
        )
        holder = WebhookSlotModel(_slot_key(webhook.account_id, webhook.livemode, slot), holder=webhook.webhook_id)
        return created_in_slot(holder, item)

    def get(self, webhook_id: str) -> Webhook | None:
        try:
            return _webhook(WebhookModel.get(webhook_id, consistent_read=True))
        except DoesNotExist:
            return None

    def list_for(self, account_id: str, livemode: bool, *, cached: bool = False) -> list[Webhook]:
        key = f"{account_id}:{livemode}"
        if cached:
            hit = self._by_account.get(key)
            if hit is not MISSING:
                return hit  # type: ignore[return-value]
        items = [_webhook(item) for item in WebhookModel.by_account.query(account_id) if item.livemode == livemode]
        self._by_account.put(key, items, _ENDPOINTS_TTL_SECONDS)
        return items

    def update(self, webhook_id: str, changes: WebhookChanges) -> Webhook | None:
        actions: list[Any] = [WebhookModel.updated_at.set(now_ms())]
        if "url" in changes.given:
            actions.append(WebhookModel.url.set(changes.url))
        if "events" in changes.given:
            actions.append(
                WebhookModel.events.set(set(changes.events)) if changes.events else WebhookModel.events.remove()
            )
        if "description" in changes.given:
            actions.append(WebhookModel.description.set(changes.description))
        if "status" in changes.given:
            actions.append(WebhookModel.status.set(changes.status))
            if changes.status == "enabled":
                actions.append(WebhookModel.failing_since.remove())  # a fresh start after a fix
        item = WebhookModel(webhook_id)
        if not applied(lambda: item.update(actions=actions, condition=WebhookModel.webhook_id.exists())):
            return None
        self._by_account.clear()
        return self.get(webhook_id)

    def delete(self, webhook_id: str) -> None:
        """Deletes the endpoint and frees its slot, together."""
        try:
            item = WebhookModel.get(webhook_id, consistent_read=True)
        except DoesNotExist:
            return
        with TransactWrite(connection=dynamodb_connection()) as tx:
            tx.delete(WebhookModel(webhook_id))
            if item.slot is not None:
                tx.delete(WebhookSlotModel(_slot_key(item.account_id, bool(item.livemode), int(item.slot))))
        self._by_account.clear()

    def rotate(self, webhook: Webhook, new_secret: str) -> Webhook | None:
        """The new secret signs first; the current one keeps signing for 24 hours."""
        now = now_ms()
        kept = [
            WebhookSecret(secret=s.secret, expires_at=s.expires_at or now + SECRET_OVERLAP_MS)
            for s in webhook.secrets
            if not s.expires_at or s.expires_at > now
        ]
        item = WebhookModel(webhook.webhook_id)
        actions = [
            WebhookModel.secrets.set(_secrets([WebhookSecret(secret=new_secret), *kept])),
            WebhookModel.updated_at.set(now + 1 if now <= webhook.updated_at else now),
        ]
        # Only over the list it read: a concurrent rotation makes this one fail, not drop a secret.
        if not applied(lambda: item.update(actions=actions, condition=WebhookModel.updated_at == webhook.updated_at)):
            return None
        self._by_account.clear()
        return self.get(webhook.webhook_id)

    def note_failure(self, webhook_id: str, at: int) -> int | None:
        """Records that the endpoint is failing; returns since when (the first failure in a row)."""
        first = WebhookModel.failing_since.does_not_exist() & WebhookModel.webhook_id.exists()
        if applied(
            lambda: WebhookModel(webhook_id).update(actions=[WebhookModel.failing_since.set(at)], condition=first)
        ):
            return at
        current = self.get(webhook_id)
        return int(current.failing_since) if current and current.failing_since else None

    def note_success(self, webhook_id: str) -> None:
        applied(
            lambda: WebhookModel(webhook_id).update(
                actions=[WebhookModel.failing_since.remove()], condition=WebhookModel.failing_since.exists()
            )
        )

    def disable_if_enabled(self, webhook_id: str, failing_since: int) -> bool:
        """Disables the endpoint if it is enabled and still failing since `failing_since` (a delivery that
        succeeded meanwhile cleared the streak: then it stays enabled)."""
        actions = [WebhookModel.status.set("disabled"), WebhookModel.updated_at.set(now_ms())]
        condition = (WebhookModel.status == "enabled") & (WebhookModel.failing_since == failing_since)
        if not applied(lambda: WebhookModel(webhook_id).update(actions=actions, condition=condition)):
            return False
        self._by_account.clear()
        return True


class DeliveryStore:
    def create(self, webhook_id: str, delivery_id: str, event: dict[str, Any]) -> Delivery | None:
        """The delivery record of (endpoint, event), once: None when it already exists."""
        now = now_ms()
        item = DeliveryModel(
            webhook_id,
            delivery_id,
            event_id=event["id"],
            event_type=event["type"],
            payload=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
            status="pending",
            attempts=[],
            created_at=now,
            updated_at=now,
        )
        if not applied(lambda: item.save(condition=DeliveryModel.delivery_id.does_not_exist())):
            return None
        return _delivery(item)

    def get(self, webhook_id: str, delivery_id: str) -> Delivery | None:
        try:
            return _delivery(DeliveryModel.get(webhook_id, delivery_id, consistent_read=True))
        except DoesNotExist:
            return None

    def get_with_endpoint(self, webhook_id: str, delivery_id: str) -> tuple[Delivery | None, Webhook | None]:
        """The delivery and its endpoint, both strongly consistent, in one BatchGetItem: a dispatch needs both
        as they are now (a disabled, deleted, moved or rotated endpoint takes effect on the next attempt)."""
        request: dict[str, Any] = {
            DeliveryModel.Meta.table_name: {
                "Keys": [{"webhook_id": {"S": webhook_id}, "delivery_id": {"S": delivery_id}}],
                "ConsistentRead": True,
            },
            WebhookModel.Meta.table_name: {"Keys": [{"webhook_id": {"S": webhook_id}}], "ConsistentRead": True},
        }
        found: dict[str, dict[str, Any]] = {}
        for retry in range(_UNPROCESSED_RETRIES + 1):
            answer = dynamodb_connection().client.batch_get_item(RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                if items:  # one key per table
                    found[table] = items[0]
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            if retry < _UNPROCESSED_RETRIES:  # no sleep after the last attempt: it only delays the raise
                time.sleep(0.05 * 2**retry)
        else:
            raise RuntimeError(f"delivery {delivery_id}: keys left unprocessed by BatchGetItem")
        delivery = found.get(DeliveryModel.Meta.table_name)
        webhook = found.get(WebhookModel.Meta.table_name)
        return (
            _delivery(DeliveryModel.from_raw_data(delivery)) if delivery else None,
            _webhook(WebhookModel.from_raw_data(webhook)) if webhook else None,
        )

    def record_attempt(self, delivery: Delivery, attempt: DeliveryAttempt, status: str) -> None:
        stored = DeliveryAttemptAttribute(
            at=attempt.at, status_code=attempt.status_code, latency_ms=attempt.latency_ms, error=attempt.error
        )
        DeliveryModel(delivery.webhook_id, delivery.delivery_id).update(
            actions=[
                DeliveryModel.attempts.set(DeliveryModel.attempts.append([stored])),
                DeliveryModel.status.set(status),
                DeliveryModel.updated_at.set(now_ms()),
            ]
        )

    def reset_for_replay(self, delivery: Delivery) -> None:
        DeliveryModel(delivery.webhook_id, delivery.delivery_id).update(
            actions=[DeliveryModel.status.set("pending"), DeliveryModel.updated_at.set(now_ms())]
        )

    def page(self, webhook_id: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
        start = None
        if cursor:
            after = decode_cursor(cursor, webhook_id, {"d": str})["d"]
            start = {"webhook_id": {"S": webhook_id}, "delivery_id": {"S": after}}
        items = list(
            DeliveryModel.query(webhook_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=start)
        )
        page = [_delivery(item) for item in items[:limit]]
        if len(items) <= limit:
            return page, None
        return page, encode_cursor(webhook_id, {"d": items[limit - 1].delivery_id})
