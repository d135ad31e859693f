"""Money (bzapper.services.billing): the wallet and its ledger, checkouts, and the provider's events: verified,
the mode decided by the secret that signed them, each checkout credited at most once."""

from __future__ import annotations

import pytest
from support.memory import open_account

from bzapper.adapters.memory.billing import LIVE_SECRET, TEST_SECRET, sign
from bzapper.domain.errors import BzError
from bzapper.domain.plans import plan_named
from bzapper.services import billing

BASE_URL = "https://api.bzapper.test"


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


def checkout(fakes, tenant, amount: int = 5_000):
    return billing.create_checkout(fakes.services, tenant.principal, amount, "pix", BASE_URL)


def deliver(fakes, payload: bytes, secret: str) -> bool:
    return billing.process_provider_event(fakes.services, payload, sign(payload, secret))


# The wallet ---------------------------------------------------------------------------------------------------


def test_the_wallet_shows_its_balance_and_ledger_newest_first_in_pages(fakes, clock):
    tenant = open_account(fakes, credits=1_000)
    for amount in (10, 20, 30):
        clock.advance(1)
        fakes.wallets.credit(tenant.wallet, amount, "top_up")

    first = billing.wallet_view(fakes.services, tenant.principal, 2, None)
    rest = billing.wallet_view(fakes.services, tenant.principal, 2, first.next_cursor)

    assert first.balance == 1_060 and first.currency == "BRL" and not first.livemode
    assert first.low_balance_threshold == plan_named("payg").low_balance_threshold
    assert [e.amount for e in first.entries + rest.entries] == [30, 20, 10, 1_000]
    assert rest.next_cursor is None
    assert refusal(lambda: billing.wallet_view(fakes.services, tenant.principal, 0, None)).param == "limit"
    other = open_account(fakes)
    assert refusal(lambda: billing.wallet_view(fakes.services, other.principal, 2, first.next_cursor)).param == "cursor"


# Checkouts ------------------------------------------------------------------------------------------------------


def test_a_test_checkout_opens_on_the_sandbox_page_for_an_hour(fakes, clock):
    tenant = open_account(fakes)
    created = checkout(fakes, tenant)
    assert (created.provider, created.status, created.mode, created.amount) == ("sandbox", "open", "test", 5_000)
    assert created.expires_at == clock.now + billing.CHECKOUT_TTL_MS
    assert created.url == f"{BASE_URL}/pay/{created.checkout_id}"
    assert fakes.checkouts.get(created.checkout_id) == created


def test_live_checkouts_need_a_provider_key(fakes):
    tenant = open_account(fakes, mode="live")
    fakes.payments.stripe.configured = False
    assert refusal(lambda: checkout(fakes, tenant)).code == "not_supported"


def test_the_sandbox_page_shows_only_its_own_checkouts_expired_when_past_their_hour(fakes, clock):
    tenant = open_account(fakes)
    created = checkout(fakes, tenant)
    assert billing.sandbox_checkout(fakes.services, created.checkout_id).status == "open"
    clock.advance(billing.CHECKOUT_TTL_MS + 1)
    assert billing.sandbox_checkout(fakes.services, created.checkout_id).status == "expired"
    live = checkout(fakes, open_account(fakes, mode="live"))
    assert billing.sandbox_checkout(fakes.services, live.checkout_id) is None
    assert billing.sandbox_checkout(fakes.services, "chk_nonsense") is None


# Settling -------------------------------------------------------------------------------------------------------


def test_a_paid_checkout_is_credited_once_however_often_it_is_reported(fakes):
    tenant = open_account(fakes, credits=0)
    created = checkout(fakes, tenant)

    assert billing.settle_sandbox_checkout(fakes.services, created, paid=True) is True
    assert billing.settle_sandbox_checkout(fakes.services, created, paid=True) is False
    payload = fakes.payments.event_for(fakes.checkouts.get(created.checkout_id), True)
    assert deliver(fakes, payload, TEST_SECRET) is False  # the provider's own redelivery

    assert fakes.wallets.balance(tenant.wallet) == 5_000
    [entry] = fakes.wallets.entries(tenant.wallet, 10, None)[0]
    assert (entry.reason, entry.reference) == ("top_up", created.checkout_id)
    assert fakes.checkouts.get(created.checkout_id).status == "paid"


