"""Verification codes (bzapper.services.otp): two WhatsApp messages charged as one send, the code only sealed in
the job, never re-sent from a record that cannot hold it: an OTP that cannot reach a worker fails, refunded."""

from __future__ import annotations

import pytest
from support.leaks import leaks
from support.memory import PHONE, open_account

from bzapper.domain import otp
from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.services.otp import OtpRequest, send_otp, sweep_unsent

KEY = IdempotencyRequest("otp-1", "fingerprint")


def otp_of(fakes, tenant, idempotency=None, **fields):
    request = OtpRequest(to=PHONE, instance_id=tenant.instance_id, **fields)
    return send_otp(fakes.services, tenant.principal, request, idempotency=idempotency)


def everything_kept(fakes) -> list[object]:
    """What the system keeps besides the job: records, events, ledgers, calls of every fake but the sealer."""
    kept: list[object] = [fakes.messages.rows, fakes.events.published, fakes.idempotency.records]
    for fake in (fakes.messages, fakes.jobs, fakes.events, fakes.wallets, fakes.idempotency, fakes.sealer):
        kept += [call.args for call in fake.calls if call.method != "enqueue"]
    return kept


def test_a_generated_code_is_given_back_once_and_kept_only_sealed(fakes):
    tenant = open_account(fakes, name="Padaria Central")

    result = otp_of(fakes, tenant, length=10)  # ten digits: never found by chance in a time or an id

    code = result.code
    assert code is not None and otp.valid_code(code) and len(code) == 10
    view = fakes.messages.get(result.send.accepted.message_id)
    assert view.type == "otp" and view.content["code"] == otp.OTP_MASK
    assert view.content["body"].startswith("Padaria Central:") and "10 minutes" in view.content["body"]
    [job] = fakes.jobs.jobs
    assert fakes.sealer.unseal(job["content"]["code_sealed"]) == code
    assert set(job["content"]) == {"body", "code_sealed"}
    assert not any(leaks(str(kept), code) for kept in everything_kept(fakes))
    assert fakes.wallets.balance(tenant.wallet) == 999  # one send
    assert fakes.usage.total(tenant.account_id, False, "otps") == 1


def test_the_text_is_in_the_requests_language_else_the_accounts(fakes):
    tenant = open_account(fakes, locale="pt-BR", name="Loja")
    portuguese = otp_of(fakes, tenant, ttl_seconds=3600)
    spanish = otp_of(fakes, tenant, language="es", ttl_seconds=90)
    body = [fakes.messages.get(r.send.accepted.message_id).content["body"] for r in (portuguese, spanish)]
    assert body[0] == (
        "Loja: seu código de verificação está na próxima mensagem. Ele expira em 1 hora. "
        "Nunca o compartilhe com ninguém."
    )
    assert "Vence en 90 segundos" in body[1]


def test_a_replay_never_shows_the_code_again(fakes):
    tenant = open_account(fakes)
    first = otp_of(fakes, tenant, idempotency=KEY)
    again = otp_of(fakes, tenant, idempotency=KEY)
    assert first.code is not None and again.code is None
    assert again.send.replayed and again.send.accepted == first.send.accepted
    assert len(fakes.jobs.jobs) == 1


def test_a_clients_own_code_is_checked_and_never_echoed(fakes):
    tenant = open_account(fakes)
    assert otp_of(fakes, tenant, code="7305").code is None
    with pytest.raises(BzError) as invalid:
        otp_of(fakes, tenant, code="12a4")
    assert (invalid.value.param, invalid.value.message_key) == ("code", "error.otp_code_invalid")
    with pytest.raises(BzError) as in_body:
        otp_of(fakes, tenant, code="7305", body="Your code: 7305")
    assert (in_body.value.param, in_body.value.message_key) == ("body", "error.otp_code_in_body")


def test_without_a_sealing_key_nothing_is_sent(fakes):
    tenant = open_account(fakes)
    fakes.sealers.sealer = None
    with pytest.raises(BzError) as refused:
        otp_of(fakes, tenant)
    assert refused.value.message_key == "error.otp_not_configured"
    assert fakes.messages.rows == {}


def test_an_otp_whose_job_could_not_be_queued_fails_at_once_refunded(fakes):
    tenant = open_account(fakes)
    fakes.jobs.fail_next("enqueue", ConnectionError("SQS unavailable"))

    result = otp_of(fakes, tenant)

    view = fakes.messages.get(result.send.accepted.message_id)
    assert (view.status, view.error_code) == ("failed", otp.NOT_QUEUED)
    assert fakes.wallets.balance(tenant.wallet) == 1_000
    assert fakes.events.types() == ["message.queued", "message.failed"]
    assert fakes.events.of_type("message.failed")[0]["data"]["error"] == {"code": otp.NOT_QUEUED}


def test_the_sweeper_waits_for_an_otp_until_its_expiry_then_fails_it(fakes, clock):
    tenant = open_account(fakes)
    result = otp_of(fakes, tenant, ttl_seconds=300)
    message_id = result.send.accepted.message_id
    expiry = clock.now + 300_000
    [(queued, _)] = fakes.messages.due_outbox(clock.now + 30_000)

    sweep_unsent(fakes.services, queued, clock.now + 30_000)  # maybe still waiting in its queue for the session
    assert fakes.messages.status_of(message_id) == "queued"
    assert fakes.messages.rows[message_id].outbox_due == expiry
    assert fakes.jobs.call_count("enqueue") == 1  # never re-sent: the record has no code

    sweep_unsent(fakes.services, queued, expiry)
    assert fakes.messages.get(message_id).error_code == otp.EXPIRED
    assert fakes.wallets.balance(tenant.wallet) == 1_000


def test_an_otp_a_worker_already_took_is_not_failed_by_the_sweeper(fakes, clock):
    tenant = open_account(fakes)
    result = otp_of(fakes, tenant, ttl_seconds=60)
    [(queued, _)] = fakes.messages.due_outbox(clock.now + 30_000)
    fakes.messages.apply_status(result.send.accepted.message_id, "sending", clock.now)
    fakes.messages.apply_status(result.send.accepted.message_id, "sent", clock.now)

    sweep_unsent(fakes.services, queued, clock.now + 60_000)

    assert fakes.messages.status_of(result.send.accepted.message_id) == "sent"
    assert fakes.wallets.balance(tenant.wallet) == 999
