"""Webhooks in memory (bzapper.ports.webhooks): endpoints, deliveries, the delivery queue, and an HTTP client
that answers what a test scripted."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from bzapper.adapters.memory.faults import ConditionFailed, Faults
from bzapper.domain.clock import now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.transport import FetchFailed, HttpOutcome
from bzapper.domain.webhooks import SECRET_OVERLAP_MS, Delivery, DeliveryAttempt, Webhook, WebhookChanges, WebhookSecret


class MemoryWebhookStore(Faults):
    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.RLock()
        self.rows: dict[str, Webhook] = {}

    def create(self, webhook: Webhook, *, limit: int) -> bool:
        self._enter("create", webhook, limit=limit)
        with self._lock:
            if webhook.webhook_id in self.rows:
                raise ConditionFailed(f"webhook {webhook.webhook_id} exists")
            owner = (webhook.account_id, webhook.livemode)
            if sum(1 for w in self.rows.values() if (w.account_id, w.livemode) == owner) >= limit:
                return False
            self.rows[webhook.webhook_id] = webhook
            return True

    def get(self, webhook_id: str) -> Webhook | None:
        self._enter("get", webhook_id)
        with self._lock:
            return self.rows.get(webhook_id)

    def list_for(self, account_id: str, livemode: bool, *, cached: bool = False) -> list[Webhook]:
        self._enter("list_for", account_id, livemode, cached=cached)
        with self._lock:
            found = [w for w in self.rows.values() if w.account_id == account_id and w.livemode == livemode]
        return sorted(found, key=lambda webhook: webhook.webhook_id)

    def update(self, webhook_id: str, changes: WebhookChanges) -> Webhook | None:
        self._enter("update", webhook_id, changes)
        with self._lock:
            current = self.rows.get(webhook_id)
            if current is None:
                return None
            fields: dict[str, Any] = {"updated_at": self._clock()}
            if "url" in changes.given:
                fields["url"] = changes.url
            if "events" in changes.given:
                fields["events"] = changes.events or None
            if "description" in changes.given:
                fields["description"] = changes.description
            if "status" in changes.given:
                fields["status"] = changes.status
                if changes.status == "enabled":
                    fields["failing_since"] = None  # a fresh start after a fix
            self.rows[webhook_id] = replace(current, **fields)
            return self.rows[webhook_id]

    def delete(self, webhook_id: str) -> None:
        self._enter("delete", webhook_id)
        with self._lock:
            self.rows.pop(webhook_id, None)

    def rotate(self, webhook: Webhook, new_secret: str) -> Webhook | None:
        self._enter("rotate", webhook, new_secret)
        now = self._clock()
        with self._lock:
            current = self.rows.get(webhook.webhook_id)
            if current is None or current.updated_at != webhook.updated_at:
                return None  # changed since it was read (a concurrent rotation): never drop a secret
            kept = [
                WebhookSecret(s.secret, s.expires_at or now + SECRET_OVERLAP_MS)
                for s in webhook.secrets
                if not s.expires_at or s.expires_at > now
            ]
            rotated = replace(
                current,
                secrets=(WebhookSecret(new_secret), *kept),
                updated_at=now + 1 if now <= webhook.updated_at else now,
            )
            self.rows[webhook.webhook_id] = rotated
            return rotated

    def note_failure(self, webhook_id: str, at: int) -> int | None:
        self._enter("note_failure", webhook_id, at)
        with self._lock:
            current = self.rows.get(webhook_id)
            if current is None:
                return None
            if current.failing_since is None:
                self.rows[webhook_id] = replace(current, failing_since=at)
                return at
            return current.failing_since

    def note_success(self, webhook_id: str) -> None:
        self._enter("note_success", webhook_id)
        with self._lock:
            current = self.rows.get(webhook_id)
            if current is not None and current.failing_since is not None:
                self.rows[webhook_id] = replace(current, failing_since=None)

    def disable_if_enabled(self, webhook_id: str, failing_since: int) -> bool:
        self._enter("disable_if_enabled", webhook_id, failing_since)
        with self._lock:
            current = self.rows.get(webhook_id)
            if current is None or current.status != "enabled" or current.failing_since != failing_since:
                return False
            self.rows[webhook_id] = replace(current, status="disabled", updated_at=self._clock())
            return True


class MemoryDeliveryStore(Faults):
    def __init__(self, webhooks: MemoryWebhookStore, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._webhooks = webhooks
        self._clock = clock
        self._lock = threading.Lock()
        self.rows: dict[tuple[str, str], Delivery] = {}

    def create(self, webhook_id: str, delivery_id: str, event: dict[str, Any]) -> Delivery | None:
        self._enter("create", webhook_id, delivery_id, event)
        now = self._clock()
        delivery = Delivery(
            webhook_id=webhook_id,
            delivery_id=delivery_id,
            event_id=event["id"],
            event_type=event["type"],
            payload=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
            status="pending",
            created_at=now,
            updated_at=now,
        )
        with self._lock:
            if (webhook_id, delivery_id) in self.rows:
                return None
            self.rows[(webhook_id, delivery_id)] = delivery
            return delivery

    def get(self, webhook_id: str, delivery_id: str) -> Delivery | None:
        self._enter("get", webhook_id, delivery_id)
        with self._lock:
            return self.rows.get((webhook_id, delivery_id))

    def get_with_endpoint(self, webhook_id: str, delivery_id: str) -> tuple[Delivery | None, Webhook | None]:
        self._enter("get_with_endpoint", webhook_id, delivery_id)
        with self._lock:
            delivery = self.rows.get((webhook_id, delivery_id))
        return delivery, self._webhooks.rows.get(webhook_id)

    def record_attempt(self, delivery: Delivery, attempt: DeliveryAttempt, status: str) -> None:
        self._enter("record_attempt", delivery, attempt, status)
        key = (delivery.webhook_id, delivery.delivery_id)
        with self._lock:
            current = self.rows.get(key, delivery)
            self.rows[key] = replace(
                current, attempts=(*current.attempts, attempt), status=status, updated_at=self._clock()
            )

    def reset_for_replay(self, delivery: Delivery) -> None:
        self._enter("reset_for_replay", delivery)
        key = (delivery.webhook_id, delivery.delivery_id)
        with self._lock:
            current = self.rows.get(key, delivery)
            self.rows[key] = replace(current, status="pending", updated_at=self._clock())

    def page(self, webhook_id: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
        self._enter("page", webhook_id, limit, cursor)
        after = decode_cursor(cursor, webhook_id, {"d": str})["d"] if cursor else None
        with self._lock:
            newest_first = sorted(
                (d for (wid, _), d in self.rows.items() if wid == webhook_id),
                key=lambda delivery: delivery.delivery_id,
                reverse=True,
            )
        if after is not None:
            newest_first = [d for d in newest_first if d.delivery_id < after]
        page = newest_first[:limit]
        if len(newest_first) <= limit:
            return page, None
        return page, encode_cursor(webhook_id, {"d": page[-1].delivery_id})


class MemoryDeliveryJobs(Faults):
    """The delivery queue: jobs sent, jobs dead-lettered, and the visibility each retry was given."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.jobs: list[dict[str, Any]] = []
        self.dead_letters: list[dict[str, Any]] = []
        self.postponed: list[tuple[str, str, int]] = []

    def enqueue(self, job: dict[str, Any]) -> None:
        self._enter("enqueue", job)
        with self._lock:
            self.jobs.append(dict(job))

    def dead_letter(self, job: dict[str, Any]) -> None:
        self._enter("dead_letter", job)
        with self._lock:
            self.dead_letters.append(dict(job))

    def postpone(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        self._enter("postpone", queue_arn, receipt_handle, seconds)
        with self._lock:
            self.postponed.append((queue_arn, receipt_handle, max(0, min(seconds, 43_200))))


# Outbound HTTP ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Posted:
    url: str
    body: bytes
    headers: dict[str, str]
    timeout: float


@dataclass
class MemoryDownload:
    """An answered GET, its body cut in chunks."""

    body: bytes
    content_type: str | None = None
    content_length: int | None = None

    def chunks(self, size: int = 256 * 1024) -> Iterator[bytes]:
        for start in range(0, len(self.body), size):
            yield self.body[start : start + size]


@dataclass
class _Served:
    body: bytes
    content_type: str | None
    content_length: int | None
    failure: FetchFailed | None = None


OK = HttpOutcome(status_code=200, latency_ms=5, error=None)


class MemoryHttpClient(Faults):
    """POSTs answer the outcomes a test queued (else `default_post`); GETs serve the files a test put at URLs
    (any other URL answers 404). No SSRF guard here: the real client's, tested on its own, is not faked."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.posted: list[Posted] = []
        self.default_post: HttpOutcome = OK
        self._outcomes: list[HttpOutcome] = []
        self._served: dict[str, _Served] = {}

    def answer_posts(self, *outcomes: HttpOutcome) -> None:
        """The outcomes of the next POSTs, in order."""
        with self._lock:
            self._outcomes.extend(outcomes)

    def serve(
        self,
        url: str,
        body: bytes,
        *,
        content_type: str | None = None,
        content_length: int | None = None,
        failure: FetchFailed | None = None,
    ) -> None:
        """What a GET of `url` gets: `body` (its declared type and length), or `failure` raised."""
        with self._lock:
            length = len(body) if content_length is None else content_length
            self._served[url] = _Served(body, content_type, length, failure)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpOutcome:
        self._enter("post", url, body, headers, timeout)
        with self._lock:
            self.posted.append(Posted(url, body, dict(headers), timeout))
            return self._outcomes.pop(0) if self._outcomes else self.default_post

    @contextmanager
    def get(self, url: str, *, timeout: float, max_redirects: int = 3) -> Iterator[MemoryDownload]:
        self._enter("get", url, timeout=timeout, max_redirects=max_redirects)
        with self._lock:
            served = self._served.get(url)
        if served is None:
            raise FetchFailed("http_404")
        if served.failure is not None:
            raise served.failure
        yield MemoryDownload(served.body, served.content_type, served.content_length)