def test_a_failed_payment_marks_the_checkout_and_a_later_success_still_settles_it(fakes):
    tenant = open_account(fakes, credits=0)
    created = checkout(fakes, tenant)
    assert billing.settle_sandbox_checkout(fakes.services, created, paid=False) is True
    assert fakes.checkouts.get(created.checkout_id).status == "failed"

    assert billing.settle_sandbox_checkout(fakes.services, created, paid=True) is True
    assert fakes.wallets.balance(tenant.wallet) == 5_000


def test_pix_completed_but_unpaid_waits_for_its_async_success(fakes):
    tenant = open_account(fakes, credits=0)
    created = fakes.checkouts.get(checkout(fakes, tenant).checkout_id)
    assert (
        deliver(fakes, fakes.payments.event_for(created, paid=False, kind="checkout.session.completed"), TEST_SECRET)
        is False
    )
    assert fakes.wallets.balance(tenant.wallet) == 0
    succeeded = fakes.payments.event_for(created, paid=True, kind="checkout.session.async_payment_succeeded")
    assert deliver(fakes, succeeded, TEST_SECRET) is True
    assert fakes.wallets.balance(tenant.wallet) == 5_000


def test_the_secret_that_signed_an_event_decides_which_mode_it_may_touch(fakes):
    live = open_account(fakes, mode="live", credits=0)
    created = fakes.checkouts.get(checkout(fakes, live).checkout_id)
    payload = fakes.payments.event_for(created, True)

    assert deliver(fakes, payload, TEST_SECRET) is False  # the public sandbox secret never credits live money
    assert fakes.wallets.balance(live.wallet) == 0
    assert deliver(fakes, payload, LIVE_SECRET) is True
    assert fakes.wallets.balance(live.wallet) == 5_000


def test_an_event_for_another_amount_is_refused(fakes):
    tenant = open_account(fakes, credits=0)
    created = fakes.checkouts.get(checkout(fakes, tenant).checkout_id)
    error = refusal(lambda: deliver(fakes, fakes.payments.event_for(created, True, amount=1), TEST_SECRET))
    assert (error.code, error.param) == ("validation_failed", "amount_total")
    assert fakes.wallets.balance(tenant.wallet) == 0


def test_unsigned_badly_signed_or_unreadable_events_change_nothing(fakes):
    tenant = open_account(fakes, credits=0)
    payload = fakes.payments.event_for(fakes.checkouts.get(checkout(fakes, tenant).checkout_id), True)

    assert refusal(lambda: billing.process_provider_event(fakes.services, payload, None)).code == "invalid_signature"
    assert refusal(lambda: deliver(fakes, payload, "whsec_someone_else")).code == "invalid_signature"
    assert refusal(lambda: deliver(fakes, b"not json", TEST_SECRET)).param == "request_body"
    assert refusal(lambda: deliver(fakes, b'{"data": 1}', TEST_SECRET)).param == "request_body"
    assert fakes.wallets.balance(tenant.wallet) == 0


def test_other_event_types_and_unknown_checkouts_are_acknowledged_and_ignored(fakes):
    tenant = open_account(fakes, credits=0)
    created = fakes.checkouts.get(checkout(fakes, tenant).checkout_id)
    assert deliver(fakes, fakes.payments.event_for(created, True, kind="charge.refunded"), TEST_SECRET) is False
    fakes.checkouts.rows.clear()
    assert deliver(fakes, fakes.payments.event_for(created, True), TEST_SECRET) is False
    assert fakes.wallets.balance(tenant.wallet) == 0


def test_a_top_up_rearms_the_low_balance_notice(fakes):
    tenant = open_account(fakes, credits=0)
    fakes.wallets.credit(tenant.wallet, 100, "test_credits")
    assert fakes.wallets.mark_low_notified(tenant.wallet, 500)
    billing.settle_sandbox_checkout(fakes.services, checkout(fakes, tenant, amount=1_000), paid=True)
    fakes.wallets.credit(tenant.wallet, -1_000, "adjustment")
    assert fakes.wallets.low_notice_due(tenant.wallet, 500) == 100


def test_a_settlement_that_fails_in_storage_is_raised_for_the_providers_retry(fakes):
    tenant = open_account(fakes, credits=0)
    created = checkout(fakes, tenant)
    fakes.checkouts.fail_next("settle_paid", ConnectionError("throttled"))
    with pytest.raises(ConnectionError):
        billing.settle_sandbox_checkout(fakes.services, created, paid=True)
    assert billing.settle_sandbox_checkout(fakes.services, created, paid=True) is True
    assert fakes.wallets.balance(tenant.wallet) == 5_000
