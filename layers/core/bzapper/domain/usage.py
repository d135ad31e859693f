"""Usage counters: one row per (account, mode, hour, instance), summed into hours or days for GET /usage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bzapper.domain.pricing import CATEGORIES, PRICING_METRICS

METRICS = ("sends", "otps", "delivered", "read", "failed", "inbound", "webhook_deliveries")

COUNTERS = METRICS + PRICING_METRICS
"""Every counter of a row: the metrics shown flat, and the delivered messages by Meta's pricing category (and the
billable ones among them), shown under `pricing`."""


def pricing_summary(counts: dict[str, int]) -> dict[str, dict[str, int]]:
    """`{category: {"messages", "billable"}}` of one bucket's counters."""
    return {
        category: {"messages": counts.get(f"priced_{category}", 0), "billable": counts.get(f"billable_{category}", 0)}
        for category in CATEGORIES
    }


def hour_of(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H")


@dataclass(frozen=True, slots=True)
class UsageRow:
    hour: str
    """`YYYY-MM-DDTHH`, UTC."""
    instance_id: str
    """`-` for what belongs to no instance (a webhook delivery of an account event)."""
    counts: dict[str, int] = field(default_factory=dict)
