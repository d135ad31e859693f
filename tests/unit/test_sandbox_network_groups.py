"""Groups in the sandbox network: a participant writes in a group the instance is in, the instance's own
phone writes there, and read receipts in a group name the participant (no sockets)."""

from __future__ import annotations

import pytest
from support.sandbox import FakeClock, InProcessClient, drain, fake_network, online

from bzapper.domain.engine import SessionSpec
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper_dev.sandbox.network import InvalidInput, Rejected, SandboxNetwork
from bzapper_dev.sandbox.numbers import lid_for

OWN = "+5511955550001"
PHONE = "+5511988888888"
JID = "5511988888888@s.whatsapp.net"
HIDDEN = "+5511900006001"  # a contact whose number hides behind its LID (the unmapped-LID range)
GROUP = "120363025246125888@g.us"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    network = fake_network(clock)
    online(network, "acc_1", "ins_1", OWN)
    return network


def test_a_participant_writes_in_a_group(net: SandboxNetwork) -> None:
    wa_id = net.inject_inbound(
        "acc_1", "ins_1", PHONE, "text", {"body": "oi"}, push_name="Ana", group=GROUP, group_name="Orders"
    )
    hidden_id = net.inject_inbound("acc_1", "ins_1", HIDDEN, "text", {"body": "eu"}, group=GROUP)

    first, second = drain(net, "ins_1")
    assert (first["wa_message_id"], first["chat_jid"], first["chat_name"], first["from_me"]) == (
        wa_id,
        GROUP,
        "Orders",
        False,
    )
    assert first["sender"] == {"jid": JID, "phone": PHONE, "lid": lid_for(PHONE), "push_name": "Ana"}
    # A participant whose number the device does not know writes as its LID, as in a one-to-one chat.
    assert (second["wa_message_id"], second["chat_jid"], "chat_name" in second) == (hidden_id, GROUP, False)
    assert second["sender"]["jid"] == lid_for(HIDDEN) and "phone" not in second["sender"]
    assert [m["group_jid"] for m in net.sent_by("acc_1", PHONE)] == [GROUP]


def test_the_instances_own_phone_writes_in_a_group(net: SandboxNetwork) -> None:
    net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "from my phone"}, from_me=True, group=GROUP)
    [event] = drain(net, "ins_1")
    assert (event["chat_jid"], event["from_me"], event["sender"]["phone"]) == (GROUP, True, OWN)
    assert net.sent_by("acc_1", PHONE) == []  # the participant did not write it


def test_a_group_needs_a_group_jid_and_a_participant_on_whatsapp(net: SandboxNetwork) -> None:
    for bad in ("12ab@g.us", JID, "status@broadcast"):
        with pytest.raises(InvalidInput):
            net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "x"}, group=bad)
    with pytest.raises(Rejected):
        net.inject_inbound("acc_1", "ins_1", "+5511900000001", "text", {"body": "x"}, group=GROUP)
    assert drain(net, "ins_1") == []


def test_a_group_read_receipt_names_the_participant(net: SandboxNetwork, clock: FakeClock) -> None:
    in_group = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "1"}, group=GROUP)
    direct = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "2"})
    clock.advance(1)

    net.mark_read("acc_1", "ins_1", GROUP, [in_group, direct])  # no participant: WhatsApp reads nobody's
    assert [m["read_at"] for m in net.sent_by("acc_1", PHONE)] == [None, None]
    net.mark_read("acc_1", "ins_1", GROUP, [in_group, direct], sender_jid=JID)
    # Only the message written in that group is read: a receipt in one chat says nothing of another.
    assert [m["read_at"] for m in net.sent_by("acc_1", PHONE)] == [clock.wall_ms, None]
    assert net.reads("acc_1", "ins_1")[-1] == {
        "chat_jid": GROUP,
        "wa_message_ids": [in_group, direct],
        "sender_jid": JID,
        "at": clock.wall_ms,
    }


def test_a_participant_named_by_its_lid_is_read_too(net: SandboxNetwork) -> None:
    wa_id = net.inject_inbound("acc_1", "ins_1", HIDDEN, "text", {"body": "x"}, group=GROUP)
    net.mark_read("acc_1", "ins_1", GROUP, [wa_id], sender_jid=lid_for(HIDDEN))
    assert net.sent_by("acc_1", HIDDEN)[0]["read_at"] is not None


def test_the_engine_passes_the_participant(net: SandboxNetwork) -> None:
    engine = SandboxEngine("http://unused", client=InProcessClient(net))  # type: ignore[arg-type]
    engine.open(SessionSpec("ins_1", "acc_1", False), lambda event: None)
    wa_id = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "x"}, group=GROUP)
    engine.mark_read("ins_1", GROUP, [wa_id], sender_jid=JID)
    assert net.sent_by("acc_1", PHONE)[0]["read_at"] is not None
