"""POST /messages/text through the real Lambda handler, against moto."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import boto3
import botocore.client
from support.accounts import Account, make_account
from support.apigw import call

from bzapper.adapters.aws import ratelimits
from bzapper.adapters.aws.models import MessageModel, RateLimitModel, WalletModel
from bzapper.config import settings
from bzapper.domain.ids import whatsapp_message_id
from bzapper.domain.model import wallet_id
from bzapper.domain.plans import plan_named
from bzapper.domain.ratelimit import Bucket


def _send(handler, account: Account, **overrides):
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "Hello", **overrides}
    return call(handler, "POST", "/messages/text", body=body, headers=account.auth)


def _shard_messages(shard: int) -> list[dict]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().queue(f"shard-{shard}", fifo=True))["QueueUrl"]
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    return answer.get("Messages", [])


def test_accepted_send_is_written_debited_and_enqueued(messages_handler, svc, account):
    status, headers, body = _send(messages_handler, account, client_reference="lead-42")

    assert status == 202
    assert body["status"] == "queued"
    assert body["client_reference"] == "lead-42"
    assert body["message_id"].startswith("msg_")
    assert headers["x-request-id"].startswith("req_")

    item = MessageModel.get(body["message_id"])
    assert (item.status, item.to_jid, item.client_reference) == ("queued", "5511988888888@s.whatsapp.net", "lead-42")
    assert item.wa_message_id == whatsapp_message_id(body["message_id"])
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999
    ledger = [entry for entry in WalletModel.query(wallet_id(account.account_id, "test")) if entry.amount]
    assert sorted(int(entry.amount) for entry in ledger) == [-1, 1000]
    assert sum(int(entry.amount) for entry in ledger) == 999

    shard = svc.instances.get(account.instance_id).shard
    [queued] = _shard_messages(shard)
    job = json.loads(queued["Body"])
    assert job["message_id"] == body["message_id"]
    assert job["content"] == {"body": "Hello"}
    assert queued["Attributes"]["MessageGroupId"] == account.instance_id
    assert queued["Attributes"]["MessageDeduplicationId"] == body["message_id"]


def test_brazilian_number_without_ninth_digit_is_normalised(messages_handler, account):
    status, _, body = _send(messages_handler, account, to="+55 (11) 8888-8888")
    assert status == 202
    assert MessageModel.get(body["message_id"]).to_phone == "+5511988888888"


def test_lid_recipient_is_accepted(messages_handler, account):
    status, _, body = _send(messages_handler, account, to="123456789012345@lid")
    assert status == 202
    item = MessageModel.get(body["message_id"])
    assert (item.to_jid, item.to_phone) == ("123456789012345@lid", None)


def test_get_message_shows_status_and_history(messages_handler, account):
    _, _, sent = _send(messages_handler, account, client_reference="r1")
    status, _, body = call(messages_handler, "GET", f"/messages/{sent['message_id']}", headers=account.auth)
    assert status == 200
    assert body["status"] == "queued"
    assert [change["status"] for change in body["history"]] == ["queued"]
    assert body["history"][0]["at"].endswith("Z")
    assert body["client_reference"] == "r1"
    assert body["to"] == "+5511988888888"


def test_no_credit_is_402_and_nothing_is_written(messages_handler, svc):
    broke = make_account(svc, credits=0)
    status, _, body = _send(messages_handler, broke)
    assert status == 402
    assert body["code"] == "insufficient_balance"
    assert list(MessageModel.scan()) == []
    assert svc.wallets.balance(wallet_id(broke.account_id, "test")) == 0


def test_last_credit_then_402(messages_handler, svc):
    one = make_account(svc, credits=1)
    assert _send(messages_handler, one)[0] == 202
    assert _send(messages_handler, one)[0] == 402
    assert svc.wallets.balance(wallet_id(one.account_id, "test")) == 0


def test_disconnected_instance_is_409_and_not_charged(messages_handler, svc, account):
    svc.instances.set_status(account.instance_id, "disconnected")
    status, _, body = _send(messages_handler, account)
    assert status == 409
    assert body["code"] == "instance_not_connected"
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 1000


# The send bucket's token, taken inside the send transaction -------------------------------------------------


class AwsCalls:
    """The AWS operations made from now on (botocore's, PynamoDB's included)."""

    def __init__(self, monkeypatch) -> None:
        self.names: list[str] = []
        real = botocore.client.BaseClient._make_api_call

        def counted(client, operation, params):
            self.names.append(operation)
            return real(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)


def _bucket(account: Account) -> tuple[str, Bucket]:
    return f"sends:{account.account_id}:test", Bucket(plan_named("payg").sends_per_minute)


def _set_tat(svc, account: Account, tat: float | None) -> None:
    """The bucket as another function instance left it, unknown to this one's cache."""
    bucket_id, _ = _bucket(account)
    if tat is None:
        RateLimitModel(bucket_id).delete()
    else:
        RateLimitModel(bucket_id, tat=tat, expires_at=int(tat / 1000) + 3600).save()
    svc.rate_limits._seen.pop(bucket_id, None)


