"""Events in memory (bzapper.ports.events): the bus, the event log with its numbering and gap fences, the
workers' report queue and the fence check (over the memory lease table)."""

from __future__ import annotations

import copy
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bzapper.adapters.memory.faults import Faults
from bzapper.adapters.memory.workers import MemoryLeaseStore
from bzapper.domain.clock import now_ms
from bzapper.domain.eventlog import GAP_WAIT_MS, GapWatch, LoggedEvent, stream_id, walk
from bzapper.domain.leases import Fence

# The bus ------------------------------------------------------------------------------------------------


class MemoryEventPublisher(Faults):
    """Every envelope published, in order (a retry appends the same ids again, as EventBridge would)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.published: list[dict[str, Any]] = []

    def publish(self, events: list[dict[str, Any]]) -> None:
        self._enter("publish", events)
        with self._lock:
            self.published.extend(copy.deepcopy(events))

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [event for event in self.published if event["type"] == event_type]

    def types(self) -> list[str]:
        with self._lock:
            return [event["type"] for event in self.published]


# The event log ----------------------------------------------------------------------------------------------

RETENTION_MS = 7 * 24 * 3600 * 1000
"""How long the log keeps an event (the DynamoDB log's TTL)."""
MAX_CLAIMS_PER_EVENT = 10
MAX_ROUNDS_PER_READ = 10


def stream_of(event: dict[str, Any]) -> str:
    return stream_id(event["account_id"], bool(event["livemode"]))


@dataclass(frozen=True, slots=True)
class _Row:
    event: LoggedEvent | None
    """None: a hole (a number that will never hold an event)."""
    written_at: int


@dataclass
class _Stream:
    last: int = 0
    """The last number claimed (the counter item)."""
    rows: dict[int, _Row] = field(default_factory=dict)
    ids: dict[str, tuple[int, int]] = field(default_factory=dict)
    """event id → (its number, when it was written)."""


class MemoryEventLog(Faults):
    """Dense numbers per stream, claimed then written, holes where a number will never hold an event; a reader
    waits on a gap for the GapWatch's time, then fences it. `claim`, `write` and `hole` are the DynamoDB log's
    own steps, public so a test can stage a writer that claimed and died."""

    def __init__(self, clock: Callable[[], int] = now_ms, gap_wait_ms: int = GAP_WAIT_MS) -> None:
        super().__init__()
        self._clock = clock
        self.gap_wait_ms = gap_wait_ms
        self._lock = threading.RLock()
        self._streams: dict[str, _Stream] = {}

    def _stream(self, stream: str) -> _Stream:
        return self._streams.setdefault(stream, _Stream())

    # Writing --------------------------------------------------------------------------------------------

    def batch(self, events: Iterable[dict[str, Any]]) -> MemoryEventBatch:
        self._enter("batch", events)
        planned = Counter(stream_of(event) for event in events if isinstance(event, dict) and "account_id" in event)
        return MemoryEventBatch(self, planned)

    def append(self, event: dict[str, Any]) -> bool:
        self._enter("append", event)
        batch = MemoryEventBatch(self, Counter([stream_of(event)]))
        try:
            return batch.append(event)
        finally:
            batch.close()

    def claim(self, stream: str, count: int) -> range:
        with self._lock:
            state = self._stream(stream)
            state.last += count
            return range(state.last - count + 1, state.last + 1)

    def write(self, stream: str, seq: int, event: dict[str, Any]) -> str:
        """The outcome: "written", "duplicate" (the event is logged already) or "fenced" (`seq` is a hole now)."""
        self._enter("write", stream, seq, event)
        with self._lock:
            state = self._stream(stream)
            if event["id"] in state.ids:
                return "duplicate"
            if seq in state.rows:
                return "fenced"
            now = self._clock()
            payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            state.rows[seq] = _Row(LoggedEvent(seq, event["id"], event["type"], event.get("instance_id"), payload), now)
            state.ids[event["id"]] = (seq, now)
            return "written"

    def hole(self, stream: str, seq: int) -> bool:
        """Marks `seq` as never holding an event, unless something is there already."""
        with self._lock:
            state = self._stream(stream)
            if seq in state.rows:
                return False
            state.rows[seq] = _Row(None, self._clock())
            return True

    # Reading --------------------------------------------------------------------------------------------

    def head(self, stream: str) -> int:
        self._enter("head", stream)
        with self._lock:
            return self._stream(stream).last

    def position_of(self, stream: str, event_id: str) -> int | None:
        self._enter("position_of", stream, event_id)
        with self._lock:
            state = self._stream(stream)
            found = state.ids.get(event_id)
        if found is None or found[1] + RETENTION_MS < self._clock():
            return None
        return found[0]

    def gap_watch(self) -> GapWatch:
        self._enter("gap_watch")
        return GapWatch(self.gap_wait_ms, clock=self._clock)

    def read_after(self, stream: str, position: int, gaps: GapWatch, limit: int = 100) -> tuple[list[LoggedEvent], int]:
        self._enter("read_after", stream, position, gaps, limit)
        found: list[LoggedEvent] = []
        cursor = position
        for _ in range(MAX_ROUNDS_PER_READ):
            with self._lock:
                state = self._stream(stream)
                present = sorted(seq for seq in state.rows if seq > cursor)[:limit]
                rows = {seq: state.rows[seq] for seq in present}
            step = walk(cursor, rows)
            now = self._clock()
            for seq in range(cursor + 1, step.through + 1):
                row = rows[seq]
                if row.event is not None and row.written_at + RETENTION_MS >= now:
                    found.append(row.event)
            cursor = step.through
            gaps.read_through(cursor)
            if step.gap is None:
                if len(rows) < limit:
                    break
                continue
            if not gaps.may_pass(step.gap, step.gap_end):
                break
            for seq in range(step.gap, min(step.gap_end or step.gap, step.gap + limit - 1) + 1):
                self.hole(stream, seq)
        return found, cursor

    def events(self, stream: str) -> list[LoggedEvent]:
        """Every event of the stream, in number order (holes left out)."""
        with self._lock:
            state = self._stream(stream)
            return [row.event for _, row in sorted(state.rows.items()) if row.event is not None]


class MemoryEventBatch:
    """The numbers one consumer batch claimed, handed out per stream in the batch's order."""

    def __init__(self, log: MemoryEventLog, planned: Counter[str]) -> None:
        self._log = log
        self._planned = planned
        self._numbers: dict[str, list[int]] = {}

    def _take(self, stream: str) -> int:
        pool = self._numbers.setdefault(stream, [])
        if not pool:
            pool.extend(self._log.claim(stream, max(self._planned.pop(stream, 0), 1)))
        return pool.pop(0)

    def append(self, event: dict[str, Any]) -> bool:
        stream = stream_of(event)
        for _ in range(MAX_CLAIMS_PER_EVENT):
            seq = self._take(stream)
            try:
                outcome = self._log.write(stream, seq, event)
            except Exception:
                self._log.hole(stream, seq)  # no event will sit there
                raise
            if outcome == "written":
                return True
            if outcome == "duplicate":
                self._log.hole(stream, seq)
                return False
            # Fenced: a reader filled this number; the rest of the pool is as stale. Claim fresh ones.
            pool = self._numbers.get(stream, [])
            stale, pool[:] = list(pool), []
            for number in stale:
                self._log.hole(stream, number)
            pool.extend(self._log.claim(stream, len(stale) + 1))
        raise RuntimeError(f"event {event['id']} was fenced off {MAX_CLAIMS_PER_EVENT} times")

    def close(self) -> None:
        for stream, pool in self._numbers.items():
            while pool:
                self._log.hole(stream, pool.pop(0))


# The workers' reports and their fences -----------------------------------------------------------------------


class MemoryReportSink(Faults):
    """The status-updates queue: every report taken, in order. `refuse_next` makes SQS turn entries down."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.reports: list[dict[str, Any]] = []
        self._refusals: list[set[int]] = []

    def refuse_next(self, indexes: set[int]) -> None:
        """The next send refuses the entries at these indexes (a partial batch failure)."""
        with self._lock:
            self._refusals.append(set(indexes))

    def send(self, reports: list[dict[str, Any]]) -> list[int]:
        self._enter("send", reports)
        with self._lock:
            refused = self._refusals.pop(0) if self._refusals else set()
            self.reports.extend(copy.deepcopy(r) for i, r in enumerate(reports) if i not in refused)
        return sorted(i for i in refused if i < len(reports))


class MemoryFenceChecker(Faults):
    """A fence holds while the shard's lease has its token, or when the lease was taken after the report."""

    def __init__(self, leases: MemoryLeaseStore) -> None:
        super().__init__()
        self.leases = leases

    def holds(self, fence: Fence) -> bool:
        self._enter("holds", fence)
        lease = self.leases.lease_of(fence.shard)
        return lease is not None and (lease.token == fence.token or lease.acquired_at > fence.at)
