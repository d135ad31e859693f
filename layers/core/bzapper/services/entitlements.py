"""GET /me/entitlements: the plan's limits and features, and where the account stands against them."""

from __future__ import annotations

from typing import Any

from bzapper.domain.model import Principal
from bzapper.domain.plans import CURRENCY, FEATURES, plan_named
from bzapper.services.container import Services


def entitlements(services: Services, principal: Principal) -> dict[str, Any]:
    plan = plan_named(principal.plan)
    enabled = plan.features | principal.features
    sends_this_minute = services.rate_limits.used(
        f"sends:{principal.account_id}:{principal.mode}", plan.sends_per_minute
    )
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
        "features": {feature: feature in enabled for feature in FEATURES},
        "usage": {
            "instances": services.instances.count_for(principal.account_id, principal.livemode),
            "sends_this_minute": sends_this_minute,
            "webhooks": len(services.webhooks.list_for(principal.account_id, principal.livemode)),
        },
    }
