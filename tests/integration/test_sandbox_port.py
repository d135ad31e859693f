"""The sandbox API and the operator service through the SandboxWorld port, with the in-memory fake behind it:
every refusal and fault of the port maps to its API error (the real network's cases are in test_sandbox_api)."""

from __future__ import annotations

import pytest
from support.accounts import make_account
from support.apigw import call
from support.fake_sandbox import FakeSandboxWorld

from bzapper_dev.local.functions import load_function

PHONE = "+5511988888888"


@pytest.fixture
def fake(svc) -> FakeSandboxWorld:
    svc.sandbox = FakeSandboxWorld()  # the process's container: the handler reads the same one
    return svc.sandbox


@pytest.fixture
def sandbox(aws):
    return load_function("sandbox").handler


def requests(account) -> dict[str, tuple[str, str, dict | None]]:
    return {
        "scan": ("POST", f"/sandbox/instances/{account.instance_id}/scan", {"phone": PHONE}),
        "inbound": (
            "POST",
            f"/sandbox/instances/{account.instance_id}/inbound",
            {"from": PHONE, "type": "text", "body": "Hi"},
        ),
        "received": ("GET", "/sandbox/contacts/%2B5511988888888/messages", None),
    }


def send(sandbox, account, name: str):
    method, path, body = requests(account)[name]
    return call(sandbox, method, path, body=body, headers=account.auth)


def test_a_test_account_is_paired_through_the_port(svc, fake):
    account = make_account(svc)
    assert [(name, args[:2]) for name, args, _ in fake.calls] == [("scan", (account.account_id, account.instance_id))]


@pytest.mark.parametrize("name", ["scan", "inbound", "received"])
def test_an_unavailable_network_is_a_503_to_retry(sandbox, account, fake, name):
    fake.connected.add(account.instance_id)
    fake.fail_next()
    status, headers, error = send(sandbox, account, name)
    assert (status, error["code"], headers.get("retry-after")) == (503, "temporarily_unavailable", "1")


@pytest.mark.parametrize("name", ["scan", "inbound", "received"])
def test_no_network_is_not_supported_and_nothing_is_called(sandbox, account, fake, name):
    fake.enabled = False
    status, _, error = send(sandbox, account, name)
    assert (status, error["code"]) == (403, "not_supported")
    assert fake.calls == []


@pytest.mark.parametrize(
    ("name", "refused", "status", "code", "param"),
    [
        ("scan", "already_paired", 409, "already_connected", None),
        ("scan", "invalid_pairing_code", 422, "validation_failed", "code"),
        ("scan", "not_on_whatsapp", 422, "not_on_whatsapp", "phone"),
        ("scan", "bad_request", 422, "validation_failed", "phone"),
        ("inbound", "not_on_whatsapp", 422, "not_on_whatsapp", "from"),
        ("inbound", "invalid_content", 422, "validation_failed", "content"),
        ("received", "bad_request", 422, "validation_failed", "phone"),
    ],
)
def test_each_refusal_is_its_api_error(sandbox, account, fake, name, refused, status, code, param):
    fake.connected.add(account.instance_id)
    fake.refuse_next(refused, "text is required")
    answer_status, _, error = send(sandbox, account, name)
    assert (answer_status, error["code"], error.get("param")) == (status, code, param)
    if param == "content":  # the network's English reason, with no problem named, is not inserted
        assert error["message"] == "The simulated message is not valid."


def test_inbound_to_a_closed_instance_is_a_409(sandbox, account, fake):
    status, _, error = send(sandbox, account, "inbound")
    assert (status, error["code"]) == (409, "instance_not_connected")


def test_what_a_contact_received_comes_from_the_port(sandbox, account, fake):
    fake.received_by[(account.account_id, PHONE)] = [
        {
            "wa_message_id": "3EB0A",
            "instance_id": account.instance_id,
            "to_jid": "5511988888888@s.whatsapp.net",
            "message": {"type": "text", "body": "Hi"},
            "received_at": 1_700_000_000_000,
        }
    ]
    status, _, body = send(sandbox, account, "received")
    assert status == 200 and [m["wa_message_id"] for m in body["data"]] == ["3EB0A"]
