"""Presence and blocking on moto: the `contacts` function's handler asks the number's worker through the real control
queue and answers table; a worker thread (CommandHandler over the sandbox engine and an in-process network) answers.
The sandbox function's windows show what the simulated contact saw; hostile input, other tenants and restricted
keys are refused in our shape (docs/presence.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from support.accounts import Account, make_account
from support.apigw import call
from support.sandbox import InProcessClient, drain, online, served_network

from bzapper.adapters.aws.queues import SqsReader
from bzapper.config import settings
from bzapper.domain.engine import SessionSpec
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.topology import control_queue_name
from bzapper.worker.control import CommandHandler
from bzapper_dev.local.functions import load_function
from bzapper_dev.sandbox.network import SandboxNetwork

OWN = "+5511955550001"
ANA, BIA = "+5511988880001", "+5511988880002"
ANA_JID = "5511988880001@s.whatsapp.net"


@pytest.fixture
def contacts_api(aws: None) -> Any:
    return load_function("contacts").handler


@pytest.fixture
def world(svc: Any, account: Account, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The account's number paired on a network (served on loopback: the sandbox function reaches it over HTTP), and
    a worker answering its questions."""
    served = served_network(monkeypatch)
    network: SandboxNetwork = next(served)
    engine = SandboxEngine("http://unused", client=InProcessClient(network))  # type: ignore[arg-type]
    online(network, account.account_id, account.instance_id, OWN)
    engine.open(SessionSpec(account.instance_id, account.account_id, False, OWN), lambda event: None)

    def engine_call(instance_id: str, method: str, give_up_after: float | None = None, **kwargs: Any) -> Any:
        return getattr(engine, method)(instance_id, **kwargs)

    handler = CommandHandler(svc, open_instance=lambda *a, **k: True, close_instance=lambda *a: None, call=engine_call)
    stop = threading.Event()
    shard = svc.instances.get(account.instance_id).shard
    reader = SqsReader(settings().queue(control_queue_name(shard), fifo=False))
    thread = threading.Thread(target=handler.consume, args=(reader, stop, 1), daemon=True)
    thread.start()
    yield {"network": network}
    stop.set()
    thread.join(5)
    next(served, None)


def api(handler: Any, auth: dict[str, str], method: str, path: str, *, body: dict | None = None, **query: str):
    query_string = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    return call(handler, method, path, body=body, headers=auth | {"Accept-Language": "pt-BR"}, query=query_string)


def _seen(network: SandboxNetwork, account: Account, phone: str) -> dict[str, Any]:
    seen = network.contact_presence(account.account_id, phone)
    return next(e for e in seen if e["instance_id"] == account.instance_id)


def test_presence_and_blocking_reach_the_simulated_contact(contacts_api, account, world):
    network = world["network"]
    auth = account.auth
    status, _, sent = api(
        contacts_api, auth, "POST", f"/chats/{quote(ANA)}/presence",
        body={"instance_id": account.instance_id, "state": "recording"},
    )  # fmt: skip
    assert (status, sent) == (200, {"instance_id": account.instance_id, "jid": ANA_JID, "state": "recording"})
    assert _seen(network, account, ANA)["chat_state"] == "recording"
    status, _, own = api(
        contacts_api, auth, "POST", f"/instances/{account.instance_id}/presence", body={"state": "available"}
    )
    assert (status, own["jid"], own["state"]) == (200, None, "available")
    assert _seen(network, account, BIA)["online"] == "available"

    status, _, blocked = api(
        contacts_api, auth, "POST", f"/contacts/{ANA_JID}/block", body={"instance_id": account.instance_id}
    )
    assert (status, blocked["jid"], blocked["phone"], blocked["blocked"]) == (200, ANA_JID, ANA, True)
    again = api(contacts_api, auth, "POST", f"/contacts/{quote(ANA)}/block", body={"instance_id": account.instance_id})
    assert again[0] == 200 and again[2]["blocked"] is True  # idempotent: answers the state
    status, _, listed = api(contacts_api, auth, "GET", "/contacts/blocked", instance_id=account.instance_id)
    assert (status, [c["phone"] for c in listed["data"]]) == (200, [ANA])
    seen = _seen(network, account, ANA)
    assert (seen["blocked"], seen["online"]) == (True, None)
    drain(network, account.instance_id)
    network.inject_inbound(account.account_id, account.instance_id, ANA, "text", {"body": "hi"})
    assert drain(network, account.instance_id) == []

    status, _, unblocked = api(
        contacts_api, auth, "POST", f"/contacts/{ANA_JID}/unblock", body={"instance_id": account.instance_id}
    )
    assert (status, unblocked["blocked"]) == (200, False)
    assert api(contacts_api, auth, "GET", "/contacts/blocked", instance_id=account.instance_id)[2]["data"] == []


