"""The in-memory fakes' own contract (bzapper.adapters.memory): fault injection, call recording, and the send
transaction's all-or-nothing across the stores it shares a lock with."""

from __future__ import annotations

import threading

import pytest

from bzapper.adapters.memory import memory_fakes
from bzapper.domain.idempotency import IdempotencyLock
from bzapper.domain.ids import new_id, whatsapp_message_id
from bzapper.domain.model import OutboundMessage, wallet_id
from bzapper.domain.sending import Accepted, CommitRejected


def outbound(account_id: str, instance_id: str, message_type: str = "text") -> OutboundMessage:
    message_id = new_id("msg")
    return OutboundMessage(
        message_id=message_id,
        account_id=account_id,
        instance_id=instance_id,
        livemode=False,
        type=message_type,
        content={"body": "x"},
        to_jid="5511988887777@s.whatsapp.net",
        to_phone="+5511988887777",
        client_reference=None,
        wa_message_id=whatsapp_message_id(message_id),
        created_at=1_000,
        shard=0,
    )


def test_a_fault_fails_the_next_calls_then_the_fake_works_again():
    fakes = memory_fakes()
    fakes.events.fail_next("publish", RuntimeError("throttled"), times=2)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="throttled"):
            fakes.events.publish([{"id": "evt_1", "type": "message.sent"}])
    fakes.events.publish([{"id": "evt_1", "type": "message.sent"}])
    assert fakes.events.types() == ["message.sent"]
    assert fakes.events.call_count("publish") == 3


def test_a_fault_on_a_method_the_fake_lacks_is_a_test_error():
    fakes = memory_fakes()
    with pytest.raises(AttributeError):
        fakes.events.fail_next("publsh", RuntimeError())
    with pytest.raises(ValueError):
        fakes.events.fail_next("publish", RuntimeError(), times=0)


def test_an_action_runs_before_the_next_call_then_the_call_goes_on():
    fakes = memory_fakes()
    order: list[str] = []
    fakes.wallets.before_next("credit", lambda: order.append("before"))
    fakes.wallets.credit("w", 5, "top_up")
    assert order == ["before"] and fakes.wallets.balance("w") == 5


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("disconnected", "instance_not_connected"),
        ("no_money", "insufficient_balance"),
        ("lock_lost", "idempotency_lock_lost"),
    ],
)
def test_a_commit_whose_condition_fails_writes_nothing_anywhere(setup, reason):
    fakes = memory_fakes()
    account_id = fakes.accounts.create_account("A", "en")
    wallet = wallet_id(account_id, "test")
    status = "disconnected" if setup == "disconnected" else "connected"
    instance = fakes.instances.create(account_id, livemode=False, engine="sandbox", name="n", status=status)
    if setup != "no_money":
        fakes.wallets.credit(wallet, 10, "test_credits")
    lock = fakes.idempotency.acquire("k", "f", 0)
    assert isinstance(lock, IdempotencyLock)
    if setup == "lock_lost":
        lock = IdempotencyLock("k", "another token")
    message = outbound(account_id, instance.instance_id)

    with pytest.raises(CommitRejected) as rejected:
        fakes.messages.commit_send(
            message, price=1, grace_ms=30_000, idempotency=(lock, Accepted(message.message_id, "queued", None))
        )

    assert rejected.value.reason == reason
    assert fakes.messages.rows == {}
    assert fakes.wallets.balance(wallet) == (0 if setup == "no_money" else 10)
    assert fakes.usage.total(account_id, False, "sends") == 0
    assert fakes.idempotency.records["k"].state == "in_progress"


def test_concurrent_sends_never_spend_more_than_the_wallet_holds():
    fakes = memory_fakes()
    account_id = fakes.accounts.create_account("A", "en")
    instance = fakes.instances.create(account_id, livemode=False, engine="sandbox", name="n", status="connected")
    fakes.wallets.credit(wallet_id(account_id, "test"), 50, "test_credits")
    rejected: list[str] = []

    def send() -> None:
        for _ in range(20):
            try:
                fakes.messages.commit_send(outbound(account_id, instance.instance_id), price=1, grace_ms=0)
            except CommitRejected as error:
                rejected.append(error.reason)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fakes.messages.rows) == 50 and fakes.wallets.balance(wallet_id(account_id, "test")) == 0
    assert rejected == ["insufficient_balance"] * 30


def test_a_failure_refunds_once_and_a_status_never_moves_back():
    fakes = memory_fakes()
    account_id = fakes.accounts.create_account("A", "en")
    instance = fakes.instances.create(account_id, livemode=False, engine="sandbox", name="n", status="connected")
    fakes.wallets.credit(wallet_id(account_id, "test"), 5, "test_credits")
    message = outbound(account_id, instance.instance_id)
    fakes.messages.commit_send(message, price=2, grace_ms=0)

    assert fakes.messages.apply_status(message.message_id, "failed", 2_000, "not_on_whatsapp") is not None
    assert fakes.messages.apply_status(message.message_id, "failed", 3_000) is None
    assert fakes.messages.apply_status(message.message_id, "sent", 4_000) is None
    assert fakes.wallets.balance(wallet_id(account_id, "test")) == 5
    assert fakes.usage.total(account_id, False, "failed") == 1
