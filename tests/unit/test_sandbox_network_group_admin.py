"""Groups the sandbox network keeps: creation, settings, roles, invite links, joins and leaves, and messages
to a group with a receipt per participant (a fake clock; no sockets)."""

from __future__ import annotations

import pytest
from support.sandbox import FakeClock, drain, fake_network, online

from bzapper_dev.sandbox.groups import derived_group_jid
from bzapper_dev.sandbox.network import InvalidInput, Rejected, SandboxNetwork
from bzapper_dev.sandbox.numbers import lid_for

OWN = "+5511955550001"
OTHER_OWN = "+5511955550002"  # a second instance of the same account
ANA = "+5511988880001"
BIA = "+5511988880002"
CAIO = "+5511988880003"
PRIVATE = "+5511900010001"  # can only be invited
OFFLINE = "+5511900001001"
NOBODY = "+5511900000001"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    network = fake_network(clock)
    online(network, "acc_1", "ins_1", OWN)
    online(network, "acc_1", "ins_2", OTHER_OWN)
    return network


def group_events(events: list[dict]) -> list[tuple[str, str | None]]:
    return [(e["change"], e.get("action")) for e in events if e["kind"] == "group"]


def make(net: SandboxNetwork, *participants: str) -> str:
    created = net.create_group("acc_1", "ins_1", "Orders", list(participants))
    drain(net, "ins_1")
    drain(net, "ins_2")
    return created["group"]["jid"]


def test_create_derives_the_jid_and_answers_per_participant(net: SandboxNetwork) -> None:
    created = net.create_group("acc_1", "ins_1", "Orders", [ANA, "5511988880002@s.whatsapp.net", PRIVATE, NOBODY])

    group = created["group"]
    assert group["jid"] == derived_group_jid("acc_1", OWN, 0)
    assert [(p["phone"], p["lid"], p["role"]) for p in group["participants"]] == [
        (OWN, lid_for(OWN), "superadmin"),
        (ANA, lid_for(ANA), "member"),
        (BIA, lid_for(BIA), "member"),
    ]
    assert [r["status"] for r in created["participants"]] == ["added", "added", "invite_required", "not_on_whatsapp"]
    # The private number got an invite instead, with the group's link.
    invite = net.received("acc_1", PRIVATE)[-1]
    assert invite["group_jid"] == group["jid"]
    assert invite["message"]["invite_link"] == net.invite_link("acc_1", "ins_1", group["jid"])
    # One "joined" event for the creator; the next group of the same creator gets another id.
    assert group_events(drain(net, "ins_1")) == [("joined", None)]
    assert net.create_group("acc_1", "ins_1", "Two", [])["group"]["jid"] == derived_group_jid("acc_1", OWN, 1)


def test_create_checks_the_subject(net: SandboxNetwork) -> None:
    for subject in ("", "   ", "x" * 101):
        with pytest.raises(InvalidInput):
            net.create_group("acc_1", "ins_1", subject, [ANA])


def test_info_and_joined_groups_are_for_members_only(net: SandboxNetwork) -> None:
    jid = make(net, ANA)
    assert net.group_info("acc_1", "ins_1", jid)["subject"] == "Orders"
    assert [g["jid"] for g in net.joined_groups("acc_1", "ins_1")] == [jid]
    assert net.joined_groups("acc_1", "ins_2") == []
    with pytest.raises(Rejected) as refused:
        net.group_info("acc_1", "ins_2", jid)
    assert refused.value.code == "not_a_participant"
    with pytest.raises(Rejected) as unknown:
        net.group_info("acc_1", "ins_1", "120363000000000001@g.us")
    assert unknown.value.code == "group_not_found"
    # Another account's world has no such group.
    online(net, "acc_2", "ins_9", OWN)
    with pytest.raises(Rejected):
        net.group_info("acc_2", "ins_9", jid)


def test_settings_change_once_and_need_an_admin(net: SandboxNetwork) -> None:
    jid = make(net, OTHER_OWN)

    net.update_group("acc_1", "ins_1", jid, {"subject": "Orders 2", "announce": True})
    net.update_group("acc_1", "ins_1", jid, {"subject": "Orders 2"})  # no change: no event
    first, second = drain(net, "ins_1"), drain(net, "ins_2")
    assert group_events(first) == group_events(second) == [("updated", None)]
    assert first[0]["changes"] == {"subject": "Orders 2", "announce": True}
    assert first[0]["by"]["phone"] == OWN

    # A member may edit the description of an unlocked group, not its settings.
    net.update_group("acc_1", "ins_2", jid, {"description": "Team orders"})
    with pytest.raises(Rejected) as refused:
        net.update_group("acc_1", "ins_2", jid, {"locked": True})
    assert refused.value.code == "not_admin"
    net.update_group("acc_1", "ins_1", jid, {"locked": True})
    with pytest.raises(Rejected):
        net.update_group("acc_1", "ins_2", jid, {"description": "mine"})
    with pytest.raises(InvalidInput):
        net.update_group("acc_1", "ins_1", jid, {"colour": "red"})