def test_the_sandbox_windows_show_what_the_contact_saw_and_let_it_show_presence(contacts_api, account, world):
    sandbox = load_function("sandbox").handler
    api(contacts_api, account.auth, "POST", f"/chats/{ANA_JID}/presence",
        body={"instance_id": account.instance_id, "state": "composing"})  # fmt: skip
    status, _, seen = api(sandbox, account.auth, "GET", f"/sandbox/contacts/{quote(ANA)}/presence")
    assert status == 200
    [entry] = seen["data"]
    assert (entry["instance_id"], entry["chat_state"], entry["blocked"], entry["chat_jid"]) == (
        account.instance_id,
        "composing",
        False,
        None,
    )
    assert entry["chat_state_at"].endswith("Z")

    status, _, shown = api(
        sandbox, account.auth, "POST", f"/sandbox/instances/{account.instance_id}/presence",
        body={"from": ANA, "state": "composing"},
    )  # fmt: skip
    assert (status, shown) == (202, {"instance_id": account.instance_id, "delivered": True})
    [event] = [e for e in drain(world["network"], account.instance_id) if e["kind"] == "presence"]
    assert (event["state"], event["from"]["phone"]) == ("composing", ANA)

    status, _, error = api(
        sandbox, account.auth, "POST", f"/sandbox/instances/{account.instance_id}/presence",
        body={"from": ANA, "state": "available", "chat": "120363025246125888@g.us"},
    )  # fmt: skip
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "chat")


def test_a_disconnected_number_is_409_and_another_accounts_instance_404(contacts_api, svc, account):
    body = {"instance_id": account.instance_id, "state": "composing"}
    svc.instances.set_status(account.instance_id, "disconnected")
    status, _, error = api(contacts_api, account.auth, "POST", f"/chats/{ANA_JID}/presence", body=body)
    assert (status, error["code"]) == (409, "not_connected")
    status, _, error = api(contacts_api, account.auth, "GET", "/contacts/blocked", instance_id=account.instance_id)
    assert (status, error["code"]) == (409, "not_connected")
    other = make_account(svc)
    status, _, error = api(contacts_api, other.auth, "POST", f"/chats/{ANA_JID}/presence", body=body)
    assert (status, error["code"]) == (404, "not_found")
    status, _, error = api(contacts_api, other.auth, "GET", "/contacts/blocked", instance_id=account.instance_id)
    assert (status, error["code"]) == (404, "not_found")
    status, _, error = api(
        contacts_api, other.auth, "POST", f"/contacts/{ANA_JID}/block", body={"instance_id": account.instance_id}
    )
    assert (status, error["code"]) == (404, "not_found")


def _scoped(svc: Any, account: Account, scopes: list[str], instance_ids: list[str] | None = None) -> dict[str, str]:
    made = svc.keys.create(
        account.account_id,
        name="scoped",
        mode="test",
        scopes=frozenset(scopes),
        instance_ids=frozenset(instance_ids) if instance_ids else None,
    )
    return {"Authorization": f"Bearer {made.secret}"}


