"""Accepting a send (bzapper.services.sending): charged, stored and queued exactly once per Idempotency-Key, or
refused with nothing written; edits and deletions for everyone within WhatsApp's windows, free of charge."""

from __future__ import annotations

import pytest
from support.memory import OTHER_PHONE, PHONE, PHONE_JID, open_account, report, send_text

from bzapper.domain.composing import EDIT_WINDOW_MS, REVOKE_WINDOW_MS
from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import LOCK_SECONDS, IdempotencyRequest
from bzapper.domain.ratelimit import Bucket, BucketTake
from bzapper.domain.sending import CommitRejected, SealedCode, SendDraft
from bzapper.services import outbox
from bzapper.services.sending import change_message, read_message, send_message

KEY = IdempotencyRequest("key-1", "fingerprint-1")


def nothing_committed(fakes, tenant, balance: int = 1_000) -> None:
    assert fakes.messages.rows == {}
    assert fakes.jobs.sent == []
    assert fakes.wallets.balance(tenant.wallet) == balance
    assert fakes.usage.total(tenant.account_id, False, "sends") == 0


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


# Accepted ---------------------------------------------------------------------------------------------------


def test_a_send_is_stored_charged_counted_and_queued(fakes, clock):
    tenant = open_account(fakes)

    result = send_text(fakes, tenant, "hello", client_reference="order-7")

    assert result.accepted.status == "queued" and result.accepted.client_reference == "order-7"
    assert not result.replayed and result.enqueued and result.rate.allowed
    view = fakes.messages.get(result.accepted.message_id)
    assert (view.status, view.to_jid, view.to_phone, view.content) == ("queued", PHONE_JID, PHONE, {"body": "hello"})
    assert view.history == [("queued", clock.now)]
    assert fakes.wallets.balance(tenant.wallet) == 999
    [entry, _] = fakes.wallets.entries(tenant.wallet, 10, None)[0]
    assert (entry.amount, entry.reason, entry.reference) == (-1, "message", result.accepted.message_id)
    assert fakes.usage.total(tenant.account_id, False, "sends") == 1
    [job] = fakes.jobs.jobs
    assert job["message_id"] == result.accepted.message_id and job["wa_message_id"] == view.wa_message_id


def test_without_an_instance_the_recipient_keeps_one_connected_number(fakes):
    tenant = open_account(fakes)
    second = fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="B", status="connected")
    fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="C", status="disconnected")

    draft = SendDraft(type="text", to=PHONE, content={"body": "hi"})
    sent = [send_message(fakes.services, tenant.principal, draft).accepted.message_id for _ in range(3)]

    chosen = {fakes.messages.get(message_id).instance_id for message_id in sent}
    assert len(chosen) == 1 and chosen <= {tenant.instance_id, second.instance_id}


def test_with_no_connected_number_nothing_is_sent(fakes):
    tenant = open_account(fakes, status="disconnected")
    error = refusal(lambda: send_message(fakes.services, tenant.principal, SendDraft(type="text", to=PHONE)))
    assert error.code == "no_number_available"
    nothing_committed(fakes, tenant)


def test_another_accounts_number_is_not_found(fakes):
    tenant, other = open_account(fakes), open_account(fakes)
    draft = SendDraft(type="text", to=PHONE, instance_id=other.instance_id, content={"body": "x"})
    assert refusal(lambda: send_message(fakes.services, tenant.principal, draft)).code == "not_found"


def test_an_invalid_recipient_names_its_field(fakes):
    tenant = open_account(fakes)
    error = refusal(lambda: send_text(fakes, tenant, to="not a phone"))
    assert (error.code, error.param) == ("validation_failed", "to")


def test_interactive_messages_need_the_experimental_entitlement(fakes):
    tenant = open_account(fakes)
    draft = SendDraft(type="buttons", to=PHONE, instance_id=tenant.instance_id, content={"body": "pick"})
    error = refusal(lambda: send_message(fakes.services, tenant.principal, draft))
    assert (error.code, error.message_key) == ("not_supported", "error.interactive_not_enabled")

    scale = open_account(fakes, plan="scale")
    draft = SendDraft(type="buttons", to=PHONE, instance_id=scale.instance_id, content={"body": "pick"})
    assert send_message(fakes.services, scale.principal, draft).accepted.status == "queued"


# Refused, with nothing written ---------------------------------------------------------------------------------


