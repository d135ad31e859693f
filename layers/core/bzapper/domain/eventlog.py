"""The event log's order: a dense sequence of numbers per stream, and when a reader may go past a missing one.

Pure, no I/O. Writers claim numbers from a per-stream counter (one atomic add), then commit each event at its
number; numbers are committed out of order (two writers, one a little slower), and a claimed number can stay
empty (a writer that died between its claim and its write). A reader delivers in number order and stops at the
first missing number: a number that is missing while a later one is present is a *gap*. It waits for the gap
to fill for at most GAP_WAIT_MS from when it first saw it, then fences it and every number missing after it
up to the next present one (writes a hole at each, on the condition that nothing is there yet) and goes on.
The fence is what keeps resume exact: once a hole holds a number, a late writer's commit at that number fails,
and the writer claims a new, later number instead, so no event ever lands behind a reader that went past.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bzapper.domain.clock import now_ms

SEQ_DIGITS = 15
"""Numbers are zero-padded in the sort key so that its string order is the numeric order (10^15 events a
stream: at 1,000 a second, 31,000 years)."""

GAP_WAIT_MS = 5_000
"""How long a reader waits for a missing number before fencing it with a hole. A live writer usually commits
within tens of milliseconds of its claim (one transaction), but not always within any bound: botocore's standard
retries back a throttled call off for up to about 7 s, and each attempt may take up to the read timeout. So a
fence can hit a slow writer that is still alive; that is correct, not a loss: its commit fails on the hole, it
claims a new, later number and the event arrives after the reader's cursor, only later in number order than
its first claim. 5 s is the most a dead writer (a Lambda timed out or killed between claim and write) delays
the stream, once for a whole run of its numbers: the first reader's fence serves every later reader."""


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as the log holds it: its number in the stream and the envelope as the JSON text sent."""

    position: int
    event_id: str
    type: str
    instance_id: str | None
    payload: str


def stream_id(account_id: str, livemode: bool) -> str:
    """An account's stream of one mode: its events in one log, numbered together."""
    return f"{account_id}:{'live' if livemode else 'test'}"


def seq_key(seq: int) -> str:
    """A number as the sort key's text: `log#` + this."""
    return f"{seq:0{SEQ_DIGITS}d}"


def parse_seq(text: str | None) -> int | None:
    """A stored position back to its number; None for anything else (a clock position from before numbers)."""
    if text is None or len(text) != SEQ_DIGITS or not text.isdigit():
        return None
    return int(text)


def claimed(new_last: int, count: int) -> range:
    """The numbers an atomic `ADD count` claimed, given the counter's value it returned."""
    if count < 1 or new_last < count:
        raise ValueError(f"an add of {count} cannot return {new_last}")
    return range(new_last - count + 1, new_last + 1)


@dataclass(frozen=True, slots=True)
class Walk:
    through: int
    """The last number of the unbroken run after the cursor (the cursor itself when the next is missing)."""
    gap: int | None
    """The first missing number when a later one is present; None when nothing later was seen (no gap yet)."""
    gap_end: int | None = None
    """The last number of the missing run that starts at `gap` (one below the next present number)."""


def walk(after: int, present: Iterable[int]) -> Walk:
    """How far a reader at `after` may read: up to the first missing number, and the run missing from there."""
    expected = after + 1
    for seq in sorted(set(present)):
        if seq < expected:
            continue
        if seq > expected:
            return Walk(expected - 1, expected, seq - 1)
        expected += 1
    return Walk(expected - 1, None)


class GapWatch:
    """One reader's memory of the gaps it is waiting on: when it first saw each (its own clock)."""

    def __init__(self, wait_ms: int = GAP_WAIT_MS, clock: Callable[[], int] | None = None) -> None:
        self.wait_ms = wait_ms
        self._clock = clock or now_ms
        self._first_seen: dict[int, int] = {}
        self._passable_through = 0
        """Every number up to this one may pass at once: the run it ends has already waited."""

    def may_pass(self, seq: int, through: int | None = None) -> bool:
        """True once `seq` has been missing for GAP_WAIT_MS since this reader first saw it missing.

        `through` ends the missing run that starts at `seq`: once `seq` may pass, so may the whole run. Every
        number of it was claimed before the present number just after it, so before this reader saw the gap:
        each has had as long as `seq` to be written, and a run of k dead numbers costs one wait, not k."""
        if seq <= self._passable_through:
            return True
        now = self._clock()
        first = self._first_seen.setdefault(seq, now)
        if now - first < self.wait_ms:
            return False
        self._passable_through = max(self._passable_through, through or seq)
        return True

    def read_through(self, seq: int) -> None:
        """The reader is past `seq`: forget the gaps at or below it."""
        for waited in [s for s in self._first_seen if s <= seq]:
            del self._first_seen[waited]
        if seq >= self._passable_through:
            self._passable_through = 0  # the run is behind the reader; a partly fenced one still passes

    @property
    def waiting_on(self) -> tuple[int, ...]:
        return tuple(sorted(self._first_seen))
