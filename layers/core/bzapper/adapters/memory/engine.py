"""A WhatsApp engine in memory (bzapper.ports.engine): sessions connect at once, sends are acknowledged with the
job's own WhatsApp id, and events wait for `pump` as an engine's would. Faults (PermanentFailure, NotConnected,
anything else) are injected per method like every fake's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NoReturn

from bzapper.adapters.memory.faults import Faults
from bzapper.domain.clock import now_ms
from bzapper.domain.engine import EngineEvent, EventSink, NotConnected, PermanentFailure, ServerAck, SessionSpec
from bzapper.domain.phones import InvalidRecipient, parse_recipient

PAIRING_CODE = "MEMO1234"


class MemoryEngine(Faults):
    name = "memory"

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self._sinks: dict[str, EventSink] = {}
        self._pending: list[tuple[str, EngineEvent]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.read: list[tuple[str, str, list[str], str | None]] = []
        self.acked: list[Any] = []
        self.settings: dict[str, dict[str, Any]] = {}
        """Instance → the settings its session applies (at open, then each apply_settings)."""
        self.presences: list[tuple[str, str | None, str]] = []
        """(instance, chat JID or None for the number's own, state) of each presence sent."""
        self.blocked: dict[str, dict[str, None]] = {}
        """Instance → the JIDs it blocks, in order."""
        self.on_whatsapp: set[str] | None = None
        """The phones check_numbers finds (None: every valid number)."""

    def open(self, spec: SessionSpec, emit: EventSink) -> None:
        self._enter("open", spec, emit)
        with self._lock:
            if spec.instance_id in self._sinks:
                return
            self._sinks[spec.instance_id] = emit
            self.settings[spec.instance_id] = dict(spec.settings or {})
        self._emit(spec.instance_id, {"kind": "state", "state": "connected", "phone": spec.phone})

    def close(self, instance_id: str) -> None:
        self._enter("close", instance_id)
        with self._lock:
            self._sinks.pop(instance_id, None)

    def logout(self, instance_id: str) -> None:
        self._enter("logout", instance_id)
        self._emit(instance_id, {"kind": "state", "state": "logged_out"})
        with self._lock:
            self._sinks.pop(instance_id, None)

    def pairing_code(self, instance_id: str, phone: str) -> str:
        self._enter("pairing_code", instance_id, phone)
        return PAIRING_CODE

    def send(self, instance_id: str, job: dict[str, Any]) -> ServerAck:
        self._enter("send", instance_id, job)
        with self._lock:
            if instance_id not in self._sinks:
                raise NotConnected("disconnected")
            self.sent.append((instance_id, dict(job)))
        return ServerAck(job["wa_message_id"], self._clock())

    def check_numbers(self, instance_id: str, inputs: list[str]) -> list[dict[str, Any]]:
        self._enter("check_numbers", instance_id, inputs)
        results = []
        for value in inputs:
            try:
                recipient = parse_recipient(value)
            except InvalidRecipient:
                results.append({"input": value, "exists": False, "phone": None, "jid": None, "lid": None})
                continue
            exists = self.on_whatsapp is None or recipient.phone in self.on_whatsapp
            results.append(
                {
                    "input": value,
                    "exists": exists,
                    "phone": recipient.phone if exists else None,
                    "jid": recipient.jid if exists else None,
                    "lid": recipient.lid,
                }
            )
        return results

    def mark_read(
        self, instance_id: str, chat_jid: str, wa_message_ids: list[str], sender_jid: str | None = None
    ) -> None:
        self._enter("mark_read", instance_id, chat_jid, wa_message_ids, sender_jid)
        with self._lock:
            self.read.append((instance_id, chat_jid, list(wa_message_ids), sender_jid))

    def apply_settings(self, instance_id: str, settings: dict[str, Any]) -> None:
        self._enter("apply_settings", instance_id, settings)
        with self._lock:
            if instance_id not in self._sinks:
                raise NotConnected("not_open")
            self.settings[instance_id] = dict(settings)

    # Groups: this fake has none (the sandbox network models them); each call says so, as an engine must.

    def _no_groups(self, method: str, *args: Any) -> NoReturn:
        self._enter(method, *args)
        raise PermanentFailure("not_supported")

    def create_group(self, instance_id: str, subject: str, participants: list[str]) -> dict[str, Any]:
        self._no_groups("create_group", instance_id, subject, participants)

    def group_info(self, instance_id: str, group_jid: str) -> dict[str, Any]:
        self._no_groups("group_info", instance_id, group_jid)

    def joined_groups(self, instance_id: str) -> list[dict[str, Any]]:
        self._no_groups("joined_groups", instance_id)

    def update_group(self, instance_id: str, group_jid: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._no_groups("update_group", instance_id, group_jid, changes)

    def update_group_participants(
        self, instance_id: str, group_jid: str, action: str, participants: list[str]
    ) -> list[dict[str, Any]]:
        self._no_groups("update_group_participants", instance_id, group_jid, action, participants)

    def group_invite_link(self, instance_id: str, group_jid: str, reset: bool = False) -> str:
        self._no_groups("group_invite_link", instance_id, group_jid, reset)

    def join_group(self, instance_id: str, invite_link: str) -> dict[str, Any]:
        self._no_groups("join_group", instance_id, invite_link)

    def leave_group(self, instance_id: str, group_jid: str) -> None:
        self._no_groups("leave_group", instance_id, group_jid)

    # Presence and the blocklist: recorded (the sandbox network models what a contact sees of them).

    def send_chat_presence(self, instance_id: str, chat_jid: str, state: str) -> None:
        self._enter("send_chat_presence", instance_id, chat_jid, state)
        self.presences.append((instance_id, chat_jid, state))

    def send_presence(self, instance_id: str, state: str) -> None:
        self._enter("send_presence", instance_id, state)
        self.presences.append((instance_id, None, state))

    def get_blocklist(self, instance_id: str) -> list[dict[str, Any]]:
        self._enter("get_blocklist", instance_id)
        return [{"jid": jid, "phone": None, "lid": None} for jid in self.blocked.get(instance_id, {})]

    def update_blocklist(self, instance_id: str, jid: str, action: str) -> dict[str, Any]:
        self._enter("update_blocklist", instance_id, jid, action)
        blocked = self.blocked.setdefault(instance_id, {})
        if action == "block":
            blocked[jid] = None
        else:
            blocked.pop(jid, None)
        return {"jid": jid, "phone": None, "lid": None, "blocked": action == "block"}

    # Profiles: none here either (the sandbox network models them).

    def own_profile(self, instance_id: str) -> dict[str, Any]:
        self._no_groups("own_profile", instance_id)

    def update_profile(self, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._no_groups("update_profile", instance_id, changes)

    def contact_profile(self, instance_id: str, jid: str) -> dict[str, Any]:
        self._no_groups("contact_profile", instance_id, jid)

    def profile_picture(self, instance_id: str, jid: str, picture: dict[str, Any]) -> str:
        self._no_groups("profile_picture", instance_id, jid, picture)

    def pump(self, wait_seconds: float) -> None:
        self._enter("pump", wait_seconds)
        with self._lock:
            pending, self._pending = self._pending, []
            sinks = dict(self._sinks)
        for instance_id, event in pending:
            sink = sinks.get(instance_id)
            if sink is not None:
                sink(event)

    def ack(self, acks: list[Any]) -> None:
        self._enter("ack", acks)
        with self._lock:
            self.acked.extend(acks)

    def shutdown(self) -> None:
        self._enter("shutdown")
        with self._lock:
            self._sinks.clear()

    def emit(self, instance_id: str, event: EngineEvent) -> None:
        """An event from the other side (a receipt, an inbound message), delivered at the next `pump`."""
        self._emit(instance_id, event)

    def _emit(self, instance_id: str, event: EngineEvent) -> None:
        with self._lock:
            self._pending.append((instance_id, {"instance_id": instance_id, "at": self._clock(), **event}))
