"""History on pairing through the sandbox API on moto (issue #18 part 7): a scan describing the phone's earlier
conversations, a chunk handed again, and hostile input answered 4xx in our shape (never a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.accounts import Account
from support.apigw import call
from support.sandbox import served_network

from bzapper_dev.local.functions import load_function
from bzapper_dev.sandbox.network import SandboxNetwork

GROUP = "120363025246125888@g.us"
HISTORY = [
    {"contact": "+5511988880001", "messages": [{"body": "Hi", "wa_message_id": "3AOLD0001"}]},
    {"contact": "5511988880002@s.whatsapp.net", "messages": [{"body": "Yo", "from_me": True}]},
    {"group": GROUP, "group_name": "Orders", "messages": [{"from": "+5511988880003", "body": "Boxes"}]},
]


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxNetwork]:
    yield from served_network(monkeypatch)


@pytest.fixture
def sandbox(aws: None, network: SandboxNetwork) -> Any:
    return load_function("sandbox").handler


@pytest.fixture
def unpaired(svc: Any, account: Account, network: SandboxNetwork) -> Account:
    ref = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="New", status="disconnected")
    network.connect(account.account_id, ref.instance_id)  # what the worker does when it opens it
    return Account(account.account_id, account.api_key, ref.instance_id)


def _post(handler: Any, account: Account, action: str, body: dict | None) -> tuple[int, dict]:
    status, _, answer = call(
        handler, "POST", f"/sandbox/instances/{account.instance_id}/{action}", body=body, headers=account.auth
    )
    return status, answer


def test_a_scan_with_history_hands_it_to_a_session_that_asked_and_a_chunk_comes_again(
    sandbox, network, unpaired
) -> None:
    network.configure(unpaired.account_id, unpaired.instance_id, {"history_sync": True})

    status, body = _post(sandbox, unpaired, "scan", {"history": HISTORY})

    assert status == 200, body
    assert body["state"] == "connected"
    assert body["history"]["chunks"] == 2 and body["history"]["messages"] == 3
    taken = network.poll([unpaired.instance_id], max_events=100)
    network.ack([e["event_id"] for e in taken])
    chunks = [e for e in taken if e["kind"] == "history"]
    assert [c["final"] for c in chunks] == [False, True]
    assert chunks[0]["conversations"][1]["chat_jid"] == "5511988880002@s.whatsapp.net"

    status, again = _post(sandbox, unpaired, "history/redeliver", {"chunk": 1})
    assert status == 202 and again == {"sync_id": body["history"]["sync_id"], "chunk_id": "chunk-1", "final": True}
    [redelivered] = network.poll([unpaired.instance_id], max_events=100)
    assert redelivered["conversations"] == chunks[1]["conversations"]


def test_without_the_setting_the_scan_hands_nothing(sandbox, network, unpaired) -> None:
    status, body = _post(sandbox, unpaired, "scan", {"history": HISTORY})
    assert status == 200 and body["history"]["chunks"] == 0
    status, refused = _post(sandbox, unpaired, "history/redeliver", {})
    assert (status, refused["code"], refused["param"]) == (422, "validation_failed", "chunk")


@pytest.mark.parametrize(
    ("history", "status", "code"),
    [
        ([{"messages": [{"body": "x"}]}], 422, "validation_failed"),  # neither contact nor group
        ([{"contact": "+5511988880001", "group": GROUP, "messages": [{"body": "x"}]}], 422, "validation_failed"),
        ([{"group": GROUP, "messages": [{"body": "who wrote it?"}]}], 422, "validation_failed"),
        ([{"contact": "+5511988880001", "messages": []}], 422, "validation_failed"),
        ([{"contact": "+5511988880001", "messages": [{"body": ""}]}], 422, "validation_failed"),
        ([{"contact": "+5511900000001", "messages": [{"body": "x"}]}], 422, "not_on_whatsapp"),
        ([{"contact": "not a phone", "messages": [{"body": "x"}]}], 422, "validation_failed"),
        (
            [{"contact": "+5511988880001", "messages": [{"body": "x", "wa_message_id": "../.."}]}],
            422,
            "validation_failed",
        ),
        ([{"contact": "+5511988880001", "messages": "x"}], 422, "validation_failed"),
        ("x", 422, "validation_failed"),
        ([{"contact": "+5511988880001", "messages": [{"body": "x"}]}] * 51, 422, "validation_failed"),
    ],
)
def test_hostile_histories_are_refused_in_our_shape_and_pair_nothing(
    sandbox, network, unpaired, history, status, code
) -> None:
    answered, body = _post(sandbox, unpaired, "scan", {"history": history})
    assert (answered, body["code"]) == (status, code), body
    assert body["param"].startswith("history")
    assert network.instance(unpaired.account_id, unpaired.instance_id)["paired"] is False


@pytest.mark.parametrize("body", [{"chunk": -1}, {"chunk": 101}, {"chunk": "0"}, {"chunk": 1.5}, {"other": 1}, []])
def test_hostile_redeliveries_are_refused(sandbox, unpaired, body) -> None:
    status, answer = _post(sandbox, unpaired, "history/redeliver", body)
    assert status == 422 and answer["code"] == "validation_failed", answer
