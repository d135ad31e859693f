"""Webhooks: endpoints, their deliveries, the delivery job queue and the HTTP client that POSTs and fetches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from bzapper.domain.transport import HttpOutcome
from bzapper.domain.webhooks import Delivery, DeliveryAttempt, Webhook, WebhookChanges


class WebhookStore(Protocol):
    def create(self, webhook: Webhook, *, limit: int) -> bool:
        """Creates it unless its account (in its mode) already has `limit` endpoints: False then. The limit holds
        under concurrent creates."""
        ...

    def get(self, webhook_id: str) -> Webhook | None: ...

    def list_for(self, account_id: str, livemode: bool, *, cached: bool = False) -> list[Webhook]:
        """The account's endpoints of one mode; `cached` allows a few seconds' staleness (the fan-out)."""
        ...

    def update(self, webhook_id: str, changes: WebhookChanges) -> Webhook | None:
        """None when the endpoint no longer exists."""
        ...

    def delete(self, webhook_id: str) -> None: ...

    def rotate(self, webhook: Webhook, new_secret: str) -> Webhook | None:
        """The new secret signs first, the current ones keep signing for a while; None when the endpoint
        changed since it was read (a concurrent rotation): read it again and retry."""
        ...

    def note_failure(self, webhook_id: str, at: int) -> int | None:
        """Records that the endpoint is failing; returns since when (the first failure in a row)."""
        ...

    def note_success(self, webhook_id: str) -> None: ...

    def disable_if_enabled(self, webhook_id: str, failing_since: int) -> bool:
        """Disables it if enabled and still failing since `failing_since`; False otherwise."""
        ...


class DeliveryStore(Protocol):
    def create(self, webhook_id: str, delivery_id: str, event: dict[str, Any]) -> Delivery | None:
        """The delivery of (endpoint, event), once: None when it already exists."""
        ...

    def get(self, webhook_id: str, delivery_id: str) -> Delivery | None: ...

    def get_with_endpoint(self, webhook_id: str, delivery_id: str) -> tuple[Delivery | None, Webhook | None]:
        """Both as they are now (strongly consistent), read together."""
        ...

    def record_attempt(self, delivery: Delivery, attempt: DeliveryAttempt, status: str) -> None: ...

    def reset_for_replay(self, delivery: Delivery) -> None: ...

    def page(self, webhook_id: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]: ...


class DeliveryJobs(Protocol):
    """The delivery queue: retries are durable in it (a job's visibility is its backoff)."""

    def enqueue(self, job: dict[str, Any]) -> None: ...

    def dead_letter(self, job: dict[str, Any]) -> None: ...

    def postpone(self, queue_arn: str, receipt_handle: str, seconds: int) -> None: ...


class Download(Protocol):
    """An answered GET: its declared type and length, and its body in chunks, cut off at the deadline."""

    content_type: str | None
    content_length: int | None

    def chunks(self, size: int = ...) -> Iterator[bytes]: ...


class HttpClient(Protocol):
    """Outbound HTTP to customer URLs, behind the SSRF guard (bzapper.net)."""

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpOutcome: ...

    def get(self, url: str, *, timeout: float, max_redirects: int = 3) -> AbstractContextManager[Download]:
        """Raises FetchFailed (bzapper.domain.transport) when the file cannot be had."""
        ...
