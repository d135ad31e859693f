"""Instances and the control path to their workers, in memory (bzapper.ports.instances)."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bzapper.adapters.memory.faults import ConditionFailed, Faults
from bzapper.domain.clock import now_ms
from bzapper.domain.cloud import CloudNumber
from bzapper.domain.ids import new_id
from bzapper.domain.model import InstanceRef, InstanceView
from bzapper.topology import CLOUD_SHARD, SHARD_COUNT


def stable_shard(instance_id: str) -> int:
    """Where a new instance goes: fixed for its life like DynamoDB's random pick, but repeatable in a test."""
    return zlib.crc32(instance_id.encode()) % SHARD_COUNT


class MemoryInstanceStore(Faults):
    """The instance table. `lock` is shared with the send transaction, which checks an instance's status."""

    def __init__(
        self,
        clock: Callable[[], int] = now_ms,
        lock: threading.RLock | None = None,
        shard_of: Callable[[str], int] = stable_shard,
    ) -> None:
        super().__init__()
        self._clock = clock
        self._lock = lock or threading.RLock()
        self._shard_of = shard_of
        self.rows: dict[str, InstanceView] = {}

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
        self._enter("create", account_id, livemode=livemode, engine=engine, name=name, status=status, phone=phone)
        instance_id = new_id("inst")
        now = self._clock()
        view = InstanceView(
            instance_id=instance_id,
            account_id=account_id,
            livemode=livemode,
            engine=engine,
            shard=CLOUD_SHARD if cloud else self._shard_of(instance_id),
            name=name,
            status=status,
            phone=phone,
            lid=None,
            push_name=push_name,
            last_error=None,
            qr=None,
            state_at=0,
            active=True,
            created_at=now,
            updated_at=now,
            cloud=cloud,
        )
        with self._lock:
            held = sum(1 for row in self.rows.values() if (row.account_id, row.livemode) == (account_id, livemode))
            if limit is not None and held >= limit:
                return None
            self.rows[instance_id] = view
        return view.ref

    def get(self, instance_id: str) -> InstanceRef | None:
        self._enter("get", instance_id)
        with self._lock:
            view = self.rows.get(instance_id)
        return view.ref if view else None

    def status(self, instance_id: str) -> str | None:
        self._enter("status", instance_id)
        with self._lock:
            view = self.rows.get(instance_id)
        return view.status if view else None

    def set_status(self, instance_id: str, status: str) -> None:
        self._enter("set_status", instance_id, status)
        self._change(instance_id, status=status)

    def view(self, instance_id: str) -> InstanceView | None:
        self._enter("view", instance_id)
        with self._lock:
            return self.rows.get(instance_id)

    def of_account(self, account_id: str, livemode: bool) -> list[InstanceView]:
        self._enter("of_account", account_id, livemode)
        with self._lock:
            rows = [v for v in self.rows.values() if v.account_id == account_id and v.livemode == livemode]
        return sorted(rows, key=lambda view: view.instance_id)  # the account index's order

    def of_shard(self, shard: int) -> list[InstanceView]:
        self._enter("of_shard", shard)
        with self._lock:
            return sorted((v for v in self.rows.values() if v.shard == shard), key=lambda view: view.instance_id)

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
        self._enter(
            "apply_state",
            instance_id,
            status=status,
            at=at,
            qr=qr,
            phone=phone,
            lid=lid,
            push_name=push_name,
            error=error,
            **({"until": until} if until else {}),
        )
        with self._lock:
            current = self.rows.get(instance_id)
            if current is None or current.state_at > at:
                return None  # deleted, or a newer observation is stored
            updated = replace(
                current,
                status=status,
                state_at=at,
                updated_at=self._clock(),
                qr=qr or None,
                last_error=error or None,
                restricted_until=until or None,
                # What a state does not say is kept (a disconnection does not forget the number).
                phone=phone or current.phone,
                lid=lid or current.lid,
                push_name=push_name or current.push_name,
            )
            self.rows[instance_id] = updated
            return updated

    def set_active(self, instance_id: str, active: bool) -> None:
        self._enter("set_active", instance_id, active)
        self._change(instance_id, active=active)

    def set_settings(self, instance_id: str, settings: dict[str, Any]) -> InstanceView | None:
        self._enter("set_settings", instance_id, settings)
        with self._lock:
            if instance_id not in self.rows:
                return None
            self._change(instance_id, settings=dict(settings))
            return self.rows[instance_id]

    def delete(self, instance_id: str) -> None:
        self._enter("delete", instance_id)
        with self._lock:
            self.rows.pop(instance_id, None)

    def count_for(self, account_id: str, livemode: bool) -> int:
        self._enter("count_for", account_id, livemode)
        with self._lock:
            return sum(1 for v in self.rows.values() if v.account_id == account_id and v.livemode == livemode)

    def _change(self, instance_id: str, **fields: Any) -> None:
        with self._lock:
            current = self.rows.get(instance_id)
            if current is None:
                raise ConditionFailed(f"instance {instance_id} does not exist")
            self.rows[instance_id] = replace(current, updated_at=self._clock(), **fields)

    # The send transaction's condition ------------------------------------------------------------------

    def connected_for(self, instance_id: str, account_id: str) -> bool:
        """The condition check of a send: the instance is the account's and connected (call under the lock)."""
        view = self.rows.get(instance_id)
        return view is not None and view.account_id == account_id and view.status == "connected"


Responder = Callable[[dict[str, Any]], dict[str, Any] | None]


class MemoryControlChannel(Faults):
    """Commands sent per shard, and answers. A question is answered by the responder a test set for its op
    (as the holding worker would); without one, nobody answers and the wait ends at once, as after a timeout."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.sent: list[tuple[int, dict[str, Any]]] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self._responders: dict[str, Responder] = {}

    def respond_to(self, op: str, responder: Responder) -> None:
        """Answer every question with this op: `responder(command)` returns the answer (None: no answer)."""
        with self._lock:
            self._responders[op] = responder

    def commands(self, op: str | None = None, instance_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                command
                for _, command in self.sent
                if (op is None or command.get("op") == op)
                and (instance_id is None or command.get("instance_id") == instance_id)
            ]

    def send(self, shard: int, command: dict[str, Any]) -> None:
        self._enter("send", shard, command)
        with self._lock:
            self.sent.append((shard, dict(command)))
            responder = self._responders.get(str(command.get("op")))
        request_id = command.get("request_id")
        if responder is not None and isinstance(request_id, str):
            answer = responder(dict(command))
            if answer is not None:
                self.answer(request_id, answer)

    def answer(self, request_id: str, answer: dict[str, Any]) -> None:
        self._enter("answer", request_id, answer)
        with self._lock:
            self.answers[request_id] = dict(answer)

    def wait_for_answer(self, request_id: str, timeout_seconds: float) -> dict[str, Any] | None:
        self._enter("wait_for_answer", request_id, timeout_seconds)
        with self._lock:
            return self.answers.get(request_id)