def test_past_the_plans_rate_the_send_is_refused_until_a_token_comes_back(fakes, clock):
    tenant = open_account(fakes)
    bucket_id, bucket = f"sends:{tenant.account_id}:test", Bucket(120)
    for _ in range(120):  # the minute's burst, used up by earlier sends
        fakes.rate_limits.take(bucket_id, bucket)

    error = refusal(lambda: send_text(fakes, tenant))

    assert error.code == "rate_limited" and error.rate is not None and not error.rate.allowed
    assert error.params["retry_after"] == error.rate.retry_after_seconds >= 1
    nothing_committed(fakes, tenant)
    clock.advance(bucket.interval_ms)
    assert send_text(fakes, tenant).accepted.status == "queued"


def test_a_send_with_nothing_to_resolve_takes_its_token_inside_the_commit(fakes):
    tenant = open_account(fakes)

    result = send_text(fakes, tenant)

    assert fakes.rate_limits.call_count("take") == 0  # no request of its own for the rate limit
    [commit] = fakes.messages.calls_of("commit_send")
    assert commit.kwargs["rate"] == BucketTake(f"sends:{tenant.account_id}:test", Bucket(120))
    assert (result.rate.allowed, result.rate.limit, result.rate.remaining) == (True, 120, 119)


def test_a_send_refused_in_its_commit_takes_no_token(fakes):
    broke, disconnected = open_account(fakes, credits=0), open_account(fakes, status="disconnected")

    assert refusal(lambda: send_text(fakes, broke)).code == "insufficient_balance"
    assert refusal(lambda: send_text(fakes, disconnected)).code == "instance_not_connected"

    assert fakes.rate_limits.tats == {}  # all or nothing: the token is one of the commit's writes


def test_over_the_limit_the_rate_is_the_answer_whatever_else_fails(fakes):
    tenant = open_account(fakes, credits=0, status="disconnected")
    bucket_id, bucket = f"sends:{tenant.account_id}:test", Bucket(120)
    for _ in range(120):
        fakes.rate_limits.take(bucket_id, bucket)

    assert refusal(lambda: send_text(fakes, tenant)).code == "rate_limited"


def test_a_send_with_a_key_or_something_to_fetch_takes_its_token_first(fakes):
    tenant = open_account(fakes)
    bucket_id, bucket = f"sends:{tenant.account_id}:test", Bucket(120)
    for _ in range(120):
        fakes.rate_limits.take(bucket_id, bucket)

    # Over the limit, neither locks its key nor fetches anything: refused before.
    assert refusal(lambda: send_text(fakes, tenant, idempotency=KEY)).code == "rate_limited"
    assert fakes.idempotency.records == {} and fakes.messages.call_count("commit_send") == 0


def test_without_credit_nothing_is_sent_and_the_key_is_free_again(fakes):
    tenant = open_account(fakes, credits=0)

    error = refusal(lambda: send_text(fakes, tenant, idempotency=KEY))

    assert (error.code, error.status) == ("insufficient_balance", 402)
    nothing_committed(fakes, tenant, balance=0)
    fakes.wallets.credit(tenant.wallet, 10, "top_up")
    assert not send_text(fakes, tenant, idempotency=KEY).replayed  # the same key, retried after a top-up


def test_a_number_that_is_not_connected_sends_nothing(fakes):
    tenant = open_account(fakes, status="disconnected")
    error = refusal(lambda: send_text(fakes, tenant, idempotency=KEY))
    assert (error.code, error.status) == ("instance_not_connected", 409)
    nothing_committed(fakes, tenant)
    assert fakes.idempotency.records == {}  # released


@pytest.mark.parametrize("reason", ["conflict", "busy"])
def test_a_cancelled_transaction_is_a_retryable_503(fakes, reason):
    tenant = open_account(fakes)
    fakes.messages.fail_next("commit_send", CommitRejected(reason))

    error = refusal(lambda: send_text(fakes, tenant, idempotency=KEY))

    assert (error.code, error.retry_after) == ("temporarily_unavailable", 1)
    nothing_committed(fakes, tenant)
    assert send_text(fakes, tenant, idempotency=KEY).accepted.status == "queued"  # the key was released


def test_an_unexpected_cancellation_is_a_bug_not_a_client_error(fakes):
    tenant = open_account(fakes)
    fakes.messages.fail_next("commit_send", CommitRejected("ledger_collision"))
    with pytest.raises(RuntimeError, match="ledger_collision"):
        send_text(fakes, tenant, idempotency=KEY)
    assert fakes.idempotency.records == {}


