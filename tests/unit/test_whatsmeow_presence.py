"""The whatsmeow engine's presence and blocklist against the fake neonize client of test_whatsmeow_engine.py: the
calls made into neonize, and neonize's PresenceEv / ChatPresenceEv as the engine's `presence` events (only with
settings.presence_events), offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_whatsmeow_engine import GROUP, INSTANCE, OWN_LID, PEER, PEER_LID, Harness, message_event

from bzapper.domain.engine import PermanentFailure
from bzapper.engines.whatsmeow import jids, lib
from bzapper.engines.whatsmeow.lib import e2e
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path)
    harness.connect()
    return harness


def _calls(h: Harness, name: str) -> list[tuple]:
    return [call for call in h.client.__dict__.get("group_calls", []) if call[0] == name]


def test_chat_presence_maps_recording_to_composing_with_audio(h):
    h.engine.send_chat_presence(INSTANCE, PEER, "composing")
    h.engine.send_chat_presence(INSTANCE, PEER_LID, "recording")
    h.engine.send_chat_presence(INSTANCE, GROUP, "paused")
    assert _calls(h, "send_chat_presence") == [
        ("send_chat_presence", PEER, "CHAT_PRESENCE_COMPOSING", "CHAT_PRESENCE_MEDIA_TEXT"),
        ("send_chat_presence", PEER_LID, "CHAT_PRESENCE_COMPOSING", "CHAT_PRESENCE_MEDIA_AUDIO"),
        ("send_chat_presence", GROUP, "CHAT_PRESENCE_PAUSED", "CHAT_PRESENCE_MEDIA_TEXT"),
    ]
    assert _calls(h, "subscribe_presence") == []  # presence_events off: nothing subscribed
    with pytest.raises(PermanentFailure):
        h.engine.send_chat_presence(INSTANCE, PEER, "available")


def test_own_presence_and_the_blocklist(h):
    h.engine.send_presence(INSTANCE, "available")
    h.engine.send_presence(INSTANCE, "unavailable")
    assert _calls(h, "send_presence") == [("send_presence", "AVAILABLE"), ("send_presence", "UNAVAILABLE")]

    blocked = h.engine.update_blocklist(INSTANCE, PEER, "block")
    assert blocked == {"jid": PEER, "phone": "+5511988887777", "lid": PEER_LID, "blocked": True}
    h.engine.update_blocklist(INSTANCE, PEER, "block")  # again: the same state
    assert h.engine.get_blocklist(INSTANCE) == [{"jid": PEER, "phone": "+5511988887777", "lid": None}]
    assert h.engine.update_blocklist(INSTANCE, PEER, "unblock")["blocked"] is False
    assert h.engine.get_blocklist(INSTANCE) == []
    assert [c[2] for c in _calls(h, "update_blocklist")] == ["block", "block", "unblock"]
    with pytest.raises(PermanentFailure) as refused:
        h.engine.update_blocklist(INSTANCE, GROUP, "block")
    assert refused.value.code == "invalid_input"


def _presence(who: str, *, unavailable: bool = False, last_seen: int = 0) -> pb.Presence:
    return pb.Presence(From=jids.to_proto(who), Unavailable=unavailable, LastSeen=last_seen)


def _chat_presence(sender: str, chat: str, state: int, media: int, alt: str = "") -> pb.ChatPresence:
    source = pb.MessageSource(Chat=jids.to_proto(chat), Sender=jids.to_proto(sender))
    if alt:
        source.SenderAlt.CopyFrom(jids.to_proto(alt))
    return pb.ChatPresence(MessageSource=source, State=state, Media=media)


def test_presence_events_are_dropped_unless_asked_for(h):
    h.event(lib.PRESENCE, _presence(PEER))
    h.event(lib.CHAT_PRESENCE, _chat_presence(PEER, PEER, pb.ChatPresence.COMPOSING, pb.ChatPresence.TEXT))
    assert [e for e in h.events if e["kind"] == "presence"] == []


def test_neonize_presences_become_presence_events(h):
    h.engine.apply_settings(INSTANCE, {"presence_events": True})
    h.event(lib.PRESENCE, _presence(PEER))
    h.event(lib.PRESENCE, _presence(PEER_LID, unavailable=True, last_seen=1_699_999_000))
    chat = pb.ChatPresence
    h.event(lib.CHAT_PRESENCE, _chat_presence(PEER, PEER, chat.COMPOSING, chat.TEXT))
    h.event(lib.CHAT_PRESENCE, _chat_presence(PEER_LID, GROUP, chat.COMPOSING, chat.AUDIO, alt=PEER))
    h.event(lib.CHAT_PRESENCE, _chat_presence(PEER, PEER, chat.PAUSED, chat.TEXT))
    h.event(lib.CHAT_PRESENCE, _chat_presence(OWN_LID, GROUP, chat.COMPOSING, chat.TEXT))  # our own: never
    found = [e for e in h.events if e["kind"] == "presence"]
    assert [(e["state"], e["from"]["jid"], e.get("chat_jid"), e.get("last_seen")) for e in found] == [
        ("available", PEER, None, None),
        ("unavailable", PEER_LID, None, 1_699_999_000_000),
        ("composing", PEER, None, None),
        ("recording", PEER_LID, GROUP, None),
        ("paused", PEER, None, None),
    ]
    assert found[3]["from"] == {"jid": PEER_LID, "phone": "+5511988887777", "lid": PEER_LID}
    assert all(e["instance_id"] == INSTANCE and e["at"] == 1_700_000_000_000 for e in found)


def test_contacts_who_write_or_are_typed_to_are_subscribed_once_per_connection(h):
    h.event(lib.MESSAGE, message_event(e2e.Message(conversation="oi")))
    assert _calls(h, "subscribe_presence") == []  # presence_events off

    h.engine.apply_settings(INSTANCE, {"presence_events": True})
    h.event(lib.MESSAGE, message_event(e2e.Message(conversation="again")))
    h.event(lib.MESSAGE, message_event(e2e.Message(conversation="and again")))
    h.engine.send_chat_presence(INSTANCE, PEER_LID, "composing")
    h.engine.send_chat_presence(INSTANCE, GROUP, "composing")  # a group has no presence of its own
    assert _calls(h, "subscribe_presence") == [("subscribe_presence", PEER), ("subscribe_presence", PEER_LID)]

    h.event(lib.CONNECTED, pb.Connected(status=True))  # a reconnection forgets the subscriptions
    h.event(lib.MESSAGE, message_event(e2e.Message(conversation="back")))
    assert _calls(h, "subscribe_presence")[-1] == ("subscribe_presence", PEER)
    assert len(_calls(h, "subscribe_presence")) == 3
