"""Idempotency-Key with Stripe semantics, including concurrent requests."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from support.apigw import call

from bzapper.adapters.aws.models import MessageModel
from bzapper.domain.idempotency import fingerprint
from bzapper.domain.model import wallet_id


def _send(handler, account, key, **overrides):
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "Hello", **overrides}
    return call(handler, "POST", "/messages/text", body=body, headers={**account.auth, "Idempotency-Key": key})


def test_same_key_same_body_replays_the_first_response(messages_handler, svc, account):
    first = _send(messages_handler, account, "order-1", client_reference="c1")
    again = _send(messages_handler, account, "order-1", client_reference="c1")

    assert first[0] == again[0] == 202
    assert again[2] == first[2]
    assert again[1]["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first[1]
    assert len(list(MessageModel.scan())) == 1
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999


def test_same_key_different_body_is_422_conflict(messages_handler, account):
    _send(messages_handler, account, "order-2")
    status, _, error = _send(messages_handler, account, "order-2", body="Something else")
    assert status == 422
    assert error["code"] == "idempotency_conflict"
    assert error["param"] == "Idempotency-Key"


def test_key_in_progress_is_409(messages_handler, svc, account):
    body = {"instance_id": account.instance_id, "to": "+5511988888888", "body": "Hello", "client_reference": None}
    scope = f"{account.account_id}:test:order-3"
    svc.idempotency.acquire(scope, fingerprint("POST", "/messages/text", body), now_s=2_000_000_000)

    status, headers, error = _send(messages_handler, account, "order-3")
    assert status == 409
    assert error["code"] == "idempotency_in_progress"
    assert headers["retry-after"] == "1"


def test_keys_are_scoped_per_account(messages_handler, svc, account):
    from support.accounts import make_account

    other = make_account(svc)
    mine = _send(messages_handler, account, "shared-key")
    theirs = _send(messages_handler, other, "shared-key")
    assert mine[0] == theirs[0] == 202
    assert mine[2]["message_id"] != theirs[2]["message_id"]


def test_failed_request_frees_its_key(messages_handler, svc, account):
    svc.instances.set_status(account.instance_id, "disconnected")
    assert _send(messages_handler, account, "order-4")[0] == 409
    svc.instances.set_status(account.instance_id, "connected")
    status, headers, _ = _send(messages_handler, account, "order-4")
    assert status == 202
    assert "idempotent-replayed" not in headers


def test_concurrent_requests_with_one_key_create_one_message(messages_handler, svc, account):
    # Like 8 Lambda instances at once: each thread has its own event loop, as each sandbox would.
    with ThreadPoolExecutor(
        max_workers=8, initializer=lambda: asyncio.set_event_loop(asyncio.new_event_loop())
    ) as pool:
        results = list(pool.map(lambda _: _send(messages_handler, account, "burst"), range(8)))

    statuses = sorted(status for status, _, _ in results)
    assert set(statuses) <= {202, 409}
    accepted_ids = {body["message_id"] for status, _, body in results if status == 202}
    assert len(accepted_ids) == 1
    assert all(body["code"] == "idempotency_in_progress" for status, _, body in results if status == 409)
    assert len(list(MessageModel.scan())) == 1
    assert svc.wallets.balance(wallet_id(account.account_id, "test")) == 999


def test_invalid_key_is_422(messages_handler, account):
    status, _, error = _send(messages_handler, account, "x" * 256)
    assert status == 422
    assert error["param"] == "Idempotency-Key"