def test_a_storage_failure_releases_the_key(fakes):
    tenant = open_account(fakes)
    fakes.messages.fail_next("commit_send", ConnectionError("throttled"))
    with pytest.raises(ConnectionError):
        send_text(fakes, tenant, idempotency=KEY)
    assert fakes.idempotency.records == {}
    nothing_committed(fakes, tenant)


# Idempotency-Key ---------------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_gets_the_first_answer_and_nothing_more(fakes):
    tenant = open_account(fakes)
    first = send_text(fakes, tenant, idempotency=KEY)

    again = send_text(fakes, tenant, idempotency=KEY)

    assert again.replayed and again.accepted == first.accepted
    assert len(fakes.messages.rows) == 1 and len(fakes.jobs.sent) == 1
    assert fakes.wallets.balance(tenant.wallet) == 999


def test_the_same_key_with_another_request_is_a_conflict(fakes):
    tenant = open_account(fakes)
    send_text(fakes, tenant, idempotency=KEY)
    error = refusal(lambda: send_text(fakes, tenant, idempotency=IdempotencyRequest(KEY.key, "another")))
    assert (error.code, error.param) == ("idempotency_conflict", "Idempotency-Key")
    assert len(fakes.messages.rows) == 1


def test_a_key_still_in_flight_asks_to_retry(fakes, clock):
    tenant = open_account(fakes)
    scope = f"{tenant.account_id}:test:{KEY.key}"
    fakes.idempotency.acquire(scope, KEY.fingerprint, clock.now // 1000)  # a first request, still running

    error = refusal(lambda: send_text(fakes, tenant, idempotency=KEY))

    assert (error.code, error.retry_after) == ("idempotency_in_progress", 1)
    assert fakes.messages.rows == {}


def test_keys_are_per_account_and_mode(fakes):
    tenant, other = open_account(fakes), open_account(fakes)
    send_text(fakes, tenant, idempotency=KEY)
    assert not send_text(fakes, other, idempotency=KEY).replayed


def test_a_lock_taken_over_before_the_commit_writes_nothing(fakes, clock):
    """The request stalled past the lock's life; another request with the key took it: this one must not commit."""
    tenant = open_account(fakes)
    scope = f"{tenant.account_id}:test:{KEY.key}"
    thief = []

    def another_request_takes_the_key() -> None:
        clock.advance((LOCK_SECONDS + 1) * 1000)
        thief.append(fakes.idempotency.acquire(scope, KEY.fingerprint, clock.now // 1000))

    fakes.messages.before_next("commit_send", another_request_takes_the_key)

    error = refusal(lambda: send_text(fakes, tenant, idempotency=KEY))

    assert (error.code, error.retry_after) == ("idempotency_in_progress", 1)
    nothing_committed(fakes, tenant)
    assert fakes.idempotency.records[scope].token == thief[0].token  # the loser did not free the winner's lock


# Queued, even when the queue fails -------------------------------------------------------------------------------


def test_a_committed_send_whose_enqueue_failed_is_accepted_and_the_outbox_sends_it(fakes, clock):
    tenant = open_account(fakes)
    fakes.jobs.fail_next("enqueue", ConnectionError("SQS unavailable"))

    result = send_text(fakes, tenant)

    assert result.accepted.status == "queued" and result.enqueued
    assert fakes.jobs.jobs == [] and fakes.wallets.balance(tenant.wallet) == 999
    grace_ms = 30_000
    assert outbox.sweep(fakes.services, grace_ms, now=clock.now + grace_ms - 1) == 0
    assert outbox.sweep(fakes.services, grace_ms, now=clock.now + grace_ms) == 1
    [job] = fakes.jobs.jobs
    assert job["message_id"] == result.accepted.message_id


# OTP codes on the send path --------------------------------------------------------------------------------------


def otp_draft(tenant, clock, **fields) -> SendDraft:
    content = {"body": "Your code is next", "code": "••••••"}
    sealed = SealedCode("482913", clock.now + 600_000)
    return SendDraft(type="otp", to=PHONE, instance_id=tenant.instance_id, content=content, sealed=sealed, **fields)


def test_an_otp_job_carries_the_sealed_code_and_its_record_the_mask(fakes, clock):
    tenant = open_account(fakes)

    result = send_message(fakes.services, tenant.principal, otp_draft(tenant, clock))

    [job] = fakes.jobs.jobs
    assert "482913" not in str(fakes.messages.rows) and "482913" not in str(job)
    assert fakes.sealer.unseal(job["content"]["code_sealed"]) == "482913"
    assert fakes.messages.get(result.accepted.message_id).content["code"] == "••••••"
    assert fakes.usage.total(tenant.account_id, False, "otps") == 1


def test_a_sealing_failure_writes_nothing_and_may_be_retried_at_once(fakes, clock):
    tenant = open_account(fakes)
    fakes.sealer.fail_next("seal", ConnectionError("KMS throttled"))

    error = refusal(lambda: send_message(fakes.services, tenant.principal, otp_draft(tenant, clock, idempotency=KEY)))

    assert (error.code, error.retry_after) == ("temporarily_unavailable", 1)
    nothing_committed(fakes, tenant)
    assert not send_message(fakes.services, tenant.principal, otp_draft(tenant, clock, idempotency=KEY)).replayed


def test_an_otp_without_a_sealing_key_is_not_supported(fakes, clock):
    tenant = open_account(fakes)
    fakes.sealers.sealer = None
    error = refusal(lambda: send_message(fakes.services, tenant.principal, otp_draft(tenant, clock)))
    assert (error.code, error.message_key) == ("not_supported", "error.otp_not_configured")


def test_an_otp_whose_job_could_not_be_queued_is_not_reported_as_queued(fakes, clock):
    tenant = open_account(fakes)
    fakes.jobs.fail_next("enqueue", ConnectionError("SQS unavailable"))
    result = send_message(fakes.services, tenant.principal, otp_draft(tenant, clock))
    assert not result.enqueued  # the OTP service fails it at once (test_otp_service)


# References ---------------------------------------------------------------------------------------------------------


def test_a_reaction_names_the_message_it_is_about(fakes):
    tenant = open_account(fakes)
    original = send_text(fakes, tenant).accepted.message_id
    view = fakes.messages.get(original)

    draft = SendDraft(
        type="reaction", to=PHONE, instance_id=tenant.instance_id, content={"emoji": "👍"}, target=original
    )
    reaction = fakes.messages.get(send_message(fakes.services, tenant.principal, draft).accepted.message_id)

    assert reaction.content["target"] == {"wa_message_id": view.wa_message_id, "chat_jid": PHONE_JID, "from_me": True}


def test_a_reply_quotes_a_preview_and_an_unknown_whatsapp_id_is_the_contacts(fakes):
    tenant = open_account(fakes)
    original = send_text(fakes, tenant, "the original text").accepted.message_id

    reply = send_text(fakes, tenant, "yes", reply_to=original)
    theirs = send_text(fakes, tenant, "ok", reply_to="3EB0ABCDEF123456")

    assert fakes.messages.get(reply.accepted.message_id).content["reply_to"]["preview"] == "the original text"
    assert fakes.messages.get(theirs.accepted.message_id).content["reply_to"] == {
        "wa_message_id": "3EB0ABCDEF123456",
        "chat_jid": PHONE_JID,
        "from_me": False,
        "sender_jid": PHONE_JID,
    }


@pytest.mark.parametrize(
    ("reference", "message_key"),
    [
        ("not an id!", "error.message_reference_invalid"),
        ("msg_01ARZ3NDEKTSV4RRFFQ69G5FAV", "error.message_reference_unknown"),
    ],
)
def test_a_reference_that_names_nothing_here_is_refused(fakes, reference, message_key):
    tenant = open_account(fakes)
    error = refusal(lambda: send_text(fakes, tenant, reply_to=reference, idempotency=KEY))
    assert (error.code, error.param, error.message_key) == ("validation_failed", "reply_to", message_key)
    assert fakes.idempotency.records == {}  # resolved after the lock, which is released


def test_a_reference_to_another_chat_is_refused(fakes):
    tenant = open_account(fakes)
    original = send_text(fakes, tenant, to=OTHER_PHONE).accepted.message_id
    error = refusal(lambda: send_text(fakes, tenant, reply_to=original))
    assert error.message_key == "error.message_reference_other_chat"


# Edits and deletions for everyone ---------------------------------------------------------------------------------


def sent_text(fakes, tenant, body: str = "hello") -> str:
    message_id = send_text(fakes, tenant, body).accepted.message_id
    report(fakes, message_id, "sending")
    report(fakes, message_id, "sent")
    return message_id


def change(fakes, tenant, message_id: str, action: str, body: str | None = None):
    return change_message(
        fakes.services, tenant.principal, message_id, action, body=body, client_reference=None, idempotency=None
    )


def test_an_edit_within_its_window_is_queued_behind_the_original_free_of_charge(fakes, clock):
    tenant = open_account(fakes)
    original = sent_text(fakes, tenant)
    balance = fakes.wallets.balance(tenant.wallet)
    clock.advance(EDIT_WINDOW_MS)

    edit = change(fakes, tenant, original, "edit", "hello, corrected")

    view = fakes.messages.get(edit.accepted.message_id)
    assert view.type == "edit" and view.instance_id == tenant.instance_id
    assert view.content == {
        "body": "hello, corrected",
        "target": {"wa_message_id": fakes.messages.get(original).wa_message_id, "chat_jid": PHONE_JID, "from_me": True},
    }
    assert fakes.wallets.balance(tenant.wallet) == balance
    assert fakes.usage.total(tenant.account_id, False, "sends") == 1


def test_an_edit_after_its_window_is_refused(fakes, clock):
    tenant = open_account(fakes)
    original = sent_text(fakes, tenant)
    clock.advance(EDIT_WINDOW_MS + 1)
    error = refusal(lambda: change(fakes, tenant, original, "edit", "too late"))
    assert (error.code, error.message_key) == ("window_closed", "error.edit_window_closed")


def test_a_deletion_has_a_longer_window(fakes, clock):
    tenant = open_account(fakes)
    original = sent_text(fakes, tenant)
    clock.advance(REVOKE_WINDOW_MS)
    assert change(fakes, tenant, original, "revoke").accepted.status == "queued"
    clock.advance(1)
    assert refusal(lambda: change(fakes, tenant, original, "revoke")).message_key == "error.revoke_window_closed"


def test_a_message_not_sent_yet_may_be_changed(fakes, clock):
    tenant = open_account(fakes)
    original = send_text(fakes, tenant).accepted.message_id
    clock.advance(EDIT_WINDOW_MS * 10)
    assert change(fakes, tenant, original, "edit", "still queued").accepted.status == "queued"


def test_what_cannot_be_changed(fakes):
    tenant = open_account(fakes)
    failed = send_text(fakes, tenant).accepted.message_id
    report(fakes, failed, "failed", error="not_on_whatsapp")
    deleted = sent_text(fakes, tenant)
    fakes.messages.record_deletion(deleted, fakes.clock())
    location = send_message(
        fakes.services,
        tenant.principal,
        SendDraft(type="location", to=PHONE, instance_id=tenant.instance_id, content={"latitude": 1, "longitude": 2}),
    ).accepted.message_id

    assert refusal(lambda: change(fakes, tenant, failed, "edit", "x")).message_key == "error.change_failed"
    assert refusal(lambda: change(fakes, tenant, deleted, "revoke")).message_key == "error.change_deleted"
    assert refusal(lambda: change(fakes, tenant, location, "edit", "x")).message_key == "error.edit_type"
    assert refusal(lambda: change(fakes, tenant, "msg_01ARZ3NDEKTSV4RRFFQ69G5FAV", "revoke")).code == "not_found"
    other = open_account(fakes)
    assert refusal(lambda: change(fakes, other, deleted, "revoke")).code == "not_found"


def test_a_received_message_is_not_ours_to_change(fakes):
    from bzapper.services.inbox import record_inbound

    tenant = open_account(fakes)
    inbound = {
        "instance_id": tenant.instance_id,
        "account_id": tenant.account_id,
        "livemode": False,
        "wa_message_id": "3EB0FROMTHEM0001",
        "chat_jid": PHONE_JID,
        "sender": {"jid": PHONE_JID},
        "type": "text",
        "content": {"body": "hi"},
        "at": fakes.clock(),
    }
    record_inbound(fakes.services, inbound)
    [received] = list(fakes.messages.rows)
    assert refusal(lambda: change(fakes, tenant, received, "revoke")).message_key == "error.change_not_own"


# Reading ---------------------------------------------------------------------------------------------------------


def test_a_message_is_read_by_its_own_account_and_mode_only(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    assert read_message(fakes.services, tenant.principal, message_id).message_id == message_id
    for principal, wanted in ((open_account(fakes).principal, message_id), (tenant.principal, "not-an-id")):
        assert refusal(lambda p=principal, w=wanted: read_message(fakes.services, p, w)).code == "not_found"