def test_participants_add_promote_demote_remove(net: SandboxNetwork) -> None:
    jid = make(net, ANA, OTHER_OWN)

    added = net.update_participants("acc_1", "ins_1", jid, "add", [BIA, ANA, PRIVATE])
    assert [r["status"] for r in added] == ["added", "already_participant", "invite_required"]
    promoted = net.update_participants("acc_1", "ins_1", jid, "promote", [OTHER_OWN, CAIO])
    assert [r["status"] for r in promoted] == ["ok", "not_a_participant"]
    # The new admin may now remove someone, but nobody removes the creator.
    removed = net.update_participants("acc_1", "ins_2", jid, "remove", [ANA, OWN])
    assert [r["status"] for r in removed] == ["ok", "not_allowed"]
    net.update_participants("acc_1", "ins_1", jid, "demote", [OTHER_OWN])
    roles = {p["phone"]: p["role"] for p in net.group_info("acc_1", "ins_1", jid)["participants"]}
    assert roles == {OWN: "superadmin", OTHER_OWN: "member", BIA: "member"}
    with pytest.raises(Rejected) as refused:
        net.update_participants("acc_1", "ins_2", jid, "add", [CAIO])
    assert refused.value.code == "not_admin"

    # One event per change and per instance, saying who did it.
    assert group_events(drain(net, "ins_1")) == [
        ("participants_changed", "add"),
        ("participants_changed", "promote"),
        ("participants_changed", "remove"),
        ("participants_changed", "demote"),
    ]
    events = drain(net, "ins_2")
    assert [e["by"]["phone"] for e in events] == [OWN, OWN, OTHER_OWN, OWN]
    assert events[2]["participants"] == [{"jid": "5511988880001@s.whatsapp.net", "phone": ANA, "lid": lid_for(ANA)}]


def test_a_removed_instance_is_told_it_left(net: SandboxNetwork) -> None:
    jid = make(net, OTHER_OWN)
    net.update_participants("acc_1", "ins_1", jid, "remove", [OTHER_OWN])
    (left,) = drain(net, "ins_2")
    assert (left["change"], left["reason"], left["by"]["phone"]) == ("left", "removed", OWN)
    with pytest.raises(Rejected):
        net.group_info("acc_1", "ins_2", jid)


def test_invite_link_rotation_and_joins(net: SandboxNetwork) -> None:
    jid = make(net, ANA)
    link = net.invite_link("acc_1", "ins_1", jid)
    assert link.startswith("https://chat.whatsapp.com/") and len(link.rsplit("/", 1)[1]) == 22
    assert net.invite_link("acc_1", "ins_1", jid) == link

    new = net.invite_link("acc_1", "ins_1", jid, reset=True)
    assert new != link
    assert group_events(drain(net, "ins_1")) == [("updated", None)]
    with pytest.raises(Rejected) as revoked:
        net.join_with_link("acc_1", "ins_2", link)
    assert revoked.value.code == "invite_link_invalid"

    net.contact_join("acc_1", BIA, new)
    assert net.join_with_link("acc_1", "ins_2", new.rsplit("/", 1)[1])["jid"] == jid
    net.join_with_link("acc_1", "ins_2", new)  # already in: nothing happens
    assert group_events(drain(net, "ins_1")) == [("participants_changed", "join"), ("participants_changed", "join")]
    assert group_events(drain(net, "ins_2")) == [("joined", None)]
    with pytest.raises(Rejected):
        net.invite_link("acc_1", "ins_2", jid)  # a member is no admin
    with pytest.raises(InvalidInput):
        net.join_with_link("acc_1", "ins_2", "https://chat.whatsapp.com/not a code")


def test_leaving_hands_admin_on(net: SandboxNetwork) -> None:
    jid = make(net, OTHER_OWN, ANA)
    net.leave_group("acc_1", "ins_1", jid)
    assert group_events(drain(net, "ins_1")) == [("left", None)]
    assert group_events(drain(net, "ins_2")) == [("participants_changed", "leave")]
    roles = {p["phone"]: p["role"] for p in net.group_info("acc_1", "ins_2", jid)["participants"]}
    assert roles == {OTHER_OWN: "admin", ANA: "member"}
    with pytest.raises(Rejected):
        net.leave_group("acc_1", "ins_1", jid)


def test_a_group_message_reaches_every_participant_with_receipts_each(net: SandboxNetwork, clock: FakeClock) -> None:
    jid = make(net, ANA, BIA, OFFLINE)
    message = {"type": "text", "body": "hi all @5511988880001", "mentions": ["5511988880001@s.whatsapp.net"]}
    ack = net.send("acc_1", "ins_1", jid, "3EB0AA", message)
    again = net.send("acc_1", "ins_1", jid, "3EB0AA", message)
    assert (ack["duplicate"], again["duplicate"], again["server_timestamp_ms"]) == (
        False,
        True,
        ack["server_timestamp_ms"],
    )

    for phone in (ANA, BIA, OFFLINE):
        (item,) = net.received("acc_1", phone)
        assert (item["group_jid"], item["from_phone"], item["message"]) == (jid, OWN, message)
    clock.advance(1)
    receipts = drain(net, "ins_1")
    assert sorted((r["participant"]["phone"], r["status"]) for r in receipts) == [
        (ANA, "delivered"),
        (ANA, "read"),
        (BIA, "delivered"),
        (BIA, "read"),
    ]
    assert {r["chat_jid"] for r in receipts} == {jid}


def test_announce_groups_take_messages_from_admins_only(net: SandboxNetwork) -> None:
    jid = make(net, OTHER_OWN)
    net.update_group("acc_1", "ins_1", jid, {"announce": True})
    with pytest.raises(Rejected) as refused:
        net.send("acc_1", "ins_2", jid, "3EB0AB", {"type": "text", "body": "me?"})
    assert refused.value.code == "not_admin"
    with pytest.raises(Rejected) as outsider:
        net.send("acc_1", "ins_1", "120363000000000001@g.us", "3EB0AC", {"type": "text", "body": "?"})
    assert outsider.value.code == "group_not_found"
