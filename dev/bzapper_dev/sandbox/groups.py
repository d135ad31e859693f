"""Groups on the sandbox network: membership, roles, settings, invite links and group messages.

A mixin of SandboxNetwork (network.py): it shares the network's lock, clock, instances and event queue.
Every method that a worker calls takes the caller's (account, instance) and the network's lock. What an
instance learns about a group comes as a `group` event to every instance of the account whose phone is
in that group, one per change and per instance (`change`: joined, left, updated, participants_changed,
with `by`: who did it). docs/sandbox.md ("Groups") describes the behaviour for users.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bzapper_dev.sandbox.numbers import (
    INVITE_REQUIRED,
    OFFLINE,
    InvalidInput,
    contact_key,
    group_jid,
    kind_of,
    lid_for,
    phone_jid,
)

if TYPE_CHECKING:
    from bzapper_dev.sandbox.network import _Device, _Instance

INVITE_PREFIX = "https://chat.whatsapp.com/"
MAX_SUBJECT = 100  # WhatsApp's limits on a group's subject and description
MAX_DESCRIPTION = 2048
MAX_PARTICIPANTS = 1024
ACTIONS = ("add", "remove", "promote", "demote")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass
class _Group:
    jid: str
    subject: str
    owner: str  # the creator's phone: the superadmin
    created_at: int
    description: str = ""
    announce: bool = False  # only admins send
    locked: bool = False  # only admins edit the group's info
    picture: str | None = None
    participants: dict[str, str] = field(default_factory=dict)  # phone -> superadmin | admin | member
    invite_round: int = 0
    invited: set[str] = field(default_factory=set)  # phones sent an invite (they may only be invited)


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def derived_group_jid(account_id: str, owner: str, count: int) -> str:
    """The n-th group a phone creates in an account: "120363" + 12 digits (today's group id shape)."""
    return f"120363{int.from_bytes(_digest('group', account_id, owner, count)[:8], 'big') % 10**12:012d}@g.us"


def invite_code(account_id: str, jid: str, invite_round: int) -> str:
    """22 base62 characters, like WhatsApp's; a new round (a revocation) gives a new code."""
    number = int.from_bytes(_digest("invite", account_id, jid, invite_round)[:17], "big")
    chars = []
    for _ in range(22):
        number, index = divmod(number, 62)
        chars.append(_BASE62[index])
    return "".join(chars)


def link_code(link: str) -> str:
    """The code of an invite link (full URL or the bare code), or InvalidInput."""
    value = (link or "").strip()
    code = value.removeprefix(INVITE_PREFIX) if value.startswith(INVITE_PREFIX) else value
    if not code or len(code) > 64 or not code.isalnum() or not code.isascii():
        raise InvalidInput("not a WhatsApp group invite link", "invite_link")
    return code


class GroupsMixin:
    """Groups of SandboxNetwork (the attributes below are the network's)."""

    if TYPE_CHECKING:
        from threading import Condition, Lock

        _lock: Lock
        _changed: Condition
        _instances: dict[tuple[str, str], _Instance]
        _groups: dict[tuple[str, str], _Group]
        _group_acks: dict[tuple[str, str, str, str], int]
        _inboxes: dict[tuple[str, str], list[dict[str, Any]]]
        delivered_after: float
        read_after: float
        time_scale: float

        def _advance(self) -> float: ...
        def _now_ms(self) -> int: ...
        def _clock(self) -> float: ...
        def _online(self, key: tuple[str, str], *, sending: bool = False) -> _Instance: ...
        def _resolve(self, contact: str) -> str | None: ...
        def _event(
            self,
            key: tuple[str, str],
            payload: dict[str, Any],
            *,
            due: float | None = None,
            media_id: str | None = None,
        ) -> None: ...

    # -- helpers ------------------------------------------------------------------------------------

    def _device_of(self, key: tuple[str, str]) -> _Device:
        inst = self._online(key)
        assert inst.device is not None
        return inst.device

    def _group(self, account_id: str, jid: str) -> _Group:
        group = self._groups.get((account_id, group_jid(jid)))
        if group is None:
            raise _rejected("group_not_found")
        return group

    def _member_group(self, key: tuple[str, str], jid: str) -> tuple[_Device, _Group]:
        device = self._device_of(key)
        group = self._group(key[0], jid)
        if device.phone not in group.participants:
            raise _rejected("not_a_participant")
        return device, group

    def _admin_group(self, key: tuple[str, str], jid: str) -> tuple[_Device, _Group]:
        device, group = self._member_group(key, jid)
        if group.participants[device.phone] == "member":
            raise _rejected("not_admin")
        return device, group

    @staticmethod
    def _person(phone: str) -> dict[str, Any]:
        return {"jid": phone_jid(phone), "phone": phone, "lid": lid_for(phone)}

    def _info(self, account_id: str, group: _Group) -> dict[str, Any]:
        return {
            "jid": group.jid,
            "subject": group.subject,
            "description": group.description,
            "announce": group.announce,
            "locked": group.locked,
            "picture": group.picture,
            "owner": self._person(group.owner),
            "created_at": group.created_at,
            "participants": [self._person(phone) | {"role": role} for phone, role in group.participants.items()],
        }

    def _member_instances(self, account_id: str, phones: set[str]) -> list[tuple[tuple[str, str], str]]:
        """(instance key, its phone) of every paired instance of the account whose phone is in `phones`."""
        return [
            (key, inst.device.phone)
            for key, inst in self._instances.items()
            if key[0] == account_id and inst.device is not None and inst.device.phone in phones
        ]

    def _group_event(
        self, account_id: str, group: _Group, change: str, by: str | None, phones: set[str], **details: Any
    ) -> None:
        """One `group` event to each instance of these phones (the members the change concerns)."""
        at = self._now_ms()
        for key, _phone in self._member_instances(account_id, phones):
            payload: dict[str, Any] = {"kind": "group", "change": change, "group_jid": group.jid, "at": at}
            payload["by"] = self._person(by) if by else None
            payload |= copy.deepcopy(details)
            if change in ("joined", "updated"):
                payload["group"] = self._info(account_id, group)
            self._event(key, payload)

    def _candidates(self, inputs: list[str]) -> list[tuple[str, str | None]]:
        """(input, phone or None when it names no WhatsApp user) per input; malformed → InvalidInput."""
        if not isinstance(inputs, list) or not all(isinstance(value, str) for value in inputs):
            raise InvalidInput("participants must be a list of phones or JIDs", "participants")
        if len(inputs) > MAX_PARTICIPANTS:
            raise InvalidInput(f"at most {MAX_PARTICIPANTS} participants", "participants")
        return [(value, self._resolve(contact_key(value))) for value in inputs]

    def _add(
        self, key: tuple[str, str], group: _Group, by: str, inputs: list[str]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Add phones as members: a result per input, and the phones that joined."""
        results, joined = [], []
        for value, phone in self._candidates(inputs):
            if phone is None:
                results.append({"input": value, "status": "not_on_whatsapp"})
                continue
            result = {"input": value, **self._person(phone)}
            if phone in group.participants:
                results.append(result | {"status": "already_participant"})
            elif kind_of(phone) == INVITE_REQUIRED:
                # Their privacy settings let only contacts add them: WhatsApp sends them an invite instead.
                group.invited.add(phone)
                self._deliver_invite(key, group, by, phone)
                results.append(result | {"status": "invite_required"})
            else:
                group.participants[phone] = "member"
                joined.append(phone)
                results.append(result | {"status": "added"})
        return results, joined

    def _deliver_invite(self, key: tuple[str, str], group: _Group, by: str, phone: str) -> None:
        account_id = key[0]
        link = INVITE_PREFIX + invite_code(account_id, group.jid, group.invite_round)
        self._inboxes.setdefault((account_id, phone), []).append(
            {
                "wa_message_id": "3EB0" + _digest("invite", group.jid, phone, group.invite_round).hex()[:18].upper(),
                "instance_id": key[1],
                "from_instance": key[1],
                "from_phone": by,
                "to_jid": phone_jid(phone),
                "group_jid": group.jid,
                "message": {"type": "group_invite", "subject": group.subject, "invite_link": link},
                "received_at": self._now_ms(),
            }
        )

    # -- the worker's calls ---------------------------------------------------------------------------

    def create_group(self, account_id: str, instance_id: str, subject: str, participants: list[str]) -> dict[str, Any]:
        """A new group with this instance's phone as superadmin: {"group": info, "participants": results}."""
        subject = _subject(subject)
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            device = self._device_of(key)
            count = sum(1 for (acc, _), g in self._groups.items() if acc == account_id and g.owner == device.phone)
            jid = derived_group_jid(account_id, device.phone, count)
            group = _Group(jid, subject, device.phone, self._now_ms(), participants={device.phone: "superadmin"})
            results, joined = self._add(key, group, device.phone, participants)
            self._groups[(account_id, jid)] = group
            self._group_event(account_id, group, "joined", device.phone, {device.phone, *joined})
            return {"group": self._info(account_id, group), "participants": results}

    def group_info(self, account_id: str, instance_id: str, jid: str) -> dict[str, Any]:
        with self._lock:
            self._advance()
            _, group = self._member_group((account_id, instance_id), jid)
            return self._info(account_id, group)

    def joined_groups(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        """The groups this instance's phone is in, oldest first."""
        with self._lock:
            self._advance()
            device = self._device_of((account_id, instance_id))
            return [
                self._info(account_id, group)
                for (acc, _), group in self._groups.items()
                if acc == account_id and device.phone in group.participants
            ]

    def update_group(self, account_id: str, instance_id: str, jid: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change subject, description, picture (a media id), announce or locked; one `updated` event
        naming what changed (none when nothing did). Announce and locked need an admin; the rest too
        when the group is locked."""
        wanted = _changes(changes)
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            device, group = self._member_group(key, jid)
            admin = group.participants[device.phone] != "member"
            if not admin and (group.locked or {"announce", "locked"} & wanted.keys()):
                raise _rejected("not_admin")
            changed = {name: value for name, value in wanted.items() if getattr(group, name) != value}
            for name, value in changed.items():
                setattr(group, name, value)
            if changed:
                self._group_event(account_id, group, "updated", device.phone, set(group.participants), changes=changed)
            return self._info(account_id, group)

    def update_participants(
        self, account_id: str, instance_id: str, jid: str, action: str, participants: list[str]
    ) -> list[dict[str, Any]]:
        """add | remove | promote | demote (admins only): a result per input, and one event per change
        (participants_changed to the others, joined / left to an instance that was added / removed)."""
        if action not in ACTIONS:
            raise InvalidInput(f"action must be one of {list(ACTIONS)}", "action")
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            device, group = self._admin_group(key, jid)
            if action == "add":
                results, touched = self._add(key, group, device.phone, participants)
            else:
                results, touched = [], []
                for value, phone in self._candidates(participants):
                    result: dict[str, Any] = {"input": value}
                    if phone is not None:
                        result |= self._person(phone)
                    role = group.participants.get(phone) if phone else None
                    status = _apply(group, phone, role, action)
                    if status == "ok":
                        touched.append(phone)  # type: ignore[arg-type]
                    results.append(result | {"status": status})
            if touched:
                by = device.phone
                if action == "add":
                    self._group_event(account_id, group, "joined", by, set(touched))
                elif action == "remove":
                    self._group_event(account_id, group, "left", by, set(touched), reason="removed")
                others = set(group.participants) - (set(touched) if action == "add" else set())
                people = [self._person(phone) for phone in touched]
                self._group_event(
                    account_id, group, "participants_changed", by, others, action=action, participants=people
                )
            return results

    def invite_link(self, account_id: str, instance_id: str, jid: str, *, reset: bool = False) -> str:
        """The group's invite link (admins only); `reset` revokes the current one first (an `updated` event)."""
        with self._lock:
            self._advance()
            device, group = self._admin_group((account_id, instance_id), jid)
            if reset:
                group.invite_round += 1
                self._group_event(
                    account_id,
                    group,
                    "updated",
                    device.phone,
                    set(group.participants),
                    changes={"invite_link": "revoked"},
                )
            return INVITE_PREFIX + invite_code(account_id, group.jid, group.invite_round)

    def _by_link(self, account_id: str, link: str) -> _Group:
        code = link_code(link)
        for (acc, _), group in self._groups.items():
            if acc == account_id and invite_code(acc, group.jid, group.invite_round) == code:
                return group
        raise _rejected("invite_link_invalid")  # unknown or revoked

    def join_with_link(self, account_id: str, instance_id: str, link: str) -> dict[str, Any]:
        with self._lock:
            self._advance()
            device = self._device_of((account_id, instance_id))
            group = self._by_link(account_id, link)
            self._join(account_id, group, device.phone)
            return self._info(account_id, group)

    def contact_join(self, account_id: str, phone_or_jid: str, link: str) -> dict[str, Any]:
        """A simulated contact's phone joins by link (what a user tapping the link does)."""
        with self._lock:
            self._advance()
            phone = self._resolve(contact_key(phone_or_jid))
            if phone is None:
                raise _rejected("not_on_whatsapp")
            group = self._by_link(account_id, link)
            self._join(account_id, group, phone)
            return self._info(account_id, group)

    def _join(self, account_id: str, group: _Group, phone: str) -> None:
        if phone in group.participants:
            return  # already in: nothing changes, no event
        others = set(group.participants)
        group.participants[phone] = "member"
        group.invited.discard(phone)
        self._group_event(account_id, group, "joined", phone, {phone})
        people = [self._person(phone)]
        self._group_event(account_id, group, "participants_changed", phone, others, action="join", participants=people)

    def leave_group(self, account_id: str, instance_id: str, jid: str) -> None:
        with self._lock:
            self._advance()
            device, group = self._member_group((account_id, instance_id), jid)
            self._leave(account_id, group, device.phone)

    def _leave(self, account_id: str, group: _Group, phone: str) -> None:
        group.participants.pop(phone)
        if group.participants and set(group.participants.values()) == {"member"}:
            # The last admin left: WhatsApp makes the longest-standing participant an admin.
            group.participants[next(iter(group.participants))] = "admin"
        self._group_event(account_id, group, "left", phone, {phone}, reason="left")
        self._group_event(
            account_id,
            group,
            "participants_changed",
            phone,
            set(group.participants),
            action="leave",
            participants=[self._person(phone)],
        )

    # -- group messages -------------------------------------------------------------------------------

    def _send_to_group(
        self,
        key: tuple[str, str],
        device: _Device,
        jid: str,
        wa_message_id: str,
        message: dict[str, Any],
        now: float,
    ) -> dict[str, Any]:
        """One message to every other participant; receipts per participant (called under the lock)."""
        account_id = key[0]
        group = self._group(account_id, jid)
        role = group.participants.get(device.phone)
        if role is None:
            raise _rejected("not_a_participant")
        if group.announce and role == "member":
            raise _rejected("not_admin")
        dedupe = (account_id, key[1], group.jid, wa_message_id)
        first = self._group_acks.get(dedupe)
        if first is not None:
            return {"wa_message_id": wa_message_id, "server_timestamp_ms": first, "duplicate": True}
        server_ts = self._now_ms()
        self._group_acks[dedupe] = server_ts
        for phone in group.participants:
            if phone == device.phone:
                continue
            self._inboxes.setdefault((account_id, phone), []).append(
                {
                    "wa_message_id": wa_message_id,
                    "instance_id": key[1],
                    "from_instance": key[1],
                    "from_phone": device.phone,
                    "to_jid": group.jid,
                    "group_jid": group.jid,
                    "message": copy.deepcopy(message),
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
                    "chat_jid": group.jid,
                    "status": status,
                    "participant": self._person(phone),
                    "at": server_ts + round(delay * 1000),
                }
                self._event(key, payload, due=now + delay)
        return {"wa_message_id": wa_message_id, "server_timestamp_ms": server_ts, "duplicate": False}


def _apply(group: _Group, phone: str | None, role: str | None, action: str) -> str:
    """Remove, promote or demote one participant: "ok" or why not."""
    if phone is None:
        return "not_on_whatsapp"
    if role is None:
        return "not_a_participant"
    if role == "superadmin":
        return "not_allowed"  # nobody removes or demotes the group's creator
    if action == "remove":
        del group.participants[phone]
        return "ok"
    target = "admin" if action == "promote" else "member"
    if role == target:
        return "already_admin" if target == "admin" else "not_admin"
    group.participants[phone] = target
    return "ok"


def _subject(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SUBJECT:
        raise InvalidInput(f"subject must be 1 to {MAX_SUBJECT} characters", "subject")
    return value


def _changes(changes: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("nothing to change", "changes")
    wanted: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "subject":
            wanted[name] = _subject(value)
        elif name == "description":
            if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
                raise InvalidInput(f"description must be at most {MAX_DESCRIPTION} characters", "description")
            wanted[name] = value
        elif name in ("announce", "locked"):
            if not isinstance(value, bool):
                raise InvalidInput(f"{name} must be true or false", name)
            wanted[name] = value
        elif name == "picture":
            if value is not None and (not isinstance(value, str) or not value):
                raise InvalidInput("picture must be a media id or null", "picture")
            wanted[name] = value
        else:
            raise InvalidInput(f"unknown group setting: {name}", name)
    return wanted


def _rejected(code: str) -> Exception:
    from bzapper_dev.sandbox.network import Rejected

    return Rejected(code)
