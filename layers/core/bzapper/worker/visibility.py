"""The heartbeat of the jobs a worker has in hand: invisible in SQS while it works on them, and no longer.

A received send job is invisible for JOB_VISIBILITY_SECONDS (the queue's own timeout, short). While the worker
still holds it (waiting behind its number's earlier jobs, waiting for its pacing slot, being sent), this
heartbeat extends it with ChangeMessageVisibility before it expires. Once the job is deleted, hidden on purpose
(held, opening) or let go, the heartbeat leaves it alone. A worker that dies stops beating with it: its jobs,
and the FIFO group each of them blocks, are back in the queue within JOB_VISIBILITY_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from bzapper.ports.workers import QueueReader
from bzapper.topology import JOB_VISIBILITY_SECONDS

logger = logging.getLogger("bzapper.worker.visibility")

HEARTBEAT_SECONDS = 2.0
"""How often the heartbeat looks at what is in hand."""
RENEW_WITHIN_SECONDS = 6.0
"""A job whose invisibility ends within this long is extended to a whole JOB_VISIBILITY_SECONDS again: about
every 4 s per job in hand, and a failed call is tried again twice (2 s apart) before the job could expire."""


class Holding:
    """The receipt handles of one number's jobs received together, while the worker still holds them."""

    def __init__(self, reader: QueueReader, handles: Iterable[str], invisible_until: float) -> None:
        self.reader = reader
        self.handles = list(handles)
        self.invisible_until = invisible_until
        # Held by the heartbeat during its call: letting go waits for it, so an extension never lands after
        # the worker's own hide (a held job's 30 s) or delete of the same handle.
        self.lock = threading.Lock()

    def let_go(self, handles: Iterable[str] | None = None) -> None:
        """The heartbeat stops extending these handles (all of them by default)."""
        with self.lock:
            if handles is None:
                self.handles = []
            else:
                gone = set(handles)
                self.handles = [handle for handle in self.handles if handle not in gone]


class VisibilityKeeper:
    """One per worker: a thread that extends every holding due for it, one batched call per queue."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        visibility_seconds: int = JOB_VISIBILITY_SECONDS,
        every_seconds: float = HEARTBEAT_SECONDS,
        renew_within_seconds: float = RENEW_WITHIN_SECONDS,
    ) -> None:
        self._clock = clock
        self.visibility_seconds = visibility_seconds
        self.every_seconds = every_seconds
        self.renew_within_seconds = renew_within_seconds
        self._holdings: list[Holding] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, reader: QueueReader, handles: Iterable[str], received_at: float) -> Holding:
        """Jobs just received (`received_at` by this keeper's clock, no earlier than the receive returned)."""
        holding = Holding(reader, handles, received_at + self.visibility_seconds)
        with self._lock:
            # Forget what was let go of entirely here too: a runner whose heartbeat is not started keeps no garbage.
            self._holdings = [each for each in self._holdings if each.handles]
            self._holdings.append(holding)
        return holding

    def beat(self) -> None:
        """Extend what is due; forget the holdings let go of entirely."""
        now = self._clock()
        with self._lock:
            self._holdings = [holding for holding in self._holdings if holding.handles]
            due = [h for h in self._holdings if h.invisible_until - now <= self.renew_within_seconds]
        by_reader: dict[int, list[Holding]] = {}
        for holding in due:
            by_reader.setdefault(id(holding.reader), []).append(holding)
        for holdings in by_reader.values():
            self._extend(holdings)

    def _extend(self, holdings: list[Holding]) -> None:
        # Only this thread takes several holding locks (the consumers take their own one): no lock cycle.
        for holding in holdings:
            holding.lock.acquire()
        try:
            handles = [handle for holding in holdings for handle in holding.handles]
            if not handles:
                return
            started = self._clock()
            try:
                holdings[0].reader.hide(handles, self.visibility_seconds)
            except Exception:
                # The next beat tries again while there is time left; if the job comes back meanwhile, its
                # redelivery is skipped or re-sent with the same WhatsApp id (docs/send-path.md).
                logger.exception("extending the visibility of %d jobs in hand failed", len(handles))
                return
            for holding in holdings:
                holding.invisible_until = started + self.visibility_seconds
        finally:
            for holding in holdings:
                holding.lock.release()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="job-visibility", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            try:
                self.beat()
            except Exception:
                logger.exception("job visibility heartbeat failed")
