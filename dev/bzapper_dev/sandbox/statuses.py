"""Status posts ("stories") on the sandbox network: who sees a post, and their receipts.

A mixin of SandboxNetwork (network.py), like groups. A post is a message sent to `status@broadcast`; it reaches
its `audience` (the message content's JIDs) when one is given, else every contact that ever exchanged a
one-to-one message with the posting instance. Each viewer's phone lists it (GET
/sandbox/contacts/{phone}/messages) with `to_jid` `status@broadcast`, and each viewer online sends delivered
and read receipts naming themselves as the participant (WhatsApp reports status views that way).
docs/sandbox.md ("Status posts") describes the behaviour for users.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from bzapper_dev.sandbox.numbers import OFFLINE, InvalidInput, contact_key, kind_of, lid_for, phone_jid

if TYPE_CHECKING:
    from bzapper_dev.sandbox.network import _Device

STATUS_JID = "status@broadcast"


def is_status_broadcast(jid: str) -> bool:
    return jid.strip().lower() == STATUS_JID


class StatusMixin:
    """Status posts of SandboxNetwork (the attributes below are the network's)."""

    if TYPE_CHECKING:
        _group_acks: dict[tuple[str, str, str, str], int]
        _inboxes: dict[tuple[str, str], list[dict[str, Any]]]
        _outboxes: dict[tuple[str, str], list[dict[str, Any]]]
        delivered_after: float
        read_after: float
        time_scale: float

        def _now_ms(self) -> int: ...
        def _resolve(self, contact: str) -> str | None: ...
        def _event(
            self,
            key: tuple[str, str],
            payload: dict[str, Any],
            *,
            due: float | None = None,
            media_id: str | None = None,
        ) -> None: ...

    def _status_viewers(self, key: tuple[str, str], device: _Device, message: dict[str, Any]) -> list[str]:
        """The phones a post reaches, in a stable order (called under the lock)."""
        audience = message.get("audience")
        if audience:
            phones: list[str] = []
            for jid in audience:
                try:
                    phone = self._resolve(contact_key(jid))
                except InvalidInput:
                    phone = None
                if phone is not None and phone != device.phone and phone not in phones:
                    phones.append(phone)  # a JID not on WhatsApp sees nothing, as on WhatsApp
            return phones
        account_id, instance_id = key
        contacts: set[str] = set()
        for (account, phone), items in self._inboxes.items():
            if account == account_id and any(
                item.get("from_instance") == instance_id and not item.get("group_jid") and item["to_jid"] != STATUS_JID
                for item in items
            ):
                contacts.add(phone)
        for (account, phone), items in self._outboxes.items():
            if account == account_id and any(
                item["instance_id"] == instance_id and not item.get("group_jid") for item in items
            ):
                contacts.add(phone)
        contacts.discard(device.phone)
        return sorted(contacts)

    def _post_status(
        self,
        key: tuple[str, str],
        device: _Device,
        wa_message_id: str,
        message: dict[str, Any],
        now: float,
    ) -> dict[str, Any]:
        """One status post to its viewers; receipts per viewer (called under the lock). A repeated wa id (a worker
        that crashed before recording the ack) posts nothing again and repeats the first ack."""
        account_id, instance_id = key
        # Group acks are keyed by the group's JID: status@broadcast never is one, so the two never collide.
        dedupe = (account_id, instance_id, STATUS_JID, wa_message_id)
        first = self._group_acks.get(dedupe)
        if first is not None:
            return {"wa_message_id": wa_message_id, "server_timestamp_ms": first, "duplicate": True}
        server_ts = self._now_ms()
        self._group_acks[dedupe] = server_ts
        shown = {name: value for name, value in message.items() if name != "audience"}  # viewers never see it
        for phone in self._status_viewers(key, device, message):
            self._inboxes.setdefault((account_id, phone), []).append(
                {
                    "wa_message_id": wa_message_id,
                    "instance_id": instance_id,
                    "from_instance": instance_id,
                    "from_phone": device.phone,
                    "to_jid": STATUS_JID,
                    "message": copy.deepcopy(shown),
                    "received_at": server_ts,
                }
            )
            if kind_of(phone) == OFFLINE:
                continue
            for status, after in (("delivered", self.delivered_after), ("read", self.read_after)):
                delay = after * self.time_scale
                payload = {
                    "kind": "receipt",
                    "wa_message_id": wa_message_id,
                    "chat_jid": STATUS_JID,
                    "status": status,
                    "participant": {"jid": phone_jid(phone), "phone": phone, "lid": lid_for(phone)},
                    "at": server_ts + round(delay * 1000),
                }
                self._event(key, payload, due=now + delay)
        return {"wa_message_id": wa_message_id, "server_timestamp_ms": server_ts, "duplicate": False}
