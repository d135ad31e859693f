"""API keys through the real handlers: made by a signed-in owner only, shown once, restricted by scopes and by
numbers, rolled (both secrets work, then only the new one) and revoked; `last_used` without a write per
request; a suspended account refused everywhere."""

from __future__ import annotations

import pytest
from support.apigw import call
from support.identity import PASSWORD, open_by_sign_up, start_pool

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
    tokens, account_id = open_by_sign_up(pool, EMAIL, PASSWORD)
    return {"Authorization": f"Bearer {tokens['access_token']}"}, account_id


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


# A key limited to some numbers: its webhooks, the sandbox contacts' view and received media stay within them ------

HOOK = "https://93.184.215.14/hook"
"""A public address literal: the SSRF guard needs no DNS for it."""


def _fan_out(account_id: str, instance_id: str | None, event_type: str = "message.received") -> set[str]:
    """Runs the fan-out function on one bus event; the endpoints it queued a delivery for."""
    import json

    import boto3
    from support.apigw import LambdaContext

    from bzapper.domain.events import envelope
    from bzapper_dev.local.lambda_events import sqs_event

    event = envelope(
        event_type,
        at_ms=now_ms(),
        account_id=account_id,
        instance_id=instance_id,
        livemode=False,
        data={"message_id": "msg_x"},
        identity=(event_type, str(instance_id)),
    )
    body = json.dumps({"detail-type": event_type, "source": "bzapper", "detail": event})
    message = {"MessageId": "m1", "ReceiptHandle": "rh", "Body": body}
    load_function("webhook_fanout").handler(sqs_event([message], "arn:x:q", "us-east-1"), LambdaContext())
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="bzapper-test-webhook-deliveries")["QueueUrl"]
    jobs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return {json.loads(job["Body"])["webhook_id"] for job in jobs}


def test_a_key_limited_to_some_numbers_has_webhooks_of_its_numbers_only(keys_api, owner, svc):
    session, account_id = owner
    [mine] = svc.instances.of_account(account_id, False)
    other = svc.instances.create(account_id, livemode=False, engine="sandbox", name="Other", status="connected")
    full = bearer(made(keys_api, session)["key"])
    limited = bearer(made(keys_api, session, instance_ids=[other.instance_id])["key"])
    hooks = load_function("webhooks").handler
    status, _, wide = call(hooks, "POST", "/webhooks", headers=full, body={"url": HOOK})
    assert status == 201 and wide["instance_ids"] is None
    status, _, narrow = call(hooks, "POST", "/webhooks", headers=limited, body={"url": HOOK})
    assert status == 201 and narrow["instance_ids"] == [other.instance_id]

    assert _fan_out(account_id, mine.instance_id) == {wide["id"]}  # the other number's inbound: not for its hook
    assert _fan_out(account_id, other.instance_id) == {wide["id"], narrow["id"]}
    assert _fan_out(account_id, None, "wallet.low_balance") == {wide["id"], narrow["id"]}  # account-level: to both

    status, _, listed = call(hooks, "GET", "/webhooks", headers=limited)
    assert status == 200 and [h["id"] for h in listed["data"]] == [narrow["id"]]
    status, _, listed = call(hooks, "GET", "/webhooks", headers=full)
    assert {h["id"] for h in listed["data"]} == {wide["id"], narrow["id"]}
    for method, path, body in (
        ("GET", f"/webhooks/{wide['id']}", None),
        ("PATCH", f"/webhooks/{wide['id']}", {"url": HOOK + "/hijacked"}),
        ("POST", f"/webhooks/{wide['id']}/rotate-secret", None),
        ("GET", f"/webhooks/{wide['id']}/deliveries", None),
        ("POST", f"/webhooks/{wide['id']}/test", None),
        ("DELETE", f"/webhooks/{wide['id']}", None),
    ):
        status, _, error = call(hooks, method, path, headers=limited, body=body)
        assert (status, error["code"]) == (404, "not_found"), path
    status, _, kept = call(hooks, "GET", f"/webhooks/{wide['id']}", headers=full)
    assert status == 200 and kept["url"] == HOOK


def test_a_key_limited_to_some_numbers_sees_only_what_they_sent_to_a_sandbox_contact(keys_api, owner, svc, monkeypatch):
    from support.sandbox import served_network

    session, account_id = owner
    [mine] = svc.instances.of_account(account_id, False)
    other = svc.instances.create(account_id, livemode=False, engine="sandbox", name="Other", status="disconnected")
    limited = bearer(made(keys_api, session, instance_ids=[other.instance_id])["key"])
    full = bearer(made(keys_api, session)["key"])
    serving = served_network(monkeypatch)
    network = next(serving)
    try:
        jid = "5511988888888@s.whatsapp.net"
        network.connect(account_id, mine.instance_id, "+5511955550001")
        network.connect(account_id, other.instance_id, "+5511955550002")
        network.send(account_id, mine.instance_id, jid, "3EB0MINE", {"type": "text", "body": "Your code is 934712"})
        network.send(account_id, other.instance_id, jid, "3EB0OTHER", {"type": "text", "body": "hi"})
        sandbox = load_function("sandbox").handler
        path = "/sandbox/contacts/%2B5511988888888/messages"
        status, _, seen = call(sandbox, "GET", path, headers=limited)
        assert status == 200 and [m["wa_message_id"] for m in seen["data"]] == ["3EB0OTHER"]
        status, _, seen = call(sandbox, "GET", path, headers=full)
        assert status == 200 and {m["wa_message_id"] for m in seen["data"]} == {"3EB0MINE", "3EB0OTHER"}
    finally:
        next(serving, None)


def test_a_key_limited_to_some_numbers_cannot_have_media_another_number_received(keys_api, owner, svc, tmp_path):
    session, account_id = owner
    [mine] = svc.instances.of_account(account_id, False)
    other = svc.instances.create(account_id, livemode=False, engine="sandbox", name="Other", status="connected")
    limited = bearer(made(keys_api, session, instance_ids=[other.instance_id])["key"])
    full = bearer(made(keys_api, session)["key"])
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 2_000)
    # What the worker stores when a number receives a photo.
    received = svc.media.put_file(account_id, False, photo, "image/png", instance_id=mine.instance_id)
    media = load_function("media").handler
    status, _, error = call(media, "GET", f"/media/{received['media_id']}", headers=limited)
    assert (status, error["code"]) == (404, "not_found")
    assert call(media, "GET", f"/media/{received['media_id']}", headers=full)[0] == 302
    messages = load_function("messages").handler
    body = {"instance_id": other.instance_id, "to": "+5511988888888", "media_id": received["media_id"]}
    status, _, error = call(messages, "POST", "/messages/image", headers=limited, body=body)
    assert (status, error["param"]) == (422, "media_id")


@pytest.mark.parametrize("name", ["\u0000", "Prod\u202e", "zero\u200bwidth", "line\u2028break"])
def test_a_key_name_with_hidden_characters_is_refused(keys_api, owner, name):
    session, _ = owner
    status, _, error = call(keys_api, "POST", "/keys", headers=session, body={"name": name, "mode": "test"})
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "name")
