"""GET /me/entitlements (bzapper.services.entitlements): the plan's limits and features, and where the account
stands against them right now."""

from __future__ import annotations

from support.memory import open_account

from bzapper.api.presenters.account import entitlements_out
from bzapper.domain.plans import EXPERIMENTAL_INTERACTIVE
from bzapper.domain.ratelimit import Bucket
from bzapper.services.entitlements import entitlements
from bzapper.services.webhooks import create_webhook


def shown(services, principal):
    """The standing as GET /me/entitlements shows it."""
    return entitlements_out(entitlements(services, principal))


def test_the_plan_and_its_use_so_far(fakes):
    tenant = open_account(fakes)
    fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="B", status="disconnected")
    fakes.instances.create(tenant.account_id, livemode=True, engine="whatsmeow", name="live", status="connected")
    create_webhook(fakes.services, tenant.principal, "https://93.184.215.14/hooks", None, None)
    for _ in range(7):
        fakes.rate_limits.take(f"sends:{tenant.account_id}:test", Bucket(120))

    found = shown(fakes.services, tenant.principal)

    assert found == {
        "plan": "payg",
        "price_per_send": 1,
        "currency": "BRL",
        "limits": {"instances": 3, "sends_per_minute": 120, "webhooks": 5, "media_size_bytes": 16 * 1024 * 1024},
        "features": {EXPERIMENTAL_INTERACTIVE: False},
        "usage": {"instances": 2, "sends_this_minute": 7, "webhooks": 1},
    }


def test_sends_this_minute_drain_as_the_minute_passes(fakes, clock):
    tenant = open_account(fakes)
    for _ in range(6):
        fakes.rate_limits.take(f"sends:{tenant.account_id}:test", Bucket(120))
    clock.advance(1_500)  # three intervals of 500 ms
    assert shown(fakes.services, tenant.principal)["usage"]["sends_this_minute"] == 3


def test_a_feature_granted_to_the_account_is_on_whatever_its_plan(fakes):
    tenant = open_account(fakes)
    fakes.accounts.set_features(tenant.account_id, frozenset({EXPERIMENTAL_INTERACTIVE}))
    principal = fakes.accounts.principal_for(tenant.api_key)
    assert shown(fakes.services, principal)["features"] == {EXPERIMENTAL_INTERACTIVE: True}
    scale = open_account(fakes, plan="scale")
    found = shown(fakes.services, scale.principal)
    assert found["features"] == {EXPERIMENTAL_INTERACTIVE: True} and found["limits"]["instances"] == 50
