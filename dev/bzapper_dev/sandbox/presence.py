"""Presence and blocking on the sandbox network: what each simulated contact saw of our numbers, and whom they block.

A mixin of SandboxNetwork (network.py): it shares the network's lock, clock, instances and event queue. A number's
"typing…" (composing, recording, paused) is seen by the contact of a 1:1 chat, or by every other participant of a
group; its own presence (available, unavailable) by every contact it does not block. A contact the number blocks
sees none of it, and its messages to the number never arrive (the sender's phone shows one tick, as on WhatsApp);
in a group they still do. A contact shows its presence to a number with `show_presence` (a test control): a
`presence` event for that instance, which the worker reports only with `settings.presence_events` on.
docs/sandbox.md ("Presence and blocking") describes the behaviour for users.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from bzapper.domain.engine import CHAT_PRESENCE_STATES, OWN_PRESENCE_STATES, PRESENCE_STATES, NotConnected
from bzapper_dev.sandbox.numbers import InvalidInput, contact_key, group_jid, is_group

if TYPE_CHECKING:
    import threading

    from bzapper_dev.sandbox.groups import _Group
    from bzapper_dev.sandbox.network import _Device, _Instance

BLOCK_ACTIONS = ("block", "unblock")


class PresenceMixin:
    if TYPE_CHECKING:
        _lock: threading.Lock
        _instances: dict[tuple[str, str], _Instance]
        _groups: dict[tuple[str, str], _Group]
        # (account, contact phone) -> instance id -> what that contact last saw of the instance's chat presence.
        _presence_seen: dict[tuple[str, str], dict[str, dict[str, Any]]]
        # (account, instance) -> {"state", "at"}: the number's own presence, as its contacts see it.
        _own_presence: dict[tuple[str, str], dict[str, Any]]
        # (account, instance) -> the phones that instance's number blocks, in the order it blocked them.
        _blocked: dict[tuple[str, str], dict[str, None]]

        def _advance(self) -> float: ...
        def _now_ms(self) -> int: ...
        def _online(self, key: tuple[str, str], *, sending: bool = False) -> _Instance: ...
        def _resolve(self, contact: str) -> str | None: ...
        def _member_group(self, key: tuple[str, str], jid: str) -> tuple[_Device, _Group]: ...
        def _contact_sender(self, device: _Device, phone: str, push_name: str | None) -> dict[str, Any]: ...
        def _event(
            self,
            key: tuple[str, str],
            payload: dict[str, Any],
            *,
            due: float | None = None,
            media_id: str | None = None,
        ) -> None: ...

    def _blocking_phone_of(self, phone_or_jid: str) -> str:
        from bzapper_dev.sandbox.network import Rejected

        phone = self._resolve(contact_key(phone_or_jid))
        if phone is None:
            raise Rejected("not_on_whatsapp")
        return phone

    def _blocks(self, key: tuple[str, str], phone: str) -> bool:
        """Does this instance's number block that contact? (Called under the lock.)"""
        return phone in self._blocked.get(key, ())

    @staticmethod
    def _shown(device: _Device, sender: dict[str, Any]) -> dict[str, Any]:
        return {name: sender.get(name) for name in ("jid", "phone", "lid")}

    # -- what a number shows -------------------------------------------------------------------------

    def send_chat_presence(self, account_id: str, instance_id: str, chat_jid: str, state: str) -> None:
        """The number types (composing), records audio (recording) or stops (paused) in a chat: a contact's, or a
        group it is in (every other participant sees it). A contact it blocks sees nothing."""
        if state not in CHAT_PRESENCE_STATES:
            raise InvalidInput(f"state must be one of {list(CHAT_PRESENCE_STATES)}", "state")
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._online(key)
            assert inst.device is not None
            if is_group(chat_jid):
                device, group = self._member_group(key, chat_jid)
                phones, chat = [p for p in group.participants if p != device.phone], group.jid
            else:
                phones, chat = [self._blocking_phone_of(chat_jid)], None
            at = self._now_ms()
            for phone in phones:
                if self._blocks(key, phone):
                    continue
                seen = self._presence_seen.setdefault((account_id, phone), {}).setdefault(instance_id, {})
                seen.update(chat_state=state, chat_jid=chat, chat_state_at=at)

    def send_presence(self, account_id: str, instance_id: str, state: str) -> None:
        """The number's own presence, seen by every contact it does not block."""
        if state not in OWN_PRESENCE_STATES:
            raise InvalidInput(f"state must be one of {list(OWN_PRESENCE_STATES)}", "state")
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            self._online(key)
            self._own_presence[key] = {"state": state, "at": self._now_ms()}

    # -- the blocklist --------------------------------------------------------------------------------

    def get_blocklist(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        """The contacts this number blocks ({jid, phone, lid}), in the order they were blocked."""
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._online(key)
            assert inst.device is not None
            device = inst.device
            return [self._shown(device, self._contact_sender(device, p, None)) for p in self._blocked.get(key, ())]

    def update_blocklist(self, account_id: str, instance_id: str, jid: str, action: str) -> dict[str, Any]:
        """block | unblock a contact; doing it twice changes nothing. The contact and whether it is blocked now."""
        if action not in BLOCK_ACTIONS:
            raise InvalidInput(f"action must be one of {list(BLOCK_ACTIONS)}", "action")
        if is_group(jid):
            raise InvalidInput("a group cannot be blocked", "jid")
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._online(key)
            assert inst.device is not None
            phone = self._blocking_phone_of(jid)
            blocked = self._blocked.setdefault(key, {})
            if action == "block":
                blocked[phone] = None
            else:
                blocked.pop(phone, None)
            person = self._shown(inst.device, self._contact_sender(inst.device, phone, None))
            return person | {"blocked": action == "block"}

    # -- the contacts' side ----------------------------------------------------------------------------

    def contact_presence(self, account_id: str, phone_or_jid: str) -> list[dict[str, Any]]:
        """What one contact saw of the account's numbers, one entry per number that showed it anything or blocks
        it: {instance_id, blocked, online, online_at, chat_state, chat_jid, chat_state_at} (ms; None = nothing)."""
        contact = contact_key(phone_or_jid)
        with self._lock:
            self._advance()
            phone = self._resolve(contact) or contact
            seen = self._presence_seen.get((account_id, phone), {})
            instances = set(seen)
            instances |= {key[1] for key in self._own_presence if key[0] == account_id}
            instances |= {key[1] for key, phones in self._blocked.items() if key[0] == account_id and phone in phones}
            answers = []
            for instance_id in sorted(instances):
                key = (account_id, instance_id)
                blocked = self._blocks(key, phone)
                own = None if blocked else self._own_presence.get(key)
                chat = seen.get(instance_id, {})
                answers.append(
                    {
                        "instance_id": instance_id,
                        "blocked": blocked,
                        "online": own["state"] if own else None,
                        "online_at": own["at"] if own else None,
                        "chat_state": chat.get("chat_state"),
                        "chat_jid": chat.get("chat_jid"),
                        "chat_state_at": chat.get("chat_state_at"),
                    }
                )
            return copy.deepcopy(answers)

    def show_presence(
        self, account_id: str, instance_id: str, from_: str, state: str, chat: str | None = None
    ) -> dict[str, Any]:
        """A contact shows its presence to a number (a test control): online or not (`available`, `unavailable`,
        with last seen), or typing, recording, paused in its chat with the number or in a `chat` group. A number
        that blocks the contact sees nothing (`delivered: false`). The instance must be paired; the event waits
        while it is offline."""
        if state not in PRESENCE_STATES:
            raise InvalidInput(f"state must be one of {list(PRESENCE_STATES)}", "state")
        if chat is not None and state in OWN_PRESENCE_STATES:
            raise InvalidInput("a contact's own presence is not shown in a chat", "chat")
        group = group_jid(chat) if chat is not None else None
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instances.get(key)
            if inst is None or inst.device is None:
                raise NotConnected(inst.state if inst else "disconnected")
            phone = self._blocking_phone_of(from_)
            at = self._now_ms()
            if self._blocks(key, phone):
                return {"delivered": False, "at": at}
            payload: dict[str, Any] = {
                "kind": "presence",
                "from": self._shown(inst.device, self._contact_sender(inst.device, phone, None)),
                "state": state,
                "at": at,
            }
            if group is not None:
                payload["chat_jid"] = group
            if state == "unavailable":
                payload["last_seen"] = at  # WhatsApp tells a last seen with "unavailable", privacy allowing
            self._event(key, payload)
            return {"delivered": True, "at": at}
