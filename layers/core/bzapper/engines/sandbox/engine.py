"""The sandbox engine: a session worker's view of the simulated WhatsApp network."""

from __future__ import annotations

from functools import cache
from typing import Any

from bzapper.engines.base import PermanentFailure, Receipt, ServerAck
from bzapper.engines.sandbox.client import SandboxNetworkClient, SandboxNetworkError


@cache
def shared_client(url: str) -> SandboxNetworkClient:
    """One connection pool per process and network."""
    return SandboxNetworkClient(url)


class SandboxEngine:
    name = "sandbox"

    def __init__(self, url: str) -> None:
        self.client = shared_client(url)

    def send(self, job: dict[str, Any]) -> ServerAck:
        try:
            ack = self.client.send(
                account_id=job["account_id"],
                instance_id=job["instance_id"],
                to_jid=job["to_jid"],
                wa_message_id=job["wa_message_id"],
                message={"type": job["type"], **job["content"]},
            )
        except SandboxNetworkError as error:
            if error.status_code == 422 and isinstance(error.body, dict):
                raise PermanentFailure(error.body.get("error", {}).get("code", "rejected")) from error
            raise
        return ServerAck(wa_message_id=ack["wa_message_id"], server_timestamp_ms=int(ack["server_timestamp_ms"]))

    def poll_receipts(self, instance_ids: list[str], wait_seconds: float) -> list[Receipt]:
        if not instance_ids:
            return []
        events = self.client.poll(instance_ids, wait_seconds=wait_seconds)
        return [
            Receipt(
                receipt_id=int(event["event_id"]),
                instance_id=event["instance_id"],
                wa_message_id=event["wa_message_id"],
                status=event["status"],
                timestamp_ms=int(event["timestamp_ms"]),
            )
            for event in events
            if event.get("type") == "receipt"
        ]

    def ack_receipts(self, receipt_ids: list[int]) -> None:
        if receipt_ids:
            self.client.ack(receipt_ids)
