"""Plans: what a send costs and what an account may do. Amounts are integers in centavos (BRL)."""

from __future__ import annotations

from dataclasses import dataclass, field

CURRENCY = "BRL"


@dataclass(frozen=True)
class Plan:
    name: str
    price_per_send: int
    """Centavos debited per accepted send (an OTP counts as one send)."""
    sends_per_minute: int
    instances: int
    webhooks: int
    media_size_bytes: int
    low_balance_threshold: int
    features: frozenset[str] = field(default_factory=frozenset)


EXPERIMENTAL_INTERACTIVE = "experimental_interactive_messages"
FEATURES = (EXPERIMENTAL_INTERACTIVE,)

PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan(
            "payg",
            price_per_send=1,
            sends_per_minute=120,
            instances=3,
            webhooks=5,
            media_size_bytes=16 * 1024 * 1024,
            low_balance_threshold=500,
        ),
        Plan(
            "scale",
            price_per_send=1,
            sends_per_minute=1200,
            instances=50,
            webhooks=20,
            media_size_bytes=100 * 1024 * 1024,
            low_balance_threshold=5000,
            features=frozenset({EXPERIMENTAL_INTERACTIVE}),
        ),
    )
}
DEFAULT_PLAN = "payg"


def plan_named(name: str | None) -> Plan:
    return PLANS.get(name or DEFAULT_PLAN, PLANS[DEFAULT_PLAN])


MIN_TOP_UP = 1_000  # R$ 10,00
MAX_TOP_UP = 1_000_000  # R$ 10.000,00
