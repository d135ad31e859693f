"""Engines for tests of the session worker: real engine-port implementations with recorded calls and real faults.

They run inside host child processes (spawned), so they report through the events they emit, never through
shared memory. ABORT_BODY in a text job makes the host process abort for real (SIGABRT), as neonize's Go
side does on a concurrent map write.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from bzapper.domain.engine import EventSink, NotConnected, PermanentFailure, ServerAck, SessionSpec

ABORT_BODY = "please abort"
FAIL_BODY = "please fail"
HOLD_BODY = "please hold"


class EchoEngine:
    """Connects every session at once; a send emits an inbound echo of what was sent (so a test sees it)."""

    name = "echo"

    def __init__(self, **_: Any) -> None:
        self.sinks: dict[str, EventSink] = {}
        self.lock = threading.Lock()

    def open(self, spec: SessionSpec, emit: EventSink) -> None:
        with self.lock:
            self.sinks[spec.instance_id] = emit
        emit(
            {
                "kind": "state",
                "instance_id": spec.instance_id,
                "state": "connected",
                "at": _ms(),
                "phone": spec.phone or "+5511999990000",
                "pid": os.getpid(),
            }
        )

    def close(self, instance_id: str) -> None:
        with self.lock:
            self.sinks.pop(instance_id, None)

    def logout(self, instance_id: str) -> None:
        sink = self.sinks.pop(instance_id, None)
        if sink:
            sink({"kind": "state", "instance_id": instance_id, "state": "logged_out", "at": _ms()})

    def pairing_code(self, instance_id: str, phone: str) -> str:
        return "ABCD-EFGH"

    def send(self, instance_id: str, job: dict[str, Any]) -> ServerAck:
        body = job.get("content", {}).get("body")
        if body == ABORT_BODY:
            os.abort()
        if body == FAIL_BODY:
            raise PermanentFailure("not_on_whatsapp")
        if body == HOLD_BODY:
            raise NotConnected("restricted")
        sink = self.sinks.get(instance_id)
        if sink is None:
            raise NotConnected("not_open")
        sink(
            {"kind": "sent-echo", "instance_id": instance_id, "wa_message_id": job["wa_message_id"], "pid": os.getpid()}
        )
        return ServerAck(job["wa_message_id"], _ms())

    def check_numbers(self, instance_id: str, inputs: list[str]) -> list[dict[str, Any]]:
        return [
            {"input": i, "exists": True, "phone": i, "jid": i.lstrip("+") + "@s.whatsapp.net", "lid": None}
            for i in inputs
        ]

    def mark_read(
        self, instance_id: str, chat_jid: str, wa_message_ids: list[str], sender_jid: str | None = None
    ) -> None:
        pass

    def pump(self, wait_seconds: float) -> None:
        time.sleep(wait_seconds)

    def ack(self, acks: list[Any]) -> None:
        pass

    def shutdown(self) -> None:
        pass


def _ms() -> int:
    return int(time.time() * 1000)
