"""The outbox sweeper (bzapper.services.outbox): a committed message no worker took is sent again after its grace,
with the same ids, backing off; a worker taking it ends that; an OTP is never re-sent."""

from __future__ import annotations

from support.memory import open_account, report, send_text

from bzapper.domain.otp import EXPIRED
from bzapper.services.otp import OtpRequest, send_otp
from bzapper.services.outbox import MAX_BACKOFF_MS, sweep

GRACE = 30_000


def lost_send(fakes, tenant) -> str:
    """A send committed by a process that died before its queue send."""
    fakes.jobs.fail_next("enqueue", ConnectionError("the function timed out"))
    return send_text(fakes, tenant).accepted.message_id


def test_a_message_no_worker_took_is_sent_again_after_its_grace_with_the_same_ids(fakes, clock):
    tenant = open_account(fakes)
    message_id = lost_send(fakes, tenant)
    committed = fakes.messages.rows[message_id].outbound()

    assert sweep(fakes.services, GRACE, now=clock.now + GRACE - 1) == 0
    assert sweep(fakes.services, GRACE, now=clock.now + GRACE) == 1

    [resent] = fakes.jobs.sent
    assert resent == committed  # same message id (SQS dedupe) and same WhatsApp id (the phone collapses it)


def test_a_backlog_is_looked_at_again_later_and_later(fakes, clock):
    tenant = open_account(fakes)
    message_id = lost_send(fakes, tenant)
    now = clock.now + GRACE
    dues = []
    for _ in range(6):
        sweep(fakes.services, GRACE, now=now)
        dues.append(fakes.messages.rows[message_id].outbox_due - now)
        now = fakes.messages.rows[message_id].outbox_due

    assert dues == [GRACE * 2, GRACE * 4, GRACE * 8, GRACE * 16, MAX_BACKOFF_MS, MAX_BACKOFF_MS]
    assert fakes.messages.rows[message_id].outbox_attempts == 6


def test_a_message_a_worker_took_is_never_sent_again(fakes, clock):
    tenant = open_account(fakes)
    message_id = lost_send(fakes, tenant)
    report(fakes, message_id, "sending")
    assert sweep(fakes.services, GRACE, now=clock.now + GRACE) == 0
    assert fakes.jobs.sent == []


def test_a_resend_within_fifos_window_reaches_the_worker_once(fakes, clock):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id  # queued fine, the worker is just slow
    clock.advance(GRACE)
    sweep(fakes.services, GRACE, now=clock.now)
    assert len(fakes.jobs.sent) == 2 and len(fakes.jobs.jobs_for(message_id)) == 1


def test_an_otp_no_worker_took_is_failed_at_its_expiry_never_resent(fakes, clock):
    tenant = open_account(fakes)
    request = OtpRequest(to="+5511988887777", instance_id=tenant.instance_id, ttl_seconds=120)
    message_id = send_otp(fakes.services, tenant.principal, request, idempotency=None).send.accepted.message_id
    expiry = clock.now + 120_000

    assert sweep(fakes.services, GRACE, now=clock.now + GRACE) == 0
    assert fakes.messages.rows[message_id].outbox_due == expiry
    sweep(fakes.services, GRACE, now=expiry)

    assert fakes.messages.get(message_id).error_code == EXPIRED
    assert fakes.jobs.call_count("enqueue") == 1
    assert fakes.wallets.balance(tenant.wallet) == 1_000
