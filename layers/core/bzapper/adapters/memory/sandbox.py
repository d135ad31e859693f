"""The sandbox world in memory (bzapper.ports.sandbox): what a tester does on the other side of the simulated
network, answered from what a test set up, with the port's refusals."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from bzapper.adapters.memory.faults import Faults
from bzapper.domain.engine import NotConnected
from bzapper.domain.sandbox import SandboxRefused

DEFAULT_PHONE = "+5511955550001"


class MemorySandboxWorld(Faults):
    """A scan links the instance to a phone (another phone is refused: already_paired); an injected message
    needs a linked instance (else NotConnected). `enabled` False: no sandbox network in this deployment."""

    def __init__(self, *, enabled: bool = True) -> None:
        super().__init__()
        self._enabled = enabled
        self._lock = threading.Lock()
        self.received_by: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.paired: dict[str, str] = {}
        """instance id → the phone that scanned its QR."""
        self.injected: list[dict[str, Any]] = []
        self.rung: list[dict[str, Any]] = []
        self.presences: list[dict[str, Any]] = []
        """What contacts showed the instances (show_presence)."""
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        """(account, contact) → what that contact shows (contact_profile)."""
        self._ids = itertools.count(1)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = value

    def received(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        self._enter("received", account_id, contact)
        with self._lock:
            return list(self.received_by.get((account_id, contact), []))

    def contact_join(self, account_id: str, contact: str, invite_link: str) -> dict[str, Any]:
        """This fake keeps no groups: every link is unknown (the sandbox network models them)."""
        self._enter("contact_join", account_id, contact, invite_link)
        raise SandboxRefused("invite_link_invalid", "invite_link_invalid")

    def scan(
        self,
        account_id: str,
        instance_id: str,
        phone: str | None = None,
        *,
        code: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """This fake hands no history (the sandbox network does): the answer says none was handed."""
        self._enter("scan", account_id, instance_id, phone, code=code, **({"history": history} if history else {}))
        phone = phone or DEFAULT_PHONE
        with self._lock:
            if self.paired.get(instance_id, phone) != phone:
                raise SandboxRefused("already_paired", "the instance is paired with another phone")
            self.paired[instance_id] = phone
        none = {"sync_id": None, "chunks": 0, "conversations": 0, "messages": 0}
        return {"state": "connected", "phone": phone, "lid": None, "push_name": None, "history": none}

    def redeliver_history(self, account_id: str, instance_id: str, chunk: int = 0) -> dict[str, Any]:
        self._enter("redeliver_history", account_id, instance_id, chunk)
        raise SandboxRefused("no_history", "no history was handed to this instance")

    def cloud_inbound(
        self, phone_number_id: str, sender: str, message_type: str, content: dict[str, Any], push_name: str | None
    ) -> str:
        self._enter("cloud_inbound", phone_number_id, sender, message_type, content, push_name)
        return f"wamid.SIM{next(self._ids):010d}"

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
        self._enter(
            "inject_inbound",
            account_id,
            instance_id,
            sender,
            message_type,
            content,
            from_me=from_me,
            push_name=push_name,
            wa_message_id=wa_message_id,
            group=group,
            group_name=group_name,
        )
        with self._lock:
            if instance_id not in self.paired:
                raise NotConnected("disconnected")
            wa_id = wa_message_id or f"3EBMEM{next(self._ids):010d}"
            self.injected.append(
                {"instance_id": instance_id, "sender": sender, "type": message_type, "content": content, "id": wa_id}
            )
            return wa_id

    def call(self, account_id: str, instance_id: str, caller: str, *, video: bool = False) -> dict[str, Any]:
        self._enter("call", account_id, instance_id, caller, video=video)
        with self._lock:
            if instance_id not in self.paired:
                raise NotConnected("disconnected")
            record = {"call_id": f"CALL{next(self._ids):06d}", "from": caller, "is_video": video}
            self.rung.append({"account_id": account_id, "instance_id": instance_id, **record})
        return record

    def contact_presence(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        """This fake keeps no presence seen (the sandbox network models it)."""
        self._enter("contact_presence", account_id, contact)
        return []

    def show_presence(
        self, account_id: str, instance_id: str, contact: str, state: str, chat: str | None = None
    ) -> dict[str, Any]:
        self._enter("show_presence", account_id, instance_id, contact, state, chat)
        with self._lock:
            if instance_id not in self.paired:
                raise NotConnected("disconnected")
            self.presences.append({"instance_id": instance_id, "from": contact, "state": state, "chat": chat})
        return {"delivered": True, "at": 0}

    def contact_profile(self, account_id: str, contact: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every contact shows the network's default (name "Contact <last 4>", no picture) plus what was set."""
        self._enter("contact_profile", account_id, contact, changes)
        with self._lock:
            profile = self.profiles.setdefault(
                (account_id, contact),
                {
                    "jid": f"{contact.lstrip('+')}@s.whatsapp.net",
                    "phone": contact,
                    "lid": None,
                    "name": f"Contact {contact[-4:]}",
                    "about": "Hey there! I am using WhatsApp.",
                    "business": False,
                    "verified_name": None,
                    "picture": None,
                },
            )
            for name, value in (changes or {}).items():
                if name == "picture":
                    profile["picture"] = {"id": str(next(self._ids))} if value else None
                else:
                    profile[name] = value
            return dict(profile)
