"""Idempotency-Key on every route that creates something (F22): a retry after a lost response answers the first
result instead of making a second endpoint, number or checkout; a route that would ignore the key refuses it."""

from __future__ import annotations

import pytest
from support.accounts import make_account
from support.apigw import call

from bzapper_dev.local.functions import load_function


@pytest.fixture
def handlers(aws, public_dns):
    return {group: load_function(group).handler for group in ("webhooks", "instances", "billing", "keys", "auth")}


def _with_key(account, key: str) -> dict[str, str]:
    return {**account.auth, "Idempotency-Key": key}


CREATES = [
    ("webhooks", "/webhooks", {"url": "https://example.com/hook"}, {"url": "https://example.com/other"}, "id"),
    ("instances", "/instances", {"name": "Support"}, {"name": "Sales"}, "id"),
    (
        "billing",
        "/billing/checkout",
        {"amount": 5_000, "method": "pix"},
        {"amount": 6_000, "method": "pix"},
        "checkout_id",
    ),
]


@pytest.mark.parametrize(("group", "path", "body", "other_body", "id_field"), CREATES)
def test_a_retried_create_answers_the_first_result(handlers, svc, group, path, body, other_body, id_field):
    account = make_account(svc)
    first_status, first_headers, first = call(
        handlers[group], "POST", path, body=body, headers=_with_key(account, "k1")
    )
    again_status, again_headers, again = call(
        handlers[group], "POST", path, body=body, headers=_with_key(account, "k1")
    )

    assert first_status == again_status == 201
    assert again[id_field] == first[id_field]
    assert "idempotent-replayed" not in first_headers and again_headers["idempotent-replayed"] == "true"
    # Another request under the same key is a conflict; another key is another create.
    status, _, error = call(handlers[group], "POST", path, body=other_body, headers=_with_key(account, "k1"))
    assert (status, error["code"], error["param"]) == (422, "idempotency_conflict", "Idempotency-Key")
    status, _, other = call(handlers[group], "POST", path, body=body, headers=_with_key(account, "k2"))
    assert status == 201 and other[id_field] != first[id_field]


def test_a_replayed_webhook_shows_the_secret_it_signs_with(handlers, svc):
    account = make_account(svc)
    _, _, first = call(
        handlers["webhooks"],
        "POST",
        "/webhooks",
        body={"url": "https://example.com/h"},
        headers=_with_key(account, "k"),
    )
    _, _, again = call(
        handlers["webhooks"],
        "POST",
        "/webhooks",
        body={"url": "https://example.com/h"},
        headers=_with_key(account, "k"),
    )
    assert again["secret"] == first["secret"] and first["secret"].startswith("whsec_")
    status, _, listed = call(handlers["webhooks"], "GET", "/webhooks", headers=account.auth)
    assert (status, [w["id"] for w in listed["data"]]) == (200, [first["id"]])


def test_a_key_is_the_accounts_own(handlers, svc):
    mine, theirs = make_account(svc), make_account(svc)
    body = {"url": "https://example.com/h"}
    _, _, first = call(handlers["webhooks"], "POST", "/webhooks", body=body, headers=_with_key(mine, "shared"))
    status, headers, other = call(
        handlers["webhooks"], "POST", "/webhooks", body=body, headers=_with_key(theirs, "shared")
    )
    assert status == 201 and other["id"] != first["id"] and "idempotent-replayed" not in headers


def test_a_replay_of_a_deleted_endpoint_is_not_found_rather_than_a_new_one(handlers, svc):
    account = make_account(svc)
    body = {"url": "https://example.com/h"}
    _, _, first = call(handlers["webhooks"], "POST", "/webhooks", body=body, headers=_with_key(account, "k"))
    assert call(handlers["webhooks"], "DELETE", f"/webhooks/{first['id']}", headers=account.auth)[0] == 204
    status, _, error = call(handlers["webhooks"], "POST", "/webhooks", body=body, headers=_with_key(account, "k"))
    assert (status, error["code"]) == (404, "not_found")


def test_a_failed_create_frees_its_key(handlers, svc):
    account = make_account(svc)
    unsafe = {"url": "https://10.0.0.8/hook"}
    assert call(handlers["webhooks"], "POST", "/webhooks", body=unsafe, headers=_with_key(account, "k"))[0] == 422
    # The same key with a corrected body is a first request, not a conflict with the refused one.
    status, _, _ = call(
        handlers["webhooks"],
        "POST",
        "/webhooks",
        body={"url": "https://example.com/h"},
        headers=_with_key(account, "k"),
    )
    assert status == 201


@pytest.mark.parametrize(
    ("group", "method", "path", "body"),
    [
        ("webhooks", "POST", "/webhooks/wh_01JD5V6W4E7R8T9Y0U1I2O3P4Q/rotate-secret", None),
        ("instances", "POST", "/contacts/checkIsOnWhatsApp", {"instance_id": "inst_x", "numbers": ["+5511988888888"]}),
        ("auth", "POST", "/auth/login", {"email": "a@example.com", "password": "Str0ng!Passw0rd"}),
    ],
)
def test_a_route_that_would_ignore_the_key_refuses_it(handlers, svc, group, method, path, body):
    account = make_account(svc)
    status, _, error = call(handlers[group], method, path, body=body, headers=_with_key(account, "k"))
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "Idempotency-Key")
    assert "Idempotency-Key" in error["message"]


def test_an_unknown_route_with_a_key_is_still_a_404(handlers, svc):
    account = make_account(svc)
    status, _, error = call(handlers["webhooks"], "POST", "/webhooks/nope/nothing", headers=_with_key(account, "k"))
    assert (status, error["code"]) == (404, "not_found")
