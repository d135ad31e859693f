"""An in-memory SandboxWorld (the port the API and the operator services use): records calls, answers what a
test set up, and raises the port's faults on demand. No network, no sockets."""

from __future__ import annotations

from typing import Any

from bzapper.domain.engine import NotConnected
from bzapper.domain.sandbox import SandboxRefused, SandboxUnavailable


class FakeSandboxWorld:
    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.received_by: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.paired: dict[str, str] = {}  # instance_id -> the phone that scanned it
        self.connected: set[str] = set()
        self.faults: list[Exception] = []  # raised by the next calls, in order

    # Faults, in the port's words -------------------------------------------------------------------

    def refuse_next(self, code: str | None, reason: str = "refused") -> None:
        self.faults.append(SandboxRefused(code, reason))

    def fail_next(self) -> None:
        self.faults.append(SandboxUnavailable("the network is down"))

    def _called(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))
        if self.faults:
            raise self.faults.pop(0)

    # The port -----------------------------------------------------------------------------------------

    def received(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        self._called("received", account_id, contact)
        return list(self.received_by.get((account_id, contact), []))

    def scan(
        self,
        account_id: str,
        instance_id: str,
        phone: str | None = None,
        *,
        code: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        extra = {"history": history} if history is not None else {}
        self._called("scan", account_id, instance_id, phone, code=code, **extra)
        phone = phone or "+5511955550001"
        if self.paired.get(instance_id, phone) != phone:
            raise SandboxRefused("already_paired", "the instance is paired with another phone")
        self.paired[instance_id] = phone
        self.connected.add(instance_id)
        return {"state": "connected", "phone": phone, "lid": None, "push_name": None}

    def redeliver_history(self, account_id: str, instance_id: str, chunk: int = 0) -> dict[str, Any]:
        self._called("redeliver_history", account_id, instance_id, chunk)
        raise SandboxRefused("no_history", "no history was handed to this instance")

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
        self._called(
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
        if instance_id not in self.connected:
            raise NotConnected("disconnected")
        return wa_message_id or f"3EBFAKE{len(self.calls):04d}"
