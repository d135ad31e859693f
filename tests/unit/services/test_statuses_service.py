"""The workers' status reports (bzapper.services.statuses): statuses only move forward, one event per transition,
a failure refunds once, a low balance is noticed once per crossing, and any retry publishes the same event ids."""

from __future__ import annotations

import pytest
from support.memory import PHONE, open_account, report, send_text

from bzapper.domain.model import StatusReport
from bzapper.domain.plans import plan_named
from bzapper.services.statuses import DEAD_JOB_ERROR, apply_report, fail_dead_job, status_event

THRESHOLD = plan_named("payg").low_balance_threshold


def ids(events: list[dict]) -> list[str]:
    return [event["id"] for event in events]


def test_a_message_moves_forward_with_one_event_per_step(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    queued_at = clock.now

    for status in ("sending", "sent", "delivered", "read"):
        clock.advance(1_000)
        report(fakes, message_id, status)

    assert fakes.events.types() == ["message.queued", "message.sent", "message.delivered", "message.read"]
    queued = fakes.events.published[0]
    assert queued["created"].startswith("2025-01-15T12:00:00")  # stamped at the queued time, not the report's
    assert queued["data"] == {"message_id": message_id, "status": "queued", "to": PHONE, "client_reference": None}
    view = fakes.messages.get(message_id)
    assert [s for s, _ in view.history] == ["queued", "sending", "sent", "delivered", "read"]
    assert view.history[0] == ("queued", queued_at)
    assert fakes.usage.total(tenant.account_id, False, "delivered") == 1
    assert fakes.usage.total(tenant.account_id, False, "read") == 1


def test_the_id_whatsapp_acked_is_recorded_so_its_receipts_find_the_message(fakes):
    """whatsmeow cannot send under the id derived from ours: WhatsApp's receipts name the id it acked with, which
    the `sent` report carries. Unrecorded, every delivered and read of that engine was a receipt for nobody."""
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    view = fakes.messages.get(message_id)
    report(fakes, message_id, "sending")
    apply_report(
        fakes.services,
        StatusReport(view.instance_id, "3EB0ACKEDBYWHATSAPP", "sent", fakes.clock(), message_id=message_id),
    )

    receipt = StatusReport(view.instance_id, "3EB0ACKEDBYWHATSAPP", "delivered", fakes.clock())  # no message_id
    apply_report(fakes.services, receipt)

    assert fakes.messages.status_of(message_id) == "delivered"
    assert fakes.messages.get(message_id).wa_message_id == "3EB0ACKEDBYWHATSAPP"


def test_a_late_report_never_moves_a_status_back(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    report(fakes, message_id, "read")
    published = len(fakes.events.published)

    report(fakes, message_id, "delivered")  # overtaken by the read receipt

    assert fakes.messages.status_of(message_id) == "read"
    assert len(fakes.events.published) == published
    assert fakes.usage.total(tenant.account_id, False, "delivered") == 0


def test_a_failure_refunds_once_whatever_the_redeliveries(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    report(fakes, message_id, "sending")

    report(fakes, message_id, "failed", error="not_on_whatsapp")
    first = list(fakes.events.published)
    report(fakes, message_id, "failed", error="not_on_whatsapp")  # the record redelivered

    assert fakes.wallets.balance(tenant.wallet) == 1_000
    refunds = [e for e in fakes.wallets.entries(tenant.wallet, 10, None)[0] if e.reason == "refund"]
    assert [(e.amount, e.reference) for e in refunds] == [(1, message_id)]
    failed = [e for e in fakes.events.published if e["type"] == "message.failed"]
    assert len(failed) == 2 and failed[0] == failed[1]  # re-published, same id: harmless downstream
    assert failed[0]["data"]["error"] == {"code": "not_on_whatsapp"}
    assert fakes.usage.total(tenant.account_id, False, "failed") == 1
    assert first[-1] == failed[0]


def test_a_message_whatsapp_acknowledged_cannot_fail_afterwards(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    report(fakes, message_id, "sent")
    report(fakes, message_id, "failed", error="late")
    assert fakes.messages.status_of(message_id) == "sent"
    assert fakes.wallets.balance(tenant.wallet) == 999


def test_a_failure_before_any_worker_took_it_also_says_it_was_queued(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    report(fakes, message_id, "failed", error="expired")
    assert fakes.events.types() == ["message.queued", "message.failed"]


def test_a_receipt_names_the_message_by_its_whatsapp_id_and_an_unknown_one_is_ignored(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    wa_id = fakes.messages.get(message_id).wa_message_id

    apply_report(fakes.services, StatusReport(tenant.instance_id, wa_id, "delivered", clock.now))
    apply_report(fakes.services, StatusReport(tenant.instance_id, "3EB0SENTFROMPHONE", "read", clock.now))

    assert fakes.messages.status_of(message_id) == "delivered"
    assert fakes.events.types() == ["message.delivered"]


def test_a_publish_failure_is_retried_with_the_same_event_ids(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    at = clock.now + 500
    fakes.events.fail_next("publish", RuntimeError("throttled"), times=2)

    for _ in range(2):
        with pytest.raises(RuntimeError, match="throttled"):
            report(fakes, message_id, "sent", at=at)  # applied, then the bus failed: the record comes back
    report(fakes, message_id, "sent", at=at)

    assert fakes.messages.get(message_id).history[-1] == ("sent", at)  # applied once
    [sent] = fakes.events.published
    assert sent["id"] == status_event(fakes.messages.get(message_id), "sent", at)["id"]
    report(fakes, message_id, "sent", at=at + 10_000)  # redelivered later: the stored time decides the id
    assert ids(fakes.events.published) == [sent["id"]] * 2


# The low-balance notice ----------------------------------------------------------------------------------------


def test_a_low_balance_is_noticed_once_per_crossing_and_a_top_up_rearms_it(fakes):
    tenant = open_account(fakes, credits=THRESHOLD + 2)
    first = send_text(fakes, tenant).accepted.message_id
    report(fakes, first, "sending")  # balance THRESHOLD + 1: no notice
    assert fakes.events.of_type("wallet.low_balance") == []

    for _ in range(2):
        report(fakes, send_text(fakes, tenant).accepted.message_id, "sending")  # down to THRESHOLD, then below

    [notice] = fakes.events.of_type("wallet.low_balance")
    assert notice["data"] == {"balance": THRESHOLD, "threshold": THRESHOLD, "currency": "BRL"}
    assert notice["instance_id"] is None and notice["account_id"] == tenant.account_id

    fakes.wallets.credit(tenant.wallet, 1_000, "top_up")
    fakes.wallets.credit(tenant.wallet, -1_000, "adjustment")  # back under: a new crossing
    report(fakes, send_text(fakes, tenant).accepted.message_id, "sending")
    assert len(fakes.events.of_type("wallet.low_balance")) == 2


def test_a_refund_does_not_rearm_the_notice(fakes):
    tenant = open_account(fakes, credits=THRESHOLD)
    message_id = send_text(fakes, tenant).accepted.message_id
    report(fakes, message_id, "sending")
    report(fakes, message_id, "failed", error="not_on_whatsapp")
    report(fakes, send_text(fakes, tenant).accepted.message_id, "sending")
    assert len(fakes.events.of_type("wallet.low_balance")) == 1


def test_a_notice_whose_publish_failed_is_sent_again_with_its_id(fakes, clock):
    tenant = open_account(fakes, credits=THRESHOLD)
    message_id = send_text(fakes, tenant).accepted.message_id
    at = clock.now + 100
    fakes.events.fail_next("publish", RuntimeError("throttled"))

    with pytest.raises(RuntimeError):
        report(fakes, message_id, "sending", at=at)
    assert fakes.wallets.low_notice_due(tenant.wallet, THRESHOLD) is not None  # the flag waits for the publish
    report(fakes, message_id, "sending", at=at)

    [notice] = fakes.events.of_type("wallet.low_balance")
    assert fakes.wallets.low_notice_due(tenant.wallet, THRESHOLD) is None
    report(fakes, message_id, "sending", at=at)  # a redelivery
    assert ids(fakes.events.of_type("wallet.low_balance")) == [notice["id"]]


# Dead jobs ------------------------------------------------------------------------------------------------------


def test_a_dead_job_fails_its_message_refunded_unless_it_was_sent(fakes):
    tenant = open_account(fakes)
    dead = send_text(fakes, tenant).accepted.message_id
    sent = send_text(fakes, tenant).accepted.message_id
    report(fakes, sent, "sent")

    for message_id in (dead, sent):
        fail_dead_job(fakes.services, fakes.messages.rows[message_id].outbound().job())

    assert fakes.messages.get(dead).error_code == DEAD_JOB_ERROR
    assert fakes.messages.status_of(sent) == "sent"
    assert fakes.wallets.balance(tenant.wallet) == 999


def test_a_sent_message_joins_its_conversation(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant, "see you").accepted.message_id
    report(fakes, message_id, "sent")
    [row] = fakes.inbox.rows.values()
    assert row.last_message["message_id"] == message_id and row.unread_count == 0
