"""Usage counters: one row per (account, mode, hour, instance), summed into hours or days for GET /usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

METRICS = ("sends", "otps", "delivered", "read", "failed", "inbound", "webhook_deliveries")


def hour_of(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H")


@dataclass(frozen=True, slots=True)
class UsageRow:
    hour: str
    """`YYYY-MM-DDTHH`, UTC."""
    instance_id: str
    """`-` for what belongs to no instance (a webhook delivery of an account event)."""
    counts: dict[str, int] = field(default_factory=dict)
