"""API keys through the real handlers: made by a signed-in owner only, shown once, restricted by scopes and by
numbers, rolled (both secrets work, then only the new one) and revoked; `last_used` without a write per
request; a suspended account refused everywhere."""

from __future__ import annotations

import pytest
from support.apigw import call
from support.identity import PASSWORD, start_pool

from bzapper import bootstrap
from bzapper.domain.clock import now_ms
from bzapper.services.accounts import set_suspended
from bzapper_dev.local.functions import load_function

EMAIL = "owner@acme.com.br"


@pytest.fixture
def owner(aws, environment, tmp_path, svc):
    environment.set("BZ_AUTH_CACHE_SECONDS", "0")  # every request reads its key: a revocation shows at once
    pool = start_pool(environment, tmp_path)
    bootstrap.services.cache_clear()
    auth = load_function("auth").handler
    call(auth, "POST", "/auth/signup", body={"email": EMAIL, "password": PASSWORD, "name": "Acme"})
    status, _, confirmed = call(
        auth, "POST", "/auth/confirm", body={"email": EMAIL, "code": pool.code(EMAIL), "password": PASSWORD}
    )
    assert status == 200
    status, _, tokens = call(auth, "POST", "/auth/login", body={"email": EMAIL, "password": PASSWORD})
    assert status == 200
    return {"Authorization": f"Bearer {tokens['access_token']}"}, confirmed["account_id"]


@pytest.fixture
def keys_api(owner):
    return load_function("keys").handler


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def made(keys_api, session, **body) -> dict:
    status, _, key = call(keys_api, "POST", "/keys", headers=session, body={"name": "k", "mode": "test", **body})
    assert status == 201, key
    return key


def test_a_key_is_shown_once_and_never_listed_with_its_secret(keys_api, owner):
    session, _ = owner
    key = made(keys_api, session, name="Server")
    assert key["key"].startswith("bz_test_") and key["last4"] == key["key"][-4:] and key["object"] == "api_key"
    assert key["scopes"] is None and key["instance_ids"] is None and key["revoked"] is None
    status, _, listed = call(keys_api, "GET", "/keys", headers=session)
    assert status == 200 and [k["id"] for k in listed["data"]] == [key["id"]]
    assert listed["data"][0]["key"] is None
    status, _, one = call(keys_api, "GET", f"/keys/{key['id']}", headers=session)
    assert status == 200 and one["key"] is None and one["name"] == "Server"


def test_keys_answer_only_to_sessions(keys_api, owner):
    session, _ = owner
    key = made(keys_api, session)
    for method, path in (("GET", "/keys"), ("POST", "/keys"), ("DELETE", f"/keys/{key['id']}")):
        status, _, error = call(keys_api, method, path, headers=bearer(key["key"]), body={"name": "x", "mode": "live"})
        assert (status, error["code"]) == (403, "forbidden"), path
    status, _, error = call(keys_api, "GET", "/keys")
    assert status == 401


def test_a_scoped_key_is_refused_outside_its_scopes_naming_the_missing_one(keys_api, owner):
    session, _ = owner
    key = made(keys_api, session, scopes=["messages:read"])
    instances = load_function("instances").handler
    status, _, error = call(instances, "GET", "/instances", headers=bearer(key["key"]))
    assert (status, error["code"], error["param"]) == (403, "forbidden", "instances:read")
    status, _, _ = call(
        load_function("messages").handler, "GET", "/messages/msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q", headers=bearer(key["key"])
    )
    assert status == 404  # allowed: an unknown message


