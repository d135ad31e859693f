"""The engine port: what a session worker needs from a WhatsApp implementation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ServerAck:
    wa_message_id: str
    server_timestamp_ms: int


@dataclass(frozen=True, slots=True)
class Receipt:
    receipt_id: int
    instance_id: str
    wa_message_id: str
    status: str
    timestamp_ms: int


class PermanentFailure(Exception):
    """The message can never be sent (e.g. `not_on_whatsapp`): it fails, and is refunded."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Engine(Protocol):
    name: str

    def send(self, job: dict[str, Any]) -> ServerAck:
        """Sends one job from a shard queue; raises on failure (the job is then retried)."""
        ...

    def poll_receipts(self, instance_ids: list[str], wait_seconds: float) -> list[Receipt]: ...

    def ack_receipts(self, receipt_ids: list[int]) -> None:
        """Called once the receipts are safely reported; unacked ones come back after a crash."""
        ...
