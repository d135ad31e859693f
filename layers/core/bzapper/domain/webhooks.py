"""Webhook rules: which events an endpoint gets, which failures are retried, and when."""

from __future__ import annotations

import base64
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from bzapper.domain.errors import validation_failed

EVENT_TYPES = (
    "message.queued",
    "message.sent",
    "message.delivered",
    "message.read",
    "message.played",
    "message.failed",
    "message.received",
    "message.edited",
    "message.deleted",
    "instance.qr",
    "instance.connected",
    "instance.disconnected",
    "instance.logged_out",
    "instance.restricted",
    "instance.passkey_required",
    "instance.history_synced",
    "contact.identity_resolved",
    "call.received",
    "call.ended",
    "group.joined",
    "group.left",
    "group.updated",
    "group.participants_changed",
    "status.posted",
    "presence.updated",
    "wallet.low_balance",
    "webhook.disabled",
    "webhook.test",
)

# Seconds after each failed attempt: first retry within ~5 s, capped at 12 h, over more than 3 days
# (about 3.5 days in all, inside SQS's default 4-day retention).
RETRY_DELAYS = (5, 30, 120, 600, 1_800, 3_600, 10_800, 21_600, *(43_200,) * 6)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER_MS = 3 * 24 * 3600 * 1000
"""An endpoint failing without a single success for this long is disabled (webhook.disabled)."""
SECRET_OVERLAP_MS = 24 * 3600 * 1000
"""After a rotation the previous secret keeps signing for this long."""
TIMEOUT_SECONDS = 10.0


def valid_subscription(pattern: str) -> bool:
    """An event type, or a family with a wildcard: `message.*`."""
    if pattern.endswith(".*"):
        return any(event.startswith(pattern[:-1]) for event in EVENT_TYPES)
    return pattern in EVENT_TYPES


def validated_subscriptions(patterns: Sequence[str], param: str, *, name_each: bool = True) -> set[str]:
    """The event types and families asked for: a webhook's `events`, GET /stream's `types`.

    An empty list is refused: leaving the field out is how to ask for every event, so an empty one is a client
    bug. An unknown type is refused at `<param>.<index>` (`events.1`), or at `param` itself when not `name_each`.
    """
    if not patterns:
        raise validation_failed(param, "error.no_event_types")
    for index, pattern in enumerate(patterns):
        if not valid_subscription(pattern):
            raise validation_failed(f"{param}.{index}" if name_each else param, "error.invalid_event_type")
    return set(patterns)


def subscribed(patterns: set[str] | None, event_type: str) -> bool:
    if not patterns:
        return True  # no list means every event
    return event_type in patterns or any(p.endswith(".*") and event_type.startswith(p[:-1]) for p in patterns)


def retryable(status_code: int | None) -> bool:
    """Network errors, timeouts, 408, 429 and 5xx are retried; any other answer is final."""
    return status_code is None or status_code in (408, 429) or status_code >= 500


def retry_delay(attempt: int, scale: float = 1.0, rng: random.Random | None = None) -> int | None:
    """Seconds to wait after failed attempt number `attempt` (1-based), ±20% jitter; None when exhausted."""
    if attempt >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[attempt - 1] * scale
    jitter = (rng or random).uniform(0.8, 1.2)
    return max(1, min(43_200, round(base * jitter)))


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# The records ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    secret: str
    expires_at: int | None = None
    """Set on the previous secret by a rotation: it keeps signing until then."""


@dataclass(frozen=True, slots=True)
class Webhook:
    webhook_id: str
    account_id: str
    livemode: bool
    url: str
    events: frozenset[str] | None
    """Subscribed event types and families; None means every event."""
    description: str | None
    status: str
    secrets: tuple[WebhookSecret, ...]
    created_at: int
    updated_at: int
    failing_since: int | None = None
    instance_ids: frozenset[str] | None = None
    """The numbers whose events it carries: those of the restricted key that created it (None: every number)."""

    def carries(self, instance_id: str | None) -> bool:
        """Whether an event of this number goes to the endpoint; account-level events (no number) always do."""
        return self.instance_ids is None or not instance_id or instance_id in self.instance_ids

    def visible_to(self, instance_ids: frozenset[str] | None) -> bool:
        """Whether a caller limited to `instance_ids` (None: every number) may see and manage the endpoint: only
        when every number it carries is one of the caller's (an account-wide endpoint is for full keys only)."""
        return instance_ids is None or (self.instance_ids is not None and self.instance_ids <= instance_ids)

    def signing_secrets(self, now: int) -> list[str]:
        """Every secret still valid at `now`: during a rotation both sign."""
        return [s.secret for s in self.secrets if not s.expires_at or s.expires_at > now]


@dataclass(frozen=True, slots=True)
class WebhookChanges:
    """A PATCH of an endpoint: only the fields named in `given` change (`events` None: every event again;
    `description` None: none). Enabling an endpoint also ends its failure streak: a fresh start after a fix."""

    given: frozenset[str]
    url: str | None = None
    events: frozenset[str] | None = None
    description: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    at: int
    latency_ms: int
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: str
    payload: str
    """The exact bytes sent (and signed), so a retry or a replay sends the same body."""
    status: str
    created_at: int
    updated_at: int
    attempts: tuple[DeliveryAttempt, ...] = field(default=())
