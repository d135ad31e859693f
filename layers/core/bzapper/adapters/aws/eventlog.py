"""The event log: every domain event written once, at a dense per-stream number, replayable in number order.

Items of one stream (partition key `stream_id`, sort key `entry`):
- `seq`: the stream's counter, the last number claimed (never expires);
- `id#<event id>`: written once per event (its condition makes a redelivery a no-op), keeps the event's number;
- `log#<number>`: the event itself, or a hole (a number claimed but never to hold an event).
The numbering and gap rules are in `bzapper.domain.eventlog`; docs/webhooks.md explains the design.

An event is written in two conditional puts, not one transaction (a transaction bills each item twice: 4 write
units per event instead of 2): first its `id#` item, naming the number it takes, then its `log#` row. The `id#`
item is the event's one claim on the log: whoever finds it (a redelivery, a concurrent consumer) finishes or
moves that write instead of starting another, so an event is logged at most once and, while its record is
retried, at least once. The `id#` item only ever points away from a number once that number holds a hole (rows
are written once, never changed), so a stale writer's put at the old number always fails. `position_of` checks
that the row at the number holds the event, so a number whose row is not written yet is never a resume point.

DynamoDB facts this relies on: one item takes at most 1,000 write units a second, and the counter is one item
per stream, so it caps claims (not events) at 1,000 a second per stream; a consumer batch claims every number
it needs for a stream in one UpdateItem, so at the topology's batch size of 10 the counter runs at a tenth of
the event rate, far below the log items' own cost (two puts, 2 write units per event), which reaches the
partition's limits long before the counter does.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import CounterModel, EventModel
from bzapper.domain.eventlog import SEQ_DIGITS, GapWatch, LoggedEvent, claimed, parse_seq, seq_key, stream_id, walk

logger = logging.getLogger(__name__)

RETENTION_MS = 7 * 24 * 3600 * 1000
COUNTER_ENTRY = "seq"
HOLE = "log.hole"
"""The `type` of a hole row (it has no payload): never an event type, never delivered."""
MAX_CLAIMS_PER_EVENT = 10
"""A fenced write claims a fresh number, so each fence means the writer stalled past GAP_WAIT between a claim and
its commit once more; ten in a row is something broken (a clock or a table far off), and the record goes back
to SQS rather than loop."""
MAX_ROUNDS_PER_READ = 10
LOG_END = f"log#{'9' * SEQ_DIGITS}"
"""The top of the log's key space: a read's range ends here, its Limit bounds what it reads."""


def stream_of(event: dict[str, Any]) -> str:
    return stream_id(event["account_id"], bool(event["livemode"]))


MAX_TAKEOVERS = 10
"""Rounds of finding the event's `id#` item moved by a concurrent writer within one write; each move needs a
reader to have fenced the number it left, so more than a couple means something is broken."""


class EventLog:
    def __init__(self, gap_wait_ms: int | None = None) -> None:
        self.gap_wait_ms = gap_wait_ms
        """None: the domain's GAP_WAIT_MS. Tests inject a short one."""

    # -- writing -------------------------------------------------------------------------------------

    def batch(self, events: Iterable[dict[str, Any]]) -> EventBatch:
        """A consumer batch: each stream's numbers are claimed together, at its first append."""
        planned = Counter(stream_of(event) for event in events if isinstance(event, dict) and "account_id" in event)
        return EventBatch(self, planned)

    def append(self, event: dict[str, Any]) -> bool:
        """Writes one event once (False when it was already logged)."""
        batch = self.batch([event])
        try:
            return batch.append(event)
        finally:
            batch.close()

    def claim(self, stream: str, count: int) -> range:
        """`count` new numbers for the stream: one atomic add on its counter item."""
        # PynamoDB's update returns ALL_NEW; on this item (its key and `last`) that is UPDATED_NEW plus the key.
        counter = CounterModel(stream, COUNTER_ENTRY)
        counter.update(actions=[CounterModel.last.add(count)])
        return claimed(int(counter.last or 0), count)

    def write(self, stream: str, seq: int, event: dict[str, Any]) -> str:
        """Commits the event at `seq`: "written", "duplicate" (logged at another number: `seq` stays unused) or
        "fenced" (`seq` is a hole now). Two puts: the event's `id#` item, then its `log#` row (module docstring)."""
        now = int(time.time() * 1000)
        expires = (now + RETENTION_MS) // 1000
        key = f"id#{event['id']}"
        if not self._claim(stream, key, seq, event["id"], now, expires):
            outcome = self._take_over(stream, key, seq, event, now, expires)
            if outcome is not None:
                return outcome
        if self._put_row(stream, seq, event, now, expires):
            return "written"
        # A row is there: our own earlier attempt (a retried call), or a reader's fence.
        return "written" if self._holds(stream, seq, event["id"]) else "fenced"

    def _take_over(self, stream: str, key: str, seq: int, event: dict[str, Any], now: int, expires: int) -> str | None:
        """The event already has its `id#` item: "duplicate" once it is logged at that item's number (finishing a
        write that stopped between its two puts); None once the item names `seq` (the caller writes the row)."""
        for _ in range(MAX_TAKEOVERS):
            try:
                item = EventModel.get(stream, key, consistent_read=True)
            except DoesNotExist:  # deleted by its TTL since the put failed: the event is as good as new
                if self._claim(stream, key, seq, event["id"], now, expires):
                    return None
                continue
            if int(item.expires_at) * 1000 < now:
                return "duplicate"  # logged over 7 days ago (its row may be gone): never logged again
            stored, taken = item.payload, parse_seq(item.payload)
            if taken == seq:
                return None  # our own earlier attempt of this write
            if taken is not None:
                row = self._row(stream, taken)
                if row is None and self._put_row(stream, taken, event, now, expires):
                    return "duplicate"  # its first writer stopped between the puts: finished here, at its number
                if row is None:
                    row = self._row(stream, taken)
                if row is not None and row.type != HOLE and row.event_id == event["id"]:
                    return "duplicate"
            # A reader fenced that number before its row was written (or it is no number): the event moves to
            # `seq`, unless another writer moved it first (then look again).
            if self._move(stream, key, stored, seq):
                return None
        raise RuntimeError(f"event {event['id']}: its log entry kept moving")

    def _claim(self, stream: str, key: str, seq: int, event_id: str, now: int, expires: int) -> bool:
        """The event's `id#` item, naming `seq`, unless the event has one (False)."""
        item = EventModel(stream, key, event_id=event_id, payload=seq_key(seq), created_at=now, expires_at=expires)
        return applied(lambda: item.save(condition=EventModel.entry.does_not_exist()))

    def _move(self, stream: str, key: str, stored: str | None, seq: int) -> bool:
        item = EventModel(stream, key)
        condition = EventModel.payload == stored if stored is not None else EventModel.payload.does_not_exist()
        return applied(lambda: item.update(actions=[EventModel.payload.set(seq_key(seq))], condition=condition))

    def _put_row(self, stream: str, seq: int, event: dict[str, Any], now: int, expires: int) -> bool:
        row = EventModel(
            stream,
            f"log#{seq_key(seq)}",
            event_id=event["id"],
            type=event["type"],
            instance_id=event.get("instance_id"),
            payload=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
            created_at=now,
            expires_at=expires,
        )
        return applied(lambda: row.save(condition=EventModel.entry.does_not_exist()))

    def _row(self, stream: str, seq: int) -> EventModel | None:
        try:
            return EventModel.get(stream, f"log#{seq_key(seq)}", consistent_read=True)
        except DoesNotExist:
            return None

    def _holds(self, stream: str, seq: int, event_id: str) -> bool:
        row = self._row(stream, seq)
        return row is not None and row.type != HOLE and row.event_id == event_id

    def hole(self, stream: str, seq: int, event_id: str = "") -> bool:
        """Marks `seq` as never holding an event, unless something is there already (True when written)."""
        now = int(time.time() * 1000)
        try:
            EventModel(
                stream,
                f"log#{seq_key(seq)}",
                event_id=event_id or "-",
                type=HOLE,
                created_at=now,
                expires_at=(now + RETENTION_MS) // 1000,
            ).save(condition=EventModel.entry.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- reading -------------------------------------------------------------------------------------

    def head(self, stream: str) -> int:
        """The last number claimed so far: a reader starting here gets only what is logged from now on."""
        try:
            return int(CounterModel.get(stream, COUNTER_ENTRY, consistent_read=True).last or 0)
        except DoesNotExist:
            return 0

    def position_of(self, stream: str, event_id: str) -> int | None:
        """An event's number (its `id#` item keeps it); None once it expired, or when it has none."""
        try:
            item = EventModel.get(stream, f"id#{event_id}", consistent_read=True)
        except DoesNotExist:
            return None
        if int(item.expires_at) * 1000 < time.time() * 1000:
            return None
        seq = parse_seq(item.payload)
        # The `id#` item is written before the row: until the row holds the event, the number is no position.
        return seq if seq is not None and self._holds(stream, seq, event_id) else None

    def gap_watch(self) -> GapWatch:
        return GapWatch() if self.gap_wait_ms is None else GapWatch(self.gap_wait_ms)

    def read_after(self, stream: str, position: int, gaps: GapWatch, limit: int = 100) -> tuple[list[LoggedEvent], int]:
        """Live events after `position` in number order, and the number read through (past holes and expired
        rows too). Stops at a missing number until it appears or `gaps` lets it pass, then fences it.
        `limit` rows are read a round; a full round goes on, so one call returns up to MAX_ROUNDS_PER_READ x limit."""
        found: list[LoggedEvent] = []
        cursor = position
        for _ in range(MAX_ROUNDS_PER_READ):
            rows = {
                seq: row
                # Open-ended with a Limit rather than [cursor+1, cursor+limit]: a window with every number missing
                # shows no later row, so a run of `limit` dead numbers would never be seen as a gap. Comparing an
                # empty window with the counter's head would see it too, but a reader at the tip gets an empty
                # window on nearly every poll (4 a second), and each would pay a GetItem; this is the same one
                # Query, reading the same rows, and its first rows are the first present ones past any gap.
                for row in EventModel.query(
                    stream,
                    EventModel.entry.between(f"log#{seq_key(cursor + 1)}", LOG_END),
                    consistent_read=True,
                    limit=limit,
                )
                if (seq := parse_seq(row.entry[len("log#") :])) is not None
            }
            step = walk(cursor, rows)
            now = time.time() * 1000
            for seq in range(cursor + 1, step.through + 1):
                row = rows[seq]
                if row.type == HOLE or row.payload is None:
                    continue
                if int(row.expires_at) * 1000 < now:
                    continue  # kept 7 days; local TTL never deletes, so expiry is filtered here
                found.append(LoggedEvent(seq, row.event_id, row.type or "", row.instance_id, row.payload))
            cursor = step.through
            gaps.read_through(cursor)
            if step.gap is None:
                if len(rows) < limit:
                    break
                continue  # a full read: more may follow (the rows of a run fenced just now, a backlog)
            if not gaps.may_pass(step.gap, step.gap_end):
                break
            # The fence, on the whole missing run (its first number waited; `gaps` says why the rest need not):
            # whoever wins each number, it now holds a row; read them again. A run longer than a read is fenced
            # over the next rounds or polls, without a new wait.
            last = min(step.gap_end or step.gap, step.gap + limit - 1)
            try:
                for seq in range(step.gap, last + 1):
                    self.hole(stream, seq)
            except Exception:  # a throttled fence only makes this reader wait one poll longer
                logger.warning("event log: could not fence %s #%d..%d", stream, step.gap, last, exc_info=True)
                break
        return found, cursor


class EventBatch:
    """The numbers one consumer batch claimed, handed out per stream in the batch's order."""

    def __init__(self, log: EventLog, planned: Counter[str]) -> None:
        self._log = log
        self._planned = planned
        self._numbers: dict[str, list[int]] = {}

    def _take(self, stream: str) -> int:
        pool = self._numbers.setdefault(stream, [])
        if not pool:
            count = max(self._planned.pop(stream, 0), 1)  # the whole batch's share at first, then one at a time
            pool.extend(self._log.claim(stream, count))
        return pool.pop(0)

    def append(self, event: dict[str, Any]) -> bool:
        """Writes the event once (False when it was already logged: its number becomes a hole)."""
        stream = stream_of(event)
        for _ in range(MAX_CLAIMS_PER_EVENT):
            seq = self._take(stream)
            try:
                outcome = self._log.write(stream, seq, event)
            except Exception:
                self._fill(stream, seq)  # no event will sit there (or, if it committed after all, the hole fails)
                raise
            if outcome == "written":
                return True
            if outcome == "duplicate":
                self._log.hole(stream, seq, event["id"])
                return False
            # fenced: a reader waited GAP_WAIT for this number and filled it. The rest of the pool was claimed
            # with it, so it is as stale (readers may be fencing it now): give it back and claim fresh numbers.
            self._renew(stream)
        raise RuntimeError(f"event {event['id']} was fenced off {MAX_CLAIMS_PER_EVENT} times")

    def _renew(self, stream: str) -> None:
        """After a fence: the stream's unused numbers become holes, and as many fresh ones, plus the retry's,
        are claimed in one add (the batch's later records of this stream use them)."""
        pool = self._numbers.get(stream, [])
        stale, pool[:] = list(pool), []
        for seq in stale:
            self._fill(stream, seq)
        pool.extend(self._log.claim(stream, len(stale) + 1))

    def close(self) -> None:
        """Numbers claimed but not used (a record that failed first) become holes, so no reader waits on them."""
        for stream, pool in self._numbers.items():
            while pool:
                self._fill(stream, pool.pop(0))

    def _fill(self, stream: str, seq: int) -> None:
        try:
            self._log.hole(stream, seq)
        except Exception:  # best effort: a reader fences it after GAP_WAIT
            logger.warning("event log: could not mark %s #%d as a hole", stream, seq, exc_info=True)
