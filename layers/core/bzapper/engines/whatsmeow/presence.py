"""neonize's presences and blocklist as the engine port's plain dicts (docs/presence.md). Pure functions over
neonize's protos and enums: tested offline."""

from __future__ import annotations

from typing import Any

from bzapper.engines.whatsmeow import jids, lib

# Our chat states as whatsmeow's (state, media): "recording audio…" is composing with audio media.
CHAT_STATES = {
    "composing": ("CHAT_PRESENCE_COMPOSING", "CHAT_PRESENCE_MEDIA_TEXT"),
    "recording": ("CHAT_PRESENCE_COMPOSING", "CHAT_PRESENCE_MEDIA_AUDIO"),
    "paused": ("CHAT_PRESENCE_PAUSED", "CHAT_PRESENCE_MEDIA_TEXT"),
}


def chat_presence_args(state: str) -> tuple[Any, Any]:
    """(ChatPresence, ChatPresenceMedia) for send_chat_presence."""
    presence, media = CHAT_STATES[state]
    return lib.ChatPresence[presence], lib.ChatPresenceMedia[media]


def own_presence(state: str) -> Any:
    return lib.Presence.AVAILABLE if state == "available" else lib.Presence.UNAVAILABLE


def blocklist_action(action: str) -> Any:
    return lib.BlocklistAction.BLOCK if action == "block" else lib.BlocklistAction.UNBLOCK


def person(jid: str, alt: str = "") -> dict[str, Any]:
    """{jid, phone, lid} of a JID string and its alternate (the same person's other JID), when either says so."""
    found: dict[str, Any] = {"jid": jid, "phone": None, "lid": None}
    for value in (jid, alt):
        if jids.is_lid(value):
            found["lid"] = value
        elif phone := jids.phone_of(value):
            found["phone"] = phone
    return found


def blocklist(answer: Any) -> list[dict[str, Any]]:
    """whatsmeow's Blocklist: the blocked contacts, as persons."""
    return [person(text) for text in (jids.to_str(jid) for jid in answer.JIDs) if text]


def _ms(value: int, now_ms: int) -> int | None:
    if not value or value < 0:
        return None
    return int(value) * 1000 if value < 10**11 else int(value)  # seconds (Go's Unix()) or already ms


def presence_event(instance_id: str, event: Any, now_ms: int) -> dict[str, Any] | None:
    """PresenceEv: a contact online or not (with its last seen when its privacy shows it)."""
    who = jids.to_str(event.From)
    if not who or jids.server_of(who) not in (jids.PHONE_SERVER, jids.LID_SERVER):
        return None
    found: dict[str, Any] = {
        "kind": "presence",
        "instance_id": instance_id,
        "from": person(who),
        "state": "unavailable" if event.Unavailable else "available",
        "at": now_ms,
    }
    last_seen = _ms(int(event.LastSeen), now_ms)
    if last_seen is not None:
        found["last_seen"] = last_seen
    return found


def chat_presence_event(instance_id: str, event: Any, own: frozenset[str], now_ms: int) -> dict[str, Any] | None:
    """ChatPresenceEv: a contact typing, recording audio or stopped, in its chat with us or in a group."""
    source = event.MessageSource
    sender, alt, chat = jids.to_str(source.Sender), jids.to_str(source.SenderAlt), jids.to_str(source.Chat)
    if not sender or source.IsFromMe or sender in own:
        return None  # our own typing, echoed from another device
    pb = lib.neonize_pb2.ChatPresence
    if event.State == pb.COMPOSING:
        state = "recording" if event.Media == pb.AUDIO else "composing"
    elif event.State == pb.PAUSED:
        state = "paused"
    else:
        return None
    found: dict[str, Any] = {
        "kind": "presence",
        "instance_id": instance_id,
        "from": person(sender, alt),
        "state": state,
        "at": now_ms,
    }
    if jids.server_of(chat) == jids.GROUP_SERVER:
        found["chat_jid"] = chat
    return found
