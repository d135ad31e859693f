"""What Meta says a message costs (the `pricing` of its status webhooks), as stored and counted. Pure.

A status report of any engine may carry `pricing: {"category", "billable", "model"}`; the first report that
carries it is stored on the message (later ones repeat it: Meta prices a message once), and the message counts
in GET /usage under its category when it is first delivered (Meta charges a delivered message)."""

from __future__ import annotations

from typing import Any

PRICED_AT = frozenset({"delivered", "read"})
"""The statuses at which a message counts under its category: the first of them it reaches (Meta bills a
delivered message; a `read` that overtook its `delivered` stands for both)."""

CATEGORIES = ("marketing", "utility", "authentication", "service", "other")
"""Meta's categories; any other one Meta adds (e.g. `referral_conversion`) counts as `other`."""


def pricing_of(raw: Any) -> dict[str, Any] | None:
    """A report's pricing, cleaned (None when absent or unreadable: a status is never refused for it)."""
    if not isinstance(raw, dict):
        return None
    category = raw.get("category")
    billable = raw.get("billable")
    model = raw.get("model")
    if not isinstance(category, str) or not category or not isinstance(billable, bool):
        return None
    return {
        "category": category.strip().lower()[:64],
        "billable": billable,
        "model": model[:64] if isinstance(model, str) and model else None,
    }


def counted_category(category: str) -> str:
    return category if category in CATEGORIES else "other"


def pricing_metrics(pricing: dict[str, Any] | None) -> tuple[str, ...]:
    """The usage counters one delivered message adds to: its category's messages, and billable ones."""
    if not pricing:
        return ()
    category = counted_category(str(pricing.get("category", "")))
    return (f"priced_{category}", f"billable_{category}") if pricing.get("billable") else (f"priced_{category}",)


PRICING_METRICS = tuple(f"{kind}_{category}" for category in CATEGORIES for kind in ("priced", "billable"))
