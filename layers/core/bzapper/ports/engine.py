"""The engine port: what a session worker needs from a WhatsApp implementation (sandbox, whatsmeow).

The events an engine emits and the errors it raises are described in bzapper.domain.engine.
"""

from __future__ import annotations

from typing import Any, Protocol

from bzapper.domain.engine import EventSink, ServerAck, SessionSpec


class Engine(Protocol):
    name: str

    def open(self, spec: SessionSpec, emit: EventSink) -> None:
        """Start the session: restore the stored one, else begin pairing (emits "pairing" with a QR).

        Returns quickly; the outcome arrives as state events through `emit`. Opening an open session is a no-op.
        """
        ...

    def close(self, instance_id: str) -> None:
        """Disconnect, keeping the session for the next open (lease handed over, shutdown)."""
        ...

    def logout(self, instance_id: str) -> None:
        """Unlink the device and forget the session; emits state "logged_out"."""
        ...

    def pairing_code(self, instance_id: str, phone: str) -> str:
        """Pair by phone number instead of QR: the 8-character code the user types on the phone."""
        ...

    def send(self, instance_id: str, job: dict[str, Any]) -> ServerAck:
        """Send one job (bzapper.domain.model.OutboundMessage.job()).

        Raises PermanentFailure (fails the message), NotConnected (held), anything else (retried).
        """
        ...

    def check_numbers(self, instance_id: str, inputs: list[str]) -> list[dict[str, Any]]:
        """One `{input, exists, phone, jid, lid}` per input (E.164 or JID, `@lid` included), in order."""
        ...

    def mark_read(
        self, instance_id: str, chat_jid: str, wa_message_ids: list[str], sender_jid: str | None = None
    ) -> None:
        """Send read receipts for these received messages. In a group (`…@g.us`) `sender_jid` is the
        participant who wrote them (WhatsApp names a group message by chat, sender and id); None in a 1:1 chat."""
        ...

    def apply_settings(self, instance_id: str, settings: dict[str, Any]) -> None:
        """The instance's settings changed (SessionSpec.settings' shape): the open session applies what is
        its own (always_online: presence; proxy_url: reconnect through it; reject_calls: at the next call).
        Raises PermanentFailure("not_supported") for a setting this engine cannot apply."""
        ...

    # -- groups (docs/groups.md). Refusals raise PermanentFailure with a stable code: group_not_found,
    # not_a_participant, not_admin, invite_link_invalid, not_supported (what the engine cannot do). A group is
    # {jid, subject, description, announce, locked, picture, owner, created_at, participants: [{jid, phone, lid,
    # role}]}; a participant result is {input, jid?, phone?, lid?, status}.

    def create_group(self, instance_id: str, subject: str, participants: list[str]) -> dict[str, Any]:
        """A new group with this number as its creator: `{"group", "participants": results}`."""
        ...

    def group_info(self, instance_id: str, group_jid: str) -> dict[str, Any]: ...

    def joined_groups(self, instance_id: str) -> list[dict[str, Any]]: ...

    def update_group(self, instance_id: str, group_jid: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set any of subject, description, picture (a media id), announce, locked; the group after it."""
        ...

    def update_group_participants(
        self, instance_id: str, group_jid: str, action: str, participants: list[str]
    ) -> list[dict[str, Any]]:
        """add | remove | promote | demote: a result per participant."""
        ...

    def group_invite_link(self, instance_id: str, group_jid: str, reset: bool = False) -> str:
        """The invite link; `reset` revokes the current one and answers the new one."""
        ...

    def join_group(self, instance_id: str, invite_link: str) -> dict[str, Any]: ...

    def leave_group(self, instance_id: str, group_jid: str) -> None: ...

    # -- presence and the blocklist (docs/presence.md). Refusals raise PermanentFailure with a stable code:
    # invalid_input, not_supported (what the engine cannot do). A person is {jid, phone, lid}.

    def send_chat_presence(self, instance_id: str, chat_jid: str, state: str) -> None:
        """Show "typing…" (composing), "recording audio…" (recording) or stop (paused) in a chat: a contact's
        JID (phone or LID) or a group's."""
        ...

    def send_presence(self, instance_id: str, state: str) -> None:
        """The number's own presence: available | unavailable."""
        ...

    def get_blocklist(self, instance_id: str) -> list[dict[str, Any]]:
        """The contacts this number blocks."""
        ...

    def update_blocklist(self, instance_id: str, jid: str, action: str) -> dict[str, Any]:
        """block | unblock a contact (a phone or LID JID); idempotent. The contact as {jid, phone, lid,
        blocked} after it."""
        ...

    # -- profiles (docs/profiles.md). A picture is named, not carried: {"id": WhatsApp's picture id, "url"?};
    # the worker stores its bytes once per id through `profile_picture`. Refusals: not_on_whatsapp (a contact
    # WhatsApp does not know), invalid_input, not_supported (what the engine cannot do).

    def own_profile(self, instance_id: str) -> dict[str, Any]:
        """The number's own profile: {jid, phone, lid, push_name, about, business, picture}."""
        ...

    def update_profile(self, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set any of push_name, about, picture (a stored media dict, or None to remove it); the profile after."""
        ...

    def contact_profile(self, instance_id: str, jid: str) -> dict[str, Any]:
        """A contact's profile as this number sees it: {jid, phone, lid, name, about, business, verified_name,
        picture}; `jid` is a phone JID or an `@lid`."""
        ...

    def profile_picture(self, instance_id: str, jid: str, picture: dict[str, Any]) -> str:
        """The bytes of a picture a profile named, in a local temp file (the worker stores it, then deletes it)."""
        ...

    def pump(self, wait_seconds: float) -> None:
        """Deliver pending events of the open sessions through their sinks, waiting up to wait_seconds.

        Engines that poll (the sandbox) fetch here; engines driven by callbacks just wait.
        """
        ...

    def ack(self, acks: list[Any]) -> None:
        """The events carrying these `ack` values are reported: never deliver them again."""
        ...

    def shutdown(self) -> None:
        """Close every session (keeping them) and release the engine's resources."""
        ...
