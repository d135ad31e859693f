"""What a WhatsApp engine reports and raises: the records of the engine port (bzapper.ports.engine).

An engine hosts the sessions (connected numbers) of one child process of a session worker. The child
serializes every call into it (neonize aborts the whole process on concurrent lifecycle calls), so an
engine need not be thread-safe across its public methods, except that `emit` may be called from any
thread the engine owns (whatsmeow's callbacks).

Everything an engine reports is an *engine event*: a JSON-serializable dict (it crosses a process pipe),
one of the shapes below. `at` is milliseconds since the epoch. Events with an `ack` key are delivered
at least once: the worker calls `Engine.ack([...])` with those values once the event is safely reported,
and an unacked event comes back after a crash (the sandbox network keeps it; whatsmeow acks to WhatsApp
itself, so its events carry no `ack`).

    {"kind": "state", "instance_id", "state", "at", "qr"?, "phone"?, "lid"?, "push_name"?, "error"?, "until"?}
        state is one of INSTANCE_STATES; `qr` (the string to render) comes with state "pairing";
        `error` is a stable code (e.g. "account_restricted", "reach_out_restricted" for a 463 on a send,
        "stream_replaced", "passkey_required"); `until` (ms) when a "restricted" state is known to lift.
    {"kind": "receipt", "instance_id", "wa_message_id", "chat_jid", "status", "at", "participant"?, "ack"?}
        status is "delivered", "read" or "played", about a message this instance sent; in a group,
        `participant` = {"jid", "phone"?, "lid"?} is the participant whose phone reported it.
    {"kind": "inbound", "instance_id", "wa_message_id", "chat_jid", "from_me", "sender", "type",
     "content", "at", "media_path"?, "chat_name"?, "ack"?}
        every message that arrives, including fromMe echoes of what the phone itself sent;
        sender = {"jid", "phone"?, "lid"?, "push_name"?}; `type`/`content` follow bzapper.domain.content;
        in a group, chat_jid is the group's `@g.us` JID, sender the participant who wrote, and `chat_name`
        the group's subject when the engine knows it (the sandbox reports it; whatsmeow does not);
        `media_path` is a local temp file with the downloaded media (the worker stores it and deletes it).
    {"kind": "identity", "instance_id", "phone", "lid", "at"}
        a LID <-> phone mapping learned from any source.
    {"kind": "call", "instance_id", "call_id", "phase", "from", "at", "is_video"?, "rejected"?,
     "duration_s"?, "reason"?, "ack"?}
        phase is "offer" (an incoming call) or "ended"; from = {"jid", "phone"?, "lid"?};
        `rejected` (offer): the engine rejected it by `settings.reject_calls` before reporting it;
        `duration_s`/`reason` (ended) where the engine knows them.
    {"kind": "group", "instance_id", "change", "group_jid", "by", "at", "group"?, "changes"?, "action"?,
     "participants"?, "reason"?, "ack"?}
        a change of a group this number is in (reported by the worker as group.* events):
        change is joined | left | updated | participants_changed; `by` = {"jid", "phone"?, "lid"?} or None.
    {"kind": "presence", "instance_id", "from", "state", "at", "chat_jid"?, "last_seen"?, "ack"?}
        a contact's presence (docs/presence.md): state is "available" | "unavailable" (the contact's own
        presence; `last_seen` in ms when WhatsApp tells it) or "composing" | "recording" | "paused" (typing
        or recording in a chat with this number; `chat_jid` is the group's JID when it happens in a group);
        from = {"jid", "phone"?, "lid"?}. The worker reports them only with `settings.presence_events`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INSTANCE_STATES = ("disconnected", "pairing", "connected", "logged_out", "restricted", "failed", "passkey_required")

EngineEvent = dict[str, Any]
EventSink = Callable[[EngineEvent], None]


@dataclass(frozen=True, slots=True)
class ServerAck:
    wa_message_id: str
    server_timestamp_ms: int


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What an engine needs to open one instance's session."""

    instance_id: str
    account_id: str
    livemode: bool
    phone: str | None = None
    """The number last connected on this instance (E.164), if any."""
    settings: dict[str, Any] | None = None
    """InstanceSettings.for_engine() (bzapper.domain.instance_settings): what the session applies itself
    (always_online, proxy_url with its sealed proxy_secret, reject_calls). None: the defaults."""


class PermanentFailure(Exception):
    """The message can never be sent (e.g. `not_on_whatsapp`): it fails, and is refunded."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class NotConnected(Exception):
    """The instance has no usable connection right now (disconnected, restricted, pairing, not open).

    A send that raises this is held, not failed: the job stays in its queue and is tried again later.
    """

    def __init__(self, state: str = "disconnected") -> None:
        super().__init__(state)
        self.state = state


GROUP_METHODS = (
    "create_group",
    "group_info",
    "joined_groups",
    "update_group",
    "update_group_participants",
    "group_invite_link",
    "join_group",
    "leave_group",
)
"""The engine's group methods (ports/engine.py), asked through the control queue under the same names."""


CONTACT_METHODS = ("send_chat_presence", "send_presence", "get_blocklist", "update_blocklist")
"""The engine's presence and blocklist methods (ports/engine.py), asked through the control queue under the
same names (docs/presence.md)."""

CHAT_PRESENCE_STATES = ("composing", "recording", "paused")
OWN_PRESENCE_STATES = ("available", "unavailable")
PRESENCE_STATES = (*OWN_PRESENCE_STATES, *CHAT_PRESENCE_STATES)
PROFILE_METHODS = ("own_profile", "update_profile", "contact_profile")
"""The engine's profile questions (ports/engine.py), asked through the control queue under the same names; the
worker stores the pictures they name with the engine's `profile_picture` (bzapper.services.profiles)."""
