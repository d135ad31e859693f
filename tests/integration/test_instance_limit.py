"""The plan's instance limit through the real handler on moto, under the concurrency the index cannot see: each
create takes one of the account's plan slots in its own transaction, as webhook endpoints do."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from support.accounts import Account
from support.apigw import call

from bzapper.adapters.aws.models import InstanceModel
from bzapper_dev.local.functions import load_function

PLAN_LIMIT = 3  # payg; the test account already holds its sandbox number


@pytest.fixture
def instances(aws: None):
    return load_function("instances").handler


def _create(handler, account: Account) -> int:
    return call(handler, "POST", "/instances", body={"name": "more", "engine": "sandbox"}, headers=account.auth)[0]


def test_the_limit_holds_when_the_index_lags_behind_concurrent_creates(instances, account, monkeypatch) -> None:
    """Concurrent creates each see the account's instances as they were before the others wrote (here: none at
    all); the slots taken in the creates' own transactions still stop the one over the plan."""
    monkeypatch.setattr(InstanceModel.by_account, "query", lambda *args, **kwargs: iter(()))
    made = [_create(instances, account) for _ in range(4)]
    assert made == [201] * (PLAN_LIMIT - 1) + [409] * 2
    monkeypatch.undo()
    status, _, listed = call(instances, "GET", "/instances", headers=account.auth)
    assert (status, len(listed["data"])) == (200, PLAN_LIMIT)


def test_deleting_a_number_frees_its_slot(instances, account) -> None:
    made = [call(instances, "POST", "/instances", body={"name": "n"}, headers=account.auth)[2] for _ in range(2)]
    assert _create(instances, account) == 409
    assert call(instances, "DELETE", f"/instances/{made[0]['id']}", headers=account.auth)[0] in (200, 202, 204)
    assert _create(instances, account) == 201
    assert _create(instances, account) == 409


def test_a_slot_key_is_never_read_as_a_number(instances, account) -> None:
    slot = f"slot#{account.account_id}#test#0"
    for method in ("GET", "DELETE"):
        status, _, body = call(instances, method, f"/instances/{quote(slot, safe='')}", headers=account.auth)
        assert (status, body["code"]) == (404, "not_found")