def test_a_key_limited_to_some_numbers_sees_no_other(keys_api, owner, svc):
    session, account_id = owner
    [mine] = svc.instances.of_account(account_id, False)
    other = svc.instances.create(account_id, livemode=False, engine="sandbox", name="Other", status="disconnected")
    key = made(keys_api, session, instance_ids=[mine.instance_id])
    instances = load_function("instances").handler
    status, _, listed = call(instances, "GET", "/instances", headers=bearer(key["key"]))
    assert status == 200 and [i["id"] for i in listed["data"]] == [mine.instance_id]
    status, _, error = call(instances, "GET", f"/instances/{other.instance_id}", headers=bearer(key["key"]))
    assert (status, error["code"]) == (404, "not_found")
    status, _, error = call(
        keys_api,
        "POST",
        "/keys",
        headers=session,
        body={"name": "x", "mode": "live", "instance_ids": [mine.instance_id]},
    )
    assert status == 404  # a test number is not a live key's number


def test_an_unknown_scope_is_422_on_its_position(keys_api, owner):
    session, _ = owner
    status, _, error = call(
        keys_api,
        "POST",
        "/keys",
        headers=session,
        body={"name": "x", "mode": "test", "scopes": ["messages:read", "root"]},
    )
    assert (status, error["code"]) == (422, "validation_failed") and error["param"].startswith("scopes")


def test_a_roll_keeps_the_old_secret_until_its_expiry_then_only_the_new_one_works(keys_api, owner):
    session, _ = owner
    old = made(keys_api, session)
    account = load_function("account").handler
    status, _, rolled = call(keys_api, "POST", f"/keys/{old['id']}/roll", headers=session, body={"expires_in_hours": 1})
    assert status == 200 and rolled["id"] == old["id"] and rolled["key"] != old["key"] and rolled["previous_expires"]
    assert call(account, "GET", "/me", headers=bearer(old["key"]))[0] == 200
    assert call(account, "GET", "/me", headers=bearer(rolled["key"]))[0] == 200
    status, _, again = call(keys_api, "POST", f"/keys/{old['id']}/roll", headers=session, body={"expires_in_hours": 0})
    assert status == 200
    for stale in (old["key"], rolled["key"]):
        assert call(account, "GET", "/me", headers=bearer(stale))[0] == 401
    assert call(account, "GET", "/me", headers=bearer(again["key"]))[0] == 200
    status, _, error = call(
        keys_api, "POST", f"/keys/{old['id']}/roll", headers=session, body={"expires_in_hours": 169}
    )
    assert (status, error["param"]) == (422, "expires_in_hours")


def test_a_revoked_key_is_refused_and_revoking_again_changes_nothing(keys_api, owner):
    session, _ = owner
    key = made(keys_api, session)
    account = load_function("account").handler
    assert call(account, "GET", "/me", headers=bearer(key["key"]))[0] == 200
    status, _, revoked = call(keys_api, "DELETE", f"/keys/{key['id']}", headers=session)
    assert status == 200 and revoked["revoked"]
    assert call(account, "GET", "/me", headers=bearer(key["key"]))[0] == 401
    status, _, again = call(keys_api, "DELETE", f"/keys/{key['id']}", headers=session)
    assert status == 200 and again["revoked"] == revoked["revoked"]


def test_last_used_moves_once_a_minute_not_per_request(keys_api, owner, svc):
    session, _ = owner
    key = made(keys_api, session)
    account = load_function("account").handler
    for _ in range(5):
        call(account, "GET", "/me", headers=bearer(key["key"]))
    used = svc.keys.get(key["id"]).last_used
    assert used is not None and now_ms() - used < 60_000
    from bzapper.adapters.aws.models import KeyModel

    writes = KeyModel.get(key["id"]).last_used
    assert writes == used


def test_a_suspended_account_is_refused_for_keys_and_sessions_and_back_when_active(keys_api, owner, svc):
    session, account_id = owner
    key = made(keys_api, session)
    account = load_function("account").handler
    set_suspended(svc, account_id, True)
    for headers in (bearer(key["key"]), session):
        status, _, error = call(account, "GET", "/me", headers=headers)
        assert (status, error["code"]) == (403, "account_restricted")
    set_suspended(svc, account_id, False)
    assert call(account, "GET", "/me", headers=bearer(key["key"]))[0] == 200