def test_a_warm_send_is_one_transaction_and_one_queue_send(messages_handler, account, monkeypatch):
    assert _send(messages_handler, account)[0] == 202  # warms the key and instance caches
    calls = AwsCalls(monkeypatch)

    status, headers, _ = _send(messages_handler, account)

    assert status == 202 and calls.names == ["TransactWriteItems", "SendMessage"]
    assert headers["ratelimit-remaining"] == str(_bucket(account)[1].limit - 2)


def test_a_bucket_gone_idle_behind_the_cache_takes_the_other_update(messages_handler, svc, account, monkeypatch):
    assert _send(messages_handler, account)[0] == 202
    # This instance believes the bucket busy (as right after its own send, whatever time a loaded machine takes
    # to get to the next line), but it expired meanwhile: the busy update's condition fails.
    svc.rate_limits.remember(_bucket(account)[0], time.time() * 1000 + 10_000)  # busy, well inside its burst
    RateLimitModel(_bucket(account)[0]).delete()
    calls = AwsCalls(monkeypatch)

    before = time.time() * 1000
    status, headers, _ = _send(messages_handler, account)

    assert status == 202 and calls.names == ["TransactWriteItems", "TransactWriteItems", "SendMessage"]
    bucket_id, bucket = _bucket(account)
    tat = float(RateLimitModel.get(bucket_id).tat)
    assert before + bucket.interval_ms <= tat <= time.time() * 1000 + bucket.interval_ms  # restarted from now
    assert headers["ratelimit-remaining"] == str(bucket.limit - 1)
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 998  # each send debited once


def test_a_busy_bucket_unknown_to_the_cache_moves_on_by_one_interval(messages_handler, svc, account, monkeypatch):
    assert _send(messages_handler, account)[0] == 202
    bucket_id, bucket = _bucket(account)
    busy = time.time() * 1000 + 10 * bucket.interval_ms  # ten sends ahead, by other instances
    _set_tat(svc, account, busy)
    calls = AwsCalls(monkeypatch)

    status, headers, _ = _send(messages_handler, account)

    assert status == 202 and calls.names == ["TransactWriteItems", "TransactWriteItems", "SendMessage"]
    assert float(RateLimitModel.get(bucket_id).tat) == busy + bucket.interval_ms
    assert int(headers["ratelimit-remaining"]) <= bucket.limit - 11


def test_over_the_limit_the_transaction_writes_nothing_and_the_answer_is_429(
    messages_handler, svc, account, monkeypatch
):
    assert _send(messages_handler, account)[0] == 202
    bucket_id, bucket = _bucket(account)
    # "Within the second" below is the adapter's monotonic clock: held still, so a slow machine cannot pass it.
    still = time.monotonic()
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=time.time, monotonic=lambda: still))
    full = time.time() * 1000 + bucket.period_ms  # the whole burst used by other instances
    _set_tat(svc, account, full)
    svc.instances.set_status(account.instance_id, "disconnected")  # the rate limit answers first
    calls = AwsCalls(monkeypatch)

    status, headers, body = _send(messages_handler, account)

    assert (status, body["code"]) == (429, "rate_limited") and int(headers["retry-after"]) >= 1
    assert calls.names == ["TransactWriteItems"]  # the bucket came back with the cancellation: no read
    assert float(RateLimitModel.get(bucket_id).tat) == full
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999
    assert len(list(MessageModel.scan())) == 1
    # Within the second, this instance refuses a flood without a request.
    calls.names.clear()
    assert _send(messages_handler, account)[0] == 429 and calls.names == []


def test_a_wrong_guess_and_another_refusal_answer_at_once(messages_handler, svc, account, monkeypatch):
    assert _send(messages_handler, account)[0] == 202  # believed busy...
    RateLimitModel(_bucket(account)[0]).delete()  # ...but idle: the limit admits the send
    svc.instances.set_status(account.instance_id, "disconnected")
    calls = AwsCalls(monkeypatch)

    status, _, body = _send(messages_handler, account)

    assert (status, body["code"]) == (409, "instance_not_connected") and calls.names == ["TransactWriteItems"]
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999


def test_unknown_instance_is_404(messages_handler, account):
    status, _, body = _send(messages_handler, account, instance_id="inst_doesnotexist")
    assert (status, body["code"]) == (404, "not_found")


def test_another_accounts_instance_and_message_are_404(messages_handler, svc, account):
    other = make_account(svc)
    _, _, theirs = _send(messages_handler, other)

    status, _, body = _send(messages_handler, account, instance_id=other.instance_id)
    assert (status, body["code"]) == (404, "not_found")
    status, _, body = call(messages_handler, "GET", f"/messages/{theirs['message_id']}", headers=account.auth)
    assert (status, body["code"]) == (404, "not_found")
    assert svc.wallets.balance(wallet_id(other.account_id, "test")) == 999


def test_live_key_cannot_touch_test_instance(messages_handler, svc, account):
    live_key = svc.accounts.create_key(account.account_id, "live")
    svc.wallets.credit(wallet_id(account.account_id, "live"), 10, reason="topup")
    status, _, body = call(
        messages_handler,
        "POST",
        "/messages/text",
        body={"instance_id": account.instance_id, "to": "+5511988888888", "body": "x"},
        headers={"Authorization": f"Bearer {live_key}"},
    )
    assert (status, body["code"]) == (404, "not_found")
