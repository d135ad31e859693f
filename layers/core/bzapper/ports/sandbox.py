"""The sandbox world: what a tester does on the other side of the simulated WhatsApp network."""

from __future__ import annotations

from typing import Any, Protocol


class SandboxWorld(Protocol):
    """What a tester does on the other side of the simulated WhatsApp (test mode only).

    Refusals raise SandboxRefused, an unreachable network SandboxUnavailable, and an instance with no open
    socket `bzapper.domain.engine.NotConnected`.
    """

    @property
    def enabled(self) -> bool:
        """False when this deployment has no sandbox network (then every call is refused as not supported)."""
        ...

    def received(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        """What `contact` (E.164 or a JID) received from the account's instances, oldest first."""
        ...

    def contact_join(self, account_id: str, contact: str, invite_link: str) -> dict[str, Any]:
        """A simulated contact joins a group of the account's numbers by its invite link; returns the group.
        An unknown or revoked link is refused `invite_link_invalid`."""
        ...

    def scan(
        self,
        account_id: str,
        instance_id: str,
        phone: str | None = None,
        *,
        code: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A phone scans the instance's QR (or confirms its pairing `code`); returns the instance's state, with
        `history` ({sync_id, chunks, conversations, messages}): what the phone handed the newly paired device."""
        ...

    def redeliver_history(self, account_id: str, instance_id: str, chunk: int = 0) -> dict[str, Any]:
        """The network hands chunk `chunk` of the pairing's history again ({sync_id, chunk_id, final}); none such:
        SandboxRefused("no_history")."""
        ...

    def inject_inbound(
        self,
        account_id: str,
        instance_id: str,
        sender: str,
        message_type: str,
        content: dict[str, Any],
        *,
        from_me: bool = False,
        push_name: str | None = None,
        wa_message_id: str | None = None,
        group: str | None = None,
        group_name: str | None = None,
    ) -> str:
        """A contact writes to the instance, or in a `group` (a `@g.us` JID) as a participant; returns the
        WhatsApp message id."""
        ...

    def cloud_inbound(
        self, phone_number_id: str, sender: str, message_type: str, content: dict[str, Any], push_name: str | None
    ) -> str:
        """A simulated contact (`sender`, E.164) writes to a test-mode Cloud API number through the simulated
        Graph API (which sends Meta's signed webhook to our /cloud/webhook); returns Meta's message id if told."""
        ...

    def call(self, account_id: str, instance_id: str, caller: str, *, video: bool = False) -> dict[str, Any]:
        """A contact (E.164 or JID) calls the instance's number; returns the call's record ({call_id, ...})."""
        ...

    def contact_presence(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        """What `contact` saw of the account's numbers: per number {instance_id, blocked, online, online_at,
        chat_state, chat_jid, chat_state_at} (times in ms)."""
        ...

    def show_presence(
        self, account_id: str, instance_id: str, contact: str, state: str, chat: str | None = None
    ) -> dict[str, Any]:
        """A contact shows its presence to the instance (online, typing…, in a `chat` group); {delivered, at}."""
        ...

    def contact_profile(self, account_id: str, contact: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
        """What every user sees of `contact` (a simulated contact, or one of the account's numbers): {jid, phone,
        lid, name, about, business, verified_name, picture: {id} | None}; `changes` first sets what a simulated
        contact shows (name, about, business, picture: true for a new generated one, false for none)."""
        ...
