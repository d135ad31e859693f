"""Instances (WhatsApp numbers) and the control path to the worker that holds each one."""

from __future__ import annotations

from typing import Any, Protocol

from bzapper.domain.cloud import CloudNumber
from bzapper.domain.model import InstanceRef, InstanceView


class InstanceStore(Protocol):
    def create(
        self,
        account_id: str,
        *,
        livemode: bool,
        engine: str,
        name: str,
        status: str,
        phone: str | None = None,
        push_name: str | None = None,
        cloud: CloudNumber | None = None,
        limit: int | None = None,
    ) -> InstanceRef | None:
        """An instance with `cloud` (engine `cloud`) is on no shard (CLOUD_SHARD): no worker ever opens it.
        With `limit`, the account (in this mode) holds at most that many instances even under concurrent
        creates: None when it already does (and nothing is created)."""
        ...

    def get(self, instance_id: str) -> InstanceRef | None:
        """The immutable facts, cached (safe: they never change)."""
        ...

    def status(self, instance_id: str) -> str | None: ...

    def set_status(self, instance_id: str, status: str) -> None: ...

    def view(self, instance_id: str) -> InstanceView | None:
        """The instance as stored now (consistent)."""
        ...

    def of_account(self, account_id: str, livemode: bool) -> list[InstanceView]: ...

    def of_shard(self, shard: int) -> list[InstanceView]: ...

    def apply_state(
        self,
        instance_id: str,
        *,
        status: str,
        at: int,
        qr: str | None,
        phone: str | None,
        lid: str | None,
        push_name: str | None,
        error: str | None,
        until: int | None = None,
    ) -> InstanceView | None:
        """Stores a worker's observation unless a newer one is stored (then None)."""
        ...

    def set_active(self, instance_id: str, active: bool) -> None: ...

    def set_settings(self, instance_id: str, settings: dict[str, Any]) -> InstanceView | None:
        """Replaces the stored settings (the whole stored dict); the new view, or None when gone."""
        ...

    def delete(self, instance_id: str) -> None: ...

    def count_for(self, account_id: str, livemode: bool) -> int: ...


class ControlChannel(Protocol):
    """Commands to the worker holding a shard, and the answers to questions it was asked."""

    def send(self, shard: int, command: dict[str, Any]) -> None: ...

    def answer(self, request_id: str, answer: dict[str, Any]) -> None: ...

    def wait_for_answer(self, request_id: str, timeout_seconds: float) -> dict[str, Any] | None: ...