def test_restricted_keys_reach_only_their_scopes_and_numbers(contacts_api, svc, account, world):
    reader = _scoped(svc, account, ["contacts:read"])
    status, _, listed = api(contacts_api, reader, "GET", "/contacts/blocked", instance_id=account.instance_id)
    assert (status, listed["data"]) == (200, [])
    status, _, error = api(
        contacts_api, reader, "POST", f"/contacts/{ANA_JID}/block", body={"instance_id": account.instance_id}
    )
    assert (status, error["code"], error["param"]) == (403, "forbidden", "contacts:write")
    status, _, error = api(
        contacts_api, reader, "POST", f"/chats/{ANA_JID}/presence",
        body={"instance_id": account.instance_id, "state": "paused"},
    )  # fmt: skip
    assert (status, error["param"]) == (403, "messages:write")
    sender = _scoped(svc, account, ["messages:write"])
    status, _, _ = api(
        contacts_api, sender, "POST", f"/instances/{account.instance_id}/presence", body={"state": "unavailable"}
    )
    assert status == 200
    second = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="2", status="connected")
    elsewhere = _scoped(svc, account, ["contacts:read", "contacts:write"], [second.instance_id])
    status, _, error = api(contacts_api, elsewhere, "GET", "/contacts/blocked", instance_id=account.instance_id)
    assert (status, error["code"]) == (404, "not_found")


def test_a_cloud_number_is_422_not_supported_naming_the_engine(contacts_api, svc, account):
    cloud = svc.instances.create(account.account_id, livemode=False, engine="cloud", name="c", status="connected")
    status, _, error = api(
        contacts_api, account.auth, "POST", f"/contacts/{ANA_JID}/block", body={"instance_id": cloud.instance_id}
    )
    assert (status, error["code"]) == (422, "not_supported") and "cloud" in error["message"]


HOSTILE = [
    ("POST", f"/chats/{ANA_JID}/presence", {"instance_id": "inst_x", "state": "dancing"}, None),
    ("POST", "/chats/%00/presence", {"instance_id": "inst_x", "state": "composing"}, None),
    ("POST", "/chats/abc%40broadcast/presence", {"instance_id": "inst_x", "state": "composing"}, None),
    ("POST", f"/chats/{ANA_JID}/presence", {"instance_id": 5, "state": ["composing"]}, None),
    ("POST", f"/chats/{ANA_JID}/presence", {"instance_id": "\u0000", "state": "composing"}, None),
    ("POST", f"/chats/{ANA_JID}/presence", {"instance_id": "inst_x", "state": "composing", "extra": 1}, None),
    ("POST", "/instances/inst_x/presence", {"state": "composing"}, None),
    ("POST", "/instances/%00/presence", {"state": "available"}, None),
    ("POST", "/instances/inst_x/presence", {"state": None}, None),
    ("GET", "/contacts/blocked", None, "instance_id=%00"),
    ("GET", "/contacts/blocked", None, None),
    ("POST", "/contacts/120363025246125888%40g.us/block", {"instance_id": "inst_x"}, None),
    ("POST", "/contacts/%2B55%0011/block", {"instance_id": "inst_x"}, None),
    ("POST", "/contacts/x/unblock", {"instance_id": ["inst_x"]}, None),
    ("POST", "/contacts/1234%2F5/unblock", {}, None),
]


@pytest.mark.parametrize(("method", "path", "body", "query"), HOSTILE)
def test_hostile_requests_are_refused_in_our_shape(contacts_api, svc, method, path, body, query):
    account = make_account(svc)
    kwargs = {
        "headers": account.auth,
        **({"body": body} if body is not None else {}),
        **({"query": query} if query else {}),
    }
    status, _, answer = call(contacts_api, method, path, **kwargs)
    assert 400 <= status < 500 and {"code", "message", "locale"} <= set(answer)


SANDBOX_HOSTILE = [
    ("GET", "/sandbox/contacts/%00/presence", None),
    ("GET", "/sandbox/contacts/not-a-phone/presence", None),
    ("POST", "/sandbox/instances/inst_x/presence", {"from": "+5511988880001", "state": "typing"}),
    ("POST", "/sandbox/instances/inst_x/presence", {"from": "\u0000", "state": "composing"}),
    ("POST", "/sandbox/instances/inst_x/presence", {"from": "+5511988880001", "state": "paused", "chat": "x@g.us"}),
]


@pytest.mark.parametrize(("method", "path", "body"), SANDBOX_HOSTILE)
def test_hostile_sandbox_presence_requests_are_refused_in_our_shape(aws, svc, method, path, body):
    account = make_account(svc)
    status, _, answer = call(
        load_function("sandbox").handler, method, path, headers=account.auth, **({"body": body} if body else {})
    )
    assert 400 <= status < 500 and {"code", "message", "locale"} <= set(answer)
