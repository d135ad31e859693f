"""The event log: every domain event written once, at a dense per-stream number, replayable in number order.

Items of one stream (partition key `stream_id`, sort key `entry`):
- `seq`: the stream's counter, the last number claimed (never expires);
- `id#<event id>`: written once per event (its condition makes a redelivery a no-op), keeps the event's number;
- `log#<number>`: the event itself, or a hole (a number claimed but never to hold an event).
The numbering and gap rules are in `bzapper.domain.eventlog`; docs/webhooks.md explains the design.

DynamoDB facts this relies on: one item takes at most 1,000 write units a second, and the counter is one item
per stream, so it caps claims (not events) at 1,000 a second per stream; a consumer batch claims every number
it needs for a stream in one UpdateItem, so at the topology's batch size of 10 the counter runs at a tenth of
the event rate, far below the log items' own cost (a two-item transaction, 4 write units per event), which
reaches the partition's limits long before the counter does.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
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


def _condition_failures(error: TransactWriteError) -> list[bool]:
    return [r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []]


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
        """Commits the event at `seq`: "written", "duplicate" (already logged) or "fenced" (seq is a hole now)."""
        now = int(time.time() * 1000)
        expires = (now + RETENTION_MS) // 1000
        try:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                tx.save(
                    EventModel(
                        stream,
                        f"id#{event['id']}",
                        event_id=event["id"],
                        payload=seq_key(seq),
                        created_at=now,
                        expires_at=expires,
                    ),
                    condition=EventModel.entry.does_not_exist(),
                )
                tx.save(
                    EventModel(
                        stream,
                        f"log#{seq_key(seq)}",
                        event_id=event["id"],
                        type=event["type"],
                        instance_id=event.get("instance_id"),
                        payload=json.dumps(event, separators=(",", ":"), ensure_ascii=False),
                        created_at=now,
                        expires_at=expires,
                    ),
                    condition=EventModel.entry.does_not_exist(),
                )
        except TransactWriteError as error:
            failed = _condition_failures(error)
            if failed and failed[0]:
                return "duplicate"
            if len(failed) > 1 and failed[1]:
                return "fenced"
            raise
        return "written"

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
        return parse_seq(item.payload)

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
