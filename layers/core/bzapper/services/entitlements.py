"""GET /me/entitlements: the plan's limits and features, and where the account stands against them."""

from __future__ import annotations

from dataclasses import dataclass

from bzapper.domain.model import Principal
from bzapper.domain.plans import FEATURES, Plan, plan_named
from bzapper.services.container import Services


@dataclass(frozen=True, slots=True)
class Standing:
    plan: Plan
    features: dict[str, bool]
    """Every feature there is, and whether this account has it (its plan's, or granted to it)."""
    instances: int
    sends_this_minute: int
    webhooks: int


def entitlements(services: Services, principal: Principal) -> Standing:
    plan = plan_named(principal.plan)
    enabled = plan.features | principal.features
    return Standing(
        plan=plan,
        features={feature: feature in enabled for feature in FEATURES},
        instances=services.instances.count_for(principal.account_id, principal.livemode),
        sends_this_minute=services.rate_limits.used(
            f"sends:{principal.account_id}:{principal.mode}", plan.sends_per_minute
        ),
        webhooks=len(services.webhooks.list_for(principal.account_id, principal.livemode)),
    )
