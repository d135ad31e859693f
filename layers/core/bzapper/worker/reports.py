"""Everything a worker learns goes back as a fenced report on the status-updates FIFO queue.

Engine events arrive on the hosts' reader threads; they are queued here and sent in batches by one
thread, so a slow SQS call never blocks a host's pipe. An event is acked to its engine only after its
report is in SQS: a crash in between re-delivers it (the sandbox keeps it), and the consumer's writes
are idempotent.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from bzapper.domain.leases import Fence, LeaseLost
from bzapper.domain.reports import BATCH

logger = logging.getLogger("bzapper.worker.reports")

RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
DRAIN_SECONDS = 5.0


class Reporter:
    """Sends fenced reports in order, then acks their events to the engines.

    The fence is taken when an event is submitted, while its shard is held: a report made then stays valid
    however late it is sent, so a hand-over or a slow SQS call never turns it into a loss. A batch SQS does
    not take is kept and sent again (with backoff); on stop, what is queued is drained for a few seconds.
    Events of engines that cannot deliver again (whatsmeow: no `ack`) depend on exactly this.
    """

    def __init__(
        self,
        fence: Callable[[int], Fence],
        ack: Callable[[str, list[Any]], None],
        send: Callable[[list[dict[str, Any]]], list[int]],
    ) -> None:
        self._fence = fence
        self._ack = ack
        self._send = send
        self._pending: queue.Queue[tuple[dict[str, Any], Any]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reporter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=DRAIN_SECONDS + 5)

    def submit(self, shard: int, report: dict[str, Any], ack: Any = None) -> None:
        """Queue a report about `shard`; `ack` is the engine's ack value, returned once it is sent."""
        try:
            fenced = {**report, "fence": self._fence(shard).to_json()}
        except LeaseLost:
            # Not ours any more: an event with an ack comes again to the shard's next holder; one without
            # (whatsmeow) happened on a session this worker no longer holds, which the next holder reopens.
            logger.info("dropped a %s report of a lost shard %s", report["kind"], shard)
            return
        self._pending.put((fenced, ack))

    def report_now(self, shard: int, report: dict[str, Any]) -> None:
        """Send one report synchronously (a job's status: the job is deleted only after it is reported).

        Raises LeaseLost when the shard is no longer safely held: the caller must not act on it.
        """
        report = {**report, "fence": self._fence(shard).to_json()}
        if self._send([report]):
            raise RuntimeError("status report was not accepted by SQS")

    def _run(self) -> None:
        drain_until: float | None = None
        failures = 0
        while True:
            if self._stop.is_set() and drain_until is None:
                drain_until = time.monotonic() + DRAIN_SECONDS
            if drain_until is not None and (self._pending.empty() or time.monotonic() > drain_until):
                if not self._pending.empty():
                    logger.error("%d reports still queued at stop", self._pending.qsize())
                return
            try:
                first = self._pending.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            kept = self._flush(batch)
            if kept:
                for item in kept:  # again, behind what came meanwhile: each report stands alone
                    self._pending.put(item)
                failures += 1
                time.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
            else:
                failures = 0

    def _flush(self, batch: list[tuple[dict[str, Any], Any]]) -> list[tuple[dict[str, Any], Any]]:
        """Send a batch; what SQS did not take, to send again."""
        try:
            failed = set(self._send([report for report, _ in batch]))
        except Exception:
            logger.exception("status-updates send failed; %d reports kept to send again", len(batch))
            return batch
        acks: dict[str, list[Any]] = {}
        for index, (report, ack) in enumerate(batch):
            if index not in failed and ack is not None:
                acks.setdefault(report["instance_id"], []).append(ack)
        for instance_id, values in acks.items():
            try:
                self._ack(instance_id, values)
            except Exception:
                logger.exception("ack to the engine of %s failed; the events will be reported again", instance_id)
        return [item for index, item in enumerate(batch) if index in failed]
