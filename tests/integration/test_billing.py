"""Wallet, checkout, provider webhooks, entitlements, rate limits, usage, refunds: exact to the credit."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from support.accounts import make_account
from support.apigw import LambdaContext, call

from bzapper.adapters.aws.models import CheckoutModel, MessageModel, WalletModel
from bzapper.adapters.payments.base import sign
from bzapper.domain import plans
from bzapper.domain.billing import Checkout
from bzapper.domain.clock import now_ms
from bzapper.domain.model import StatusReport, wallet_id
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import sqs_event


@pytest.fixture
def billing(aws):
    return load_function("billing").handler


@pytest.fixture
def payments(aws):
    return load_function("payments").handler


@pytest.fixture
def account_api(aws):
    return load_function("account").handler


class Captured:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def publish(self, events: list[dict]) -> None:
        self.events.extend(events)


def _send(messages_handler, account, **overrides):
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "Hi", **overrides}
    return call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)


def _ledger_sum(account, mode="test") -> int:
    return sum(int(item.amount or 0) for item in WalletModel.query(wallet_id(account.account_id, mode)) if item.amount)


def _report(statuses_handler, account, message_id, status, error_code=None):
    at = now_ms()
    wa_id = MessageModel.get(message_id).wa_message_id
    report = StatusReport(account.instance_id, wa_id, status, at, message_id, error_code)
    record = {
        "MessageId": f"{message_id}-{status}",
        "ReceiptHandle": "rh",
        "Body": json.dumps(report.to_json()),
        "Attributes": {"MessageGroupId": wa_id},
    }
    result = statuses_handler(sqs_event([record], "arn:aws:sqs:us-east-1:1:q.fifo", "us-east-1"), LambdaContext())
    assert result == {"batchItemFailures": []}


# Wallet -------------------------------------------------------------------------------------------


def test_wallet_lists_the_ledger_newest_first_with_a_cursor(billing, messages_handler, account):
    for _ in range(3):
        assert _send(messages_handler, account)[0] == 202

    status, headers, wallet = call(billing, "GET", "/billing/wallet", headers=account.auth, query="limit=2")
    assert status == 200
    assert (wallet["balance"], wallet["currency"], wallet["livemode"]) == (997, "BRL", False)
    assert wallet["low_balance_threshold"] == plans.PLANS["payg"].low_balance_threshold
    assert [entry["amount"] for entry in wallet["entries"]] == [-1, -1]
    assert wallet["has_more"] is True
    assert headers["ratelimit-limit"] and headers["ratelimit-remaining"]

    _, _, page2 = call(
        billing, "GET", "/billing/wallet", headers=account.auth, query=f"limit=2&cursor={wallet['next_cursor']}"
    )
    assert [(entry["amount"], entry["reason"]) for entry in page2["entries"]] == [
        (-1, "message"),
        (1000, "test_credits"),
    ]
    assert page2["has_more"] is False and page2["next_cursor"] is None
    assert _ledger_sum(account) == wallet["balance"]


def test_a_cursor_of_another_wallet_is_refused(billing, svc, account):
    other = make_account(svc)
    _, _, theirs = call(billing, "GET", "/billing/wallet", headers=other.auth, query="limit=1")
    svc.wallets.credit(wallet_id(other.account_id, "test"), 5, reason="operator")
    _, _, theirs = call(billing, "GET", "/billing/wallet", headers=other.auth, query="limit=1")
    status, _, error = call(
        billing, "GET", "/billing/wallet", headers=account.auth, query=f"cursor={theirs['next_cursor']}"
    )
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "cursor")


# Checkout and the provider's webhook ---------------------------------------------------------------


def _checkout(billing, account, amount=5_000, method="pix"):
    return call(billing, "POST", "/billing/checkout", body={"amount": amount, "method": method}, headers=account.auth)


def test_sandbox_checkout_page_completes_a_payment_once(billing, payments, svc, account):
    status, _, checkout = _checkout(billing, account)
    assert status == 201
    assert checkout["url"].endswith(f"/sandbox/checkout/{checkout['checkout_id']}")
    assert (checkout["amount"], checkout["currency"], checkout["method"]) == (5_000, "BRL", "pix")

    page = payments(
        _event("GET", f"/sandbox/checkout/{checkout['checkout_id']}", {"accept-language": "pt-BR"}), LambdaContext()
    )
    assert page["statusCode"] == 200 and "Concluir pagamento" in page["body"]

    done = payments(_event("POST", f"/sandbox/checkout/{checkout['checkout_id']}/complete"), LambdaContext())
    assert done["statusCode"] == 200
    again = payments(_event("POST", f"/sandbox/checkout/{checkout['checkout_id']}/complete"), LambdaContext())
    assert again["statusCode"] == 409
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 6_000
    assert _ledger_sum(account) == 6_000


def test_failed_payment_credits_nothing(billing, payments, svc, account):
    _, _, checkout = _checkout(billing, account)
    assert (
        payments(_event("POST", f"/sandbox/checkout/{checkout['checkout_id']}/fail"), LambdaContext())["statusCode"]
        == 200
    )
    assert CheckoutModel.get(checkout["checkout_id"]).status == "failed"
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 1_000


def test_a_webhook_delivered_five_times_credits_once(billing, payments, svc, account):
    _, _, checkout = _checkout(billing, account, amount=2_500)
    payload, signature = svc.payments.sandbox_event(svc.checkouts.get(checkout["checkout_id"]), paid=True)
    for _ in range(5):
        status, _, body = call(
            payments,
            "POST",
            "/billing/webhooks/stripe",
            raw_body=payload.decode(),
            headers={"Stripe-Signature": signature},
        )
        assert (status, body) == (200, {"received": True})
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 3_500
    topups = [item for item in WalletModel.query(wallet_id(account.account_id, "test")) if item.reason == "top_up"]
    assert len(topups) == 1


def test_webhook_signature_is_required_and_checked(billing, payments, svc, account):
    _, _, checkout = _checkout(billing, account)
    payload, signature = svc.payments.sandbox_event(svc.checkouts.get(checkout["checkout_id"]), paid=True)
    tampered = payload.replace(b'"amount_total":5000', b'"amount_total":9000')
    for headers, body in (
        ({}, payload),
        ({"Stripe-Signature": "t=1,v1=00"}, payload),
        ({"Stripe-Signature": signature}, tampered),
    ):
        status, _, error = call(payments, "POST", "/billing/webhooks/stripe", raw_body=body.decode(), headers=headers)
        assert (status, error["code"]) == (400, "invalid_signature")
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 1_000


def test_a_test_mode_signature_never_credits_live_money(payments, svc, account, environment):
    environment.set("BZ_STRIPE_WEBHOOK_SECRET", "whsec_live_secret")
    live = Checkout(
        checkout_id="chk_live1",
        account_id=account.account_id,
        mode="live",
        amount=5_000,
        currency="BRL",
        method="card",
        provider="stripe",
        provider_session_id="cs_live_1",
        status="open",
        created_at=1,
        expires_at=10**13,
    )
    svc.checkouts.create(live)
    forged, forged_signature = svc.payments.sandbox_event(live, paid=True)
    call(
        payments,
        "POST",
        "/billing/webhooks/stripe",
        raw_body=forged.decode(),
        headers={"Stripe-Signature": forged_signature},
    )
    assert svc.wallets.balance(wallet_id(account.account_id, "live")) == 0

    genuine_signature = sign(forged, "whsec_live_secret")
    status, _, _ = call(
        payments,
        "POST",
        "/billing/webhooks/stripe",
        raw_body=forged.decode(),
        headers={"Stripe-Signature": genuine_signature},
    )
    assert status == 200
    assert svc.wallets.balance(wallet_id(account.account_id, "live")) == 5_000


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"amount": 999}, "amount"),
        ({"amount": 5000, "method": "boleto"}, "method"),
        ({"amount": 1_000_001}, "amount"),
        ({}, "amount"),
    ],
)
def test_checkout_validation(billing, account, body, param):
    status, _, error = call(billing, "POST", "/billing/checkout", body=body, headers=account.auth)
    assert (status, error["param"]) == (422, param)


def test_live_checkout_without_stripe_configured_is_not_supported(billing, svc, account, environment):
    environment.unset("BZ_STRIPE_SECRET_KEY")
    live_key = svc.accounts.create_key(account.account_id, "live")
    status, _, error = call(
        billing, "POST", "/billing/checkout", body={"amount": 5_000}, headers={"Authorization": f"Bearer {live_key}"}
    )
    assert (status, error["code"]) == (403, "not_supported")


# Entitlements, /me and rate limits ----------------------------------------------------------------


def test_entitlements_show_limits_features_and_usage(account_api, messages_handler, account, monkeypatch):
    # One send per 30 s refills: two sends stay counted however slow the machine is.
    slow = plans.Plan(
        "payg",
        price_per_send=1,
        sends_per_minute=2,
        instances=3,
        webhooks=5,
        media_size_bytes=16 * 1024 * 1024,
        low_balance_threshold=500,
    )
    monkeypatch.setitem(plans.PLANS, "payg", slow)
    for _ in range(2):
        assert _send(messages_handler, account)[0] == 202
    status, _, body = call(account_api, "GET", "/me/entitlements", headers=account.auth)
    assert status == 200
    assert body["plan"] == "payg"
    assert body["limits"] == {
        "instances": 3,
        "sends_per_minute": 2,
        "webhooks": 5,
        "media_size_bytes": 16 * 1024 * 1024,
    }
    assert body["features"] == {"experimental_interactive_messages": False}
    assert body["usage"] == {"instances": 1, "sends_this_minute": 2, "webhooks": 0}


def test_patch_me_sets_the_locale_used_by_errors(account_api, messages_handler, account):
    status, _, me = call(account_api, "PATCH", "/me", body={"locale": "es"}, headers=account.auth)
    assert (status, me["locale"]) == (200, "es")
    _, _, error = _send(messages_handler, account, instance_id="inst_missing")
    assert error["locale"] == "es"
    status, _, error = call(account_api, "PATCH", "/me", body={"locale": "fr"}, headers=account.auth)
    assert (status, error["param"]) == (422, "locale")


def test_sends_over_the_plan_limit_are_429_with_retry_after(messages_handler, svc, account, monkeypatch):
    small = plans.Plan(
        "payg",
        price_per_send=1,
        sends_per_minute=3,
        instances=3,
        webhooks=5,
        media_size_bytes=1,
        low_balance_threshold=0,
    )
    monkeypatch.setitem(plans.PLANS, "payg", small)
    results = [_send(messages_handler, account) for _ in range(4)]
    assert [status for status, _, _ in results] == [202, 202, 202, 429]
    assert [headers["ratelimit-remaining"] for _, headers, _ in results[:3]] == ["2", "1", "0"]
    _, headers, error = results[3]
    assert error["code"] == "rate_limited"
    assert int(headers["retry-after"]) >= 1 and headers["ratelimit-limit"] == "3"
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 997  # the refused send cost nothing


# Statuses: usage counters, refunds, low balance -----------------------------------------------------


def test_usage_counts_sends_and_statuses(account_api, messages_handler, statuses_handler, svc, account):
    svc.events = Captured()
    ids = [_send(messages_handler, account)[2]["message_id"] for _ in range(3)]
    _report(statuses_handler, account, ids[0], "sending")
    _report(statuses_handler, account, ids[0], "delivered")
    _report(statuses_handler, account, ids[1], "read")
    _report(statuses_handler, account, ids[2], "failed", "not_on_whatsapp")
    _report(statuses_handler, account, ids[2], "failed", "not_on_whatsapp")  # redelivered: counted once

    status, _, usage = call(account_api, "GET", "/usage", headers=account.auth)
    assert status == 200
    assert usage["granularity"] == "hour" and len(usage["data"]) in (24, 25)
    totals = {key: value for key, value in usage["totals"].items() if key not in ("start", "pricing")}
    assert {counts["messages"] for counts in usage["totals"]["pricing"].values()} == {0}  # no Cloud API message
    assert totals == {
        "sends": 3,
        "otps": 0,
        "delivered": 1,
        "read": 1,
        "failed": 1,
        "inbound": 0,
        "webhook_deliveries": 0,
    }
    _, _, daily = call(account_api, "GET", "/usage", headers=account.auth, query="granularity=day")
    assert daily["totals"]["sends"] == 3
    _, _, mine = call(account_api, "GET", "/usage", headers=account.auth, query=f"instance_id={account.instance_id}")
    assert mine["totals"]["sends"] == 3
    # Not one of the caller's numbers: 404, as the inbox and the stream answer (it used to be a report of zeros).
    status, _, none = call(account_api, "GET", "/usage", headers=account.auth, query="instance_id=inst_other")
    assert (status, none["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "granularity=week",
    ],
)
def test_usage_refuses_bad_ranges(account_api, account, query):
    status, _, error = call(account_api, "GET", "/usage", headers=account.auth, query=query)
    assert (status, error["code"]) == (422, "validation_failed")


def test_a_final_failure_is_refunded_exactly_once(messages_handler, statuses_handler, svc, account):
    svc.events = Captured()
    message_id = _send(messages_handler, account)[2]["message_id"]
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999
    for _ in range(3):
        _report(statuses_handler, account, message_id, "failed", "not_on_whatsapp")
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 1_000
    refunds = [item for item in WalletModel.query(wallet_id(account.account_id, "test")) if item.reason == "refund"]
    assert [(int(item.amount), item.reference) for item in refunds] == [(1, message_id)]
    assert _ledger_sum(account) == 1_000
    failed = [event for event in svc.events.events if event["type"] == "message.failed"]
    assert failed and failed[0]["data"]["error"] == {"code": "not_on_whatsapp"}
    assert MessageModel.get(message_id).error.code == "not_on_whatsapp"


def test_a_sent_message_is_never_refunded(messages_handler, statuses_handler, svc, account):
    svc.events = Captured()
    message_id = _send(messages_handler, account)[2]["message_id"]
    _report(statuses_handler, account, message_id, "sent")
    _report(statuses_handler, account, message_id, "failed", "late")
    assert MessageModel.get(message_id).status == "sent"
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999


def test_low_balance_is_announced_once_per_crossing(messages_handler, statuses_handler, svc):
    captured = Captured()
    svc.events = captured
    threshold = plans.PLANS["payg"].low_balance_threshold
    account = make_account(svc, credits=threshold + 2)
    ids = [_send(messages_handler, account)[2]["message_id"] for _ in range(4)]
    for message_id in ids:
        _report(statuses_handler, account, message_id, "sending")
    notices = [event for event in captured.events if event["type"] == "wallet.low_balance"]
    assert len(notices) == 1
    assert notices[0]["data"]["threshold"] == threshold and notices[0]["data"]["balance"] <= threshold

    svc.wallets.credit(wallet_id(account.account_id, "test"), 1_000, reason="top_up")
    more = [_send(messages_handler, account)[2]["message_id"] for _ in range(1)]
    _report(statuses_handler, account, more[0], "sending")
    assert len([event for event in captured.events if event["type"] == "wallet.low_balance"]) == 1  # above again


def test_concurrent_sends_never_overdraw(messages_handler, svc):
    account = make_account(svc, credits=50)
    with ThreadPoolExecutor(
        max_workers=10, initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop())
    ) as pool:
        statuses = list(pool.map(lambda _: _send(messages_handler, account)[0], range(100)))
    assert statuses.count(202) == 50
    assert statuses.count(402) == 50
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 0
    assert _ledger_sum(account) == 0
    assert len([m for m in MessageModel.scan() if m.account_id == account.account_id]) == 50


def _event(method: str, path: str, headers: dict | None = None) -> dict:
    from support.apigw import http_event

    return http_event(method, path, headers=headers)


@pytest.mark.parametrize(
    "payload",
    [
        "[1,2]",
        '"x"',
        '{"type":"checkout.session.completed","data":"zz"}',
        '{"type":"checkout.session.completed","data":{"object":[1]}}',
        "not json",
    ],
)
def test_signed_junk_from_the_provider_is_422_not_500(payments, payload):
    from bzapper.adapters.payments.sandbox import sandbox_secret

    status, _, error = call(
        payments,
        "POST",
        "/billing/webhooks/stripe",
        raw_body=payload,
        headers={"Stripe-Signature": sign(payload.encode(), sandbox_secret())},
    )
    assert (status, error["code"]) == (422, "validation_failed")


def test_pix_completed_unpaid_then_succeeded_credits_once_and_a_mismatch_never(billing, payments, svc, account):
    from bzapper.adapters.payments.sandbox import sandbox_secret

    _, _, checkout = _checkout(billing, account, amount=3_000)
    item = CheckoutModel.get(checkout["checkout_id"])

    def deliver(kind: str, payment_status: str, amount: int = 3_000) -> int:
        event = {
            "id": f"evt_{kind}",
            "type": kind,
            "data": {
                "object": {
                    "client_reference_id": item.checkout_id,
                    "amount_total": amount,
                    "payment_status": payment_status,
                }
            },
        }
        body = json.dumps(event)
        return call(
            payments,
            "POST",
            "/billing/webhooks/stripe",
            raw_body=body,
            headers={"Stripe-Signature": sign(body.encode(), sandbox_secret())},
        )[0]

    assert deliver("checkout.session.completed", "unpaid") == 200
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 1_000  # Pix not paid yet
    assert deliver("checkout.session.async_payment_succeeded", "paid", amount=9_999) == 422  # never credited
    assert deliver("checkout.session.async_payment_succeeded", "paid") == 200
    assert deliver("checkout.session.async_payment_succeeded", "paid") == 200
    assert deliver("checkout.session.expired", "unpaid") == 200  # an expiry never undoes a payment
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 4_000
    assert CheckoutModel.get(item.checkout_id).status == "paid"


@pytest.mark.parametrize(
    "query", ["to=0001-01-01T00:00:00Z", "from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z&granularity=day"]
)
def test_usage_refuses_dates_out_of_range(account_api, account, query):
    status, _, error = call(account_api, "GET", "/usage", headers=account.auth, query=query)
    assert (status, error["code"]) == (422, "validation_failed")


def test_a_refund_does_not_re_arm_the_low_balance_notice(messages_handler, statuses_handler, svc):
    captured = Captured()
    svc.events = captured
    threshold = plans.PLANS["payg"].low_balance_threshold
    account = make_account(svc, credits=threshold - 100)  # below the threshold from the start
    first, failing, last = (_send(messages_handler, account)[2]["message_id"] for _ in range(3))
    _report(statuses_handler, account, first, "sending")
    _report(statuses_handler, account, failing, "failed", "not_on_whatsapp")  # refunded: +1
    _report(statuses_handler, account, last, "sending")
    assert len([e for e in captured.events if e["type"] == "wallet.low_balance"]) == 1

    svc.wallets.credit(wallet_id(account.account_id, "test"), 10, reason="top_up")  # still below: re-armed
    again = _send(messages_handler, account)[2]["message_id"]
    _report(statuses_handler, account, again, "sending")
    assert len([e for e in captured.events if e["type"] == "wallet.low_balance"]) == 2
