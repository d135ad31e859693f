"""History on pairing in the sandbox network (docs/sandbox.md): a scan may describe the phone's earlier
conversations; a device whose session asked for history (settings.history_sync) is handed them as history
chunks after it connects; a chunk can be handed again."""

from __future__ import annotations

import pytest
from support.sandbox import FakeClock, drain, fake_network

from bzapper_dev.sandbox.network import InvalidInput, Rejected, SandboxNetwork

GROUP = "120363025246125888@g.us"
HISTORY = [
    {
        "contact": "+5511988880001",
        "messages": [{"body": "Hi", "wa_message_id": "OLD1"}, {"body": "Yo", "from_me": True}],
    },
    {"contact": "+5511988880002", "messages": [{"body": "Price?"}]},
    {"group": GROUP, "group_name": "Orders", "messages": [{"from": "+5511988880003", "body": "Shipped"}]},
]


@pytest.fixture
def net() -> SandboxNetwork:
    return fake_network(FakeClock())


def _pair(net: SandboxNetwork, history_sync: bool, history=HISTORY) -> dict:
    net.connect("acc_1", "ins_1")
    net.configure("acc_1", "ins_1", {"history_sync": history_sync})
    return net.scan("acc_1", "ins_1", history=history)


def test_a_device_that_asked_for_history_is_handed_it_in_chunks_after_it_connects(net: SandboxNetwork) -> None:
    state = _pair(net, True)

    assert state["history"]["chunks"] == 2
    assert (state["history"]["conversations"], state["history"]["messages"]) == (3, 4)
    events = drain(net, "ins_1")
    kinds = [e["kind"] for e in events]
    assert kinds[-3:] == ["state", "history", "history"] and events[-3]["state"] == "connected"
    first, last = events[-2:]
    assert (first["final"], last["final"]) == (False, True)
    assert first["sync_id"] == last["sync_id"] == state["history"]["sync_id"]
    one = first["conversations"][0]
    assert one["chat_jid"] == "5511988880001@s.whatsapp.net"
    assert next(m["wa_message_id"] for m in one["messages"]) == "OLD1"
    assert one["messages"][1]["from_me"] is True and one["messages"][1]["sender"]["phone"] == state["phone"]
    group = last["conversations"][0]
    assert (group["chat_jid"], group["chat_name"]) == (GROUP, "Orders")
    assert group["messages"][0]["sender"]["phone"] == "+5511988880003"
    assert all(m["at"] < last["at"] for c in first["conversations"] for m in c["messages"])  # older than the pairing


def test_without_history_sync_nothing_is_handed(net: SandboxNetwork) -> None:
    state = _pair(net, False)
    assert state["history"] == {"sync_id": None, "chunks": 0, "conversations": 0, "messages": 0}
    assert [e["kind"] for e in drain(net, "ins_1")] == ["state", "state"]


def test_a_chunk_can_be_handed_again_the_same(net: SandboxNetwork) -> None:
    _pair(net, True)
    first = next(e for e in drain(net, "ins_1") if e["kind"] == "history")
    handed = net.redeliver_history("acc_1", "ins_1", 0)
    assert handed == {"sync_id": first["sync_id"], "chunk_id": "chunk-0", "final": False}
    [again] = drain(net, "ins_1")
    assert {k: v for k, v in again.items() if k != "event_id"} == {k: v for k, v in first.items() if k != "event_id"}
    with pytest.raises(Rejected):
        net.redeliver_history("acc_1", "ins_1", 5)


def test_a_bad_history_pairs_nothing(net: SandboxNetwork) -> None:
    net.connect("acc_1", "ins_1")
    with pytest.raises(InvalidInput):
        net.scan("acc_1", "ins_1", history=[{"contact": "+5511988880001", "messages": []}])
    with pytest.raises(Rejected) as refused:
        net.scan("acc_1", "ins_1", history=[{"contact": "+5511000000000", "messages": [{"body": "x"}]}])
    assert refused.value.code == "history_not_on_whatsapp"
    assert net.instance("acc_1", "ins_1")["paired"] is False
