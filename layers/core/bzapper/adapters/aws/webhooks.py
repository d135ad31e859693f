"""Webhook endpoints and their deliveries."""

from __future__ import annotations

import json
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import DeliveryAttempt, DeliveryModel, WebhookModel, WebhookSecret
from bzapper.cache import MISSING, TTLCache
from bzapper.domain.clock import now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.webhooks import SECRET_OVERLAP_MS

_ENDPOINTS_TTL_SECONDS = 5.0
_UNPROCESSED_RETRIES = 4
"""BatchGetItem may hand keys back under throttling: read them again, then give up (SQS retries the job)."""


class WebhookStore:
    def __init__(self) -> None:
        self._by_account: TTLCache[list[WebhookModel]] = TTLCache(1_000)

    def create(self, item: WebhookModel) -> None:
        item.save(condition=WebhookModel.webhook_id.does_not_exist())
        self._by_account.clear()

    def get(self, webhook_id: str) -> WebhookModel | None:
        try:
            return WebhookModel.get(webhook_id, consistent_read=True)
        except DoesNotExist:
            return None

    def list_for(self, account_id: str, livemode: bool, *, cached: bool = False) -> list[WebhookModel]:
        key = f"{account_id}:{livemode}"
        if cached:
            hit = self._by_account.get(key)
            if hit is not MISSING:
                return hit  # type: ignore[return-value]
        items = [item for item in WebhookModel.by_account.query(account_id) if item.livemode == livemode]
        self._by_account.put(key, items, _ENDPOINTS_TTL_SECONDS)
        return items

    def update(self, webhook_id: str, actions: list[Any]) -> WebhookModel | None:
        item = WebhookModel(webhook_id)
        actions = [*actions, WebhookModel.updated_at.set(now_ms())]
        if not applied(lambda: item.update(actions=actions, condition=WebhookModel.webhook_id.exists())):
            return None
        self._by_account.clear()
        return item

    def delete(self, webhook_id: str) -> None:
        WebhookModel(webhook_id).delete()
        self._by_account.clear()

    def rotate(self, webhook: WebhookModel, new_secret: str) -> WebhookModel | None:
        """The new secret signs first; the current one keeps signing for 24 hours."""
        now = now_ms()
        kept = [
            WebhookSecret(secret=s.secret, expires_at=s.expires_at or now + SECRET_OVERLAP_MS)
            for s in webhook.secrets
            if not s.expires_at or s.expires_at > now
        ]
        item = WebhookModel(webhook.webhook_id)
        actions = [
            WebhookModel.secrets.set([WebhookSecret(secret=new_secret), *kept]),
            WebhookModel.updated_at.set(now + 1 if now <= webhook.updated_at else now),
        ]
        # Only over the list it read: a concurrent rotation makes this one fail, not drop a secret.
        if not applied(lambda: item.update(actions=actions, condition=WebhookModel.updated_at == webhook.updated_at)):
            return None
        self._by_account.clear()
        return item

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
    def create(self, webhook_id: str, delivery_id: str, event: dict[str, Any]) -> DeliveryModel | None:
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
        return item if applied(lambda: item.save(condition=DeliveryModel.delivery_id.does_not_exist())) else None

    def get(self, webhook_id: str, delivery_id: str) -> DeliveryModel | None:
        try:
            return DeliveryModel.get(webhook_id, delivery_id, consistent_read=True)
        except DoesNotExist:
            return None

    def get_with_endpoint(self, webhook_id: str, delivery_id: str) -> tuple[DeliveryModel | None, WebhookModel | None]:
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
            DeliveryModel.from_raw_data(delivery) if delivery else None,
            WebhookModel.from_raw_data(webhook) if webhook else None,
        )

    def record_attempt(self, delivery: DeliveryModel, attempt: DeliveryAttempt, status: str) -> None:
        delivery.update(
            actions=[
                DeliveryModel.attempts.set(DeliveryModel.attempts.append([attempt])),
                DeliveryModel.status.set(status),
                DeliveryModel.updated_at.set(now_ms()),
            ]
        )

    def reset_for_replay(self, delivery: DeliveryModel) -> None:
        delivery.update(actions=[DeliveryModel.status.set("pending"), DeliveryModel.updated_at.set(now_ms())])

    def page(self, webhook_id: str, limit: int, cursor: str | None) -> tuple[list[DeliveryModel], str | None]:
        start = None
        if cursor:
            after = decode_cursor(cursor, webhook_id, {"d": str})["d"]
            start = {"webhook_id": {"S": webhook_id}, "delivery_id": {"S": after}}
        items = list(
            DeliveryModel.query(webhook_id, scan_index_forward=False, limit=limit + 1, last_evaluated_key=start)
        )
        if len(items) <= limit:
            return items, None
        return items[:limit], encode_cursor(webhook_id, {"d": items[limit - 1].delivery_id})
