"""JIDs: the strings the engine port speaks ("5511988887777@s.whatsapp.net", "123@lid") and neonize's JID proto."""

from __future__ import annotations

from bzapper.engines.whatsmeow.lib import JID

PHONE_SERVER = "s.whatsapp.net"
LID_SERVER = "lid"
GROUP_SERVER = "g.us"
# Chats that are not conversations with a person or a group: statuses, newsletters, broadcast lists.
IGNORED_SERVERS = frozenset({"broadcast", "newsletter"})


def to_proto(jid: str) -> JID:
    """A JID string as neonize's proto. Device and agent suffixes ("user.1:2@server") are kept."""
    user, _, server = jid.partition("@")
    agent = device = 0
    if ":" in user:
        user, _, device_text = user.partition(":")
        device = int(device_text)
    if "." in user:
        user, _, agent_text = user.partition(".")
        agent = int(agent_text)
    return JID(User=user, Server=server, Device=device, RawAgent=agent, Integrator=0, IsEmpty=False)


def to_str(jid: JID) -> str:
    """The user-level JID string (device and agent dropped), "" for an empty JID."""
    if jid.IsEmpty or not jid.Server:
        return ""
    return f"{jid.User}@{jid.Server}" if jid.User else jid.Server


def phone_jid(e164: str) -> str:
    return f"{e164.lstrip('+')}@{PHONE_SERVER}"


def phone_of(jid: str) -> str | None:
    """E.164 ("+5511...") of a phone-number JID, else None."""
    user, _, server = jid.partition("@")
    return f"+{user}" if server == PHONE_SERVER and user.isdigit() else None


def is_lid(jid: str) -> bool:
    return jid.endswith("@" + LID_SERVER)


def is_phone(jid: str) -> bool:
    return phone_of(jid) is not None


def server_of(jid: str) -> str:
    return jid.partition("@")[2]


def pair(first: str, second: str) -> tuple[str, str] | None:
    """(phone E.164, lid JID) when one of two JIDs of the same person is a phone JID and the other a LID."""
    for a, b in ((first, second), (second, first)):
        phone = phone_of(a)
        if phone and is_lid(b):
            return phone, b
    return None
