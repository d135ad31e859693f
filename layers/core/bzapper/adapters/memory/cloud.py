"""Meta's Cloud API and the phone_number_id lookup, in memory (bzapper.ports.cloud)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from bzapper.adapters.memory.faults import Faults
from bzapper.adapters.memory.instances import MemoryInstanceStore
from bzapper.domain.cloud import Credentials, GraphFailure


class MemoryCloudNumbers(Faults):
    def __init__(self, instances: MemoryInstanceStore) -> None:
        super().__init__()
        self._instances = instances
        self._lock = threading.Lock()
        self.rows: dict[str, str] = {}

    def claim(self, phone_number_id: str, instance_id: str) -> str | None:
        self._enter("claim", phone_number_id, instance_id)
        with self._lock:
            holder = self.rows.get(phone_number_id)
            if holder is not None and holder != instance_id and holder in self._instances.rows:
                return holder
            self.rows[phone_number_id] = instance_id
            return None

    def owner(self, phone_number_id: str) -> str | None:
        self._enter("owner", phone_number_id)
        with self._lock:
            return self.rows.get(phone_number_id)

    def release(self, phone_number_id: str, instance_id: str) -> None:
        self._enter("release", phone_number_id, instance_id)
        with self._lock:
            if self.rows.get(phone_number_id) == instance_id:
                del self.rows[phone_number_id]


class MemoryCloudApi(Faults):
    """A Graph API that accepts everything (the token `invalid-token` excepted, as the simulated one): every
    call is recorded in `calls`; `refuse(GraphFailure)` makes the next sends fail with it."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self.graph_calls: list[tuple[str, Credentials, Any]] = []
        self.refusals: list[GraphFailure] = []
        self.media_bytes: dict[str, tuple[bytes, str]] = {}
        self.waba_templates: list[dict[str, Any]] = []

    def refuse(self, *failures: GraphFailure) -> None:
        self.refusals.extend(failures)

    def _check(self, credentials: Credentials) -> None:
        if credentials.token == "invalid-token":  # noqa: S105 - the simulated Graph API's refused token
            raise GraphFailure(401, 190, "Invalid OAuth access token")

    def number(self, credentials: Credentials) -> dict[str, Any]:
        self._enter("number", credentials)
        self.graph_calls.append(("number", credentials, None))
        self._check(credentials)
        return {
            "id": credentials.phone_number_id,
            "display_phone_number": "+55 11 97000-0001",
            "verified_name": "Sandbox Business",
            "quality_rating": "GREEN",
        }

    def send(self, credentials: Credentials, job: dict[str, Any], media: bytes | None = None) -> str:
        self._enter("send", credentials, job)
        self.graph_calls.append(("send", credentials, job))
        self._check(credentials)
        if self.refusals:
            raise self.refusals.pop(0)
        return f"wamid.MEMORY{next(self._ids):06d}"

    def media(self, credentials: Credentials, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        self._enter("media", credentials, media_id)
        self.graph_calls.append(("media", credentials, media_id))
        if media_id not in self.media_bytes:
            raise GraphFailure(404, 100, "Unknown media")
        return self.media_bytes[media_id]

    def templates(self, credentials: Credentials) -> list[dict[str, Any]]:
        self._enter("templates", credentials)
        self.graph_calls.append(("templates", credentials, None))
        self._check(credentials)
        return list(self.waba_templates)

    def mark_read(self, credentials: Credentials, wa_message_id: str) -> None:
        self._enter("mark_read", credentials, wa_message_id)
        self.graph_calls.append(("mark_read", credentials, wa_message_id))
        self._check(credentials)
