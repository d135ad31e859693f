"""The account's standing and usage, as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bzapper.domain.clock import iso
from bzapper.domain.plans import CURRENCY
from bzapper.domain.usage import METRICS, pricing_summary
from bzapper.services.entitlements import Standing
from bzapper.services.usage import UsageReport


def entitlements_out(standing: Standing) -> dict[str, Any]:
    plan = standing.plan
    return {
        "plan": plan.name,
        "price_per_send": plan.price_per_send,
        "currency": CURRENCY,
        "limits": {
            "instances": plan.instances,
            "sends_per_minute": plan.sends_per_minute,
            "webhooks": plan.webhooks,
            "media_size_bytes": plan.media_size_bytes,
        },
        "features": standing.features,
        "usage": {
            "instances": standing.instances,
            "sends_this_minute": standing.sends_this_minute,
            "webhooks": standing.webhooks,
        },
    }


def _at(moment: datetime) -> str:
    return iso(int(moment.timestamp() * 1000))


def usage_out(report: UsageReport) -> dict[str, Any]:
    return {
        "granularity": report.granularity,
        "from": _at(report.since),
        "to": _at(report.until),
        "instance_id": report.instance_id,
        "data": [_bucket(moment, counts) for moment, counts in report.buckets.items()],
        "totals": _bucket(report.first, report.totals),
    }


def _bucket(moment: datetime, counts: dict[str, int]) -> dict[str, Any]:
    return {"start": _at(moment), **{name: counts[name] for name in METRICS}, "pricing": pricing_summary(counts)}
