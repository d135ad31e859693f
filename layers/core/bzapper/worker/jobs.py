"""Sending the jobs of the shards a worker holds.

Exactly once toward the recipient: a redelivered job whose message already reached `sent` is skipped;
one that crashed between WhatsApp's ack and our report is re-sent with the same WhatsApp id (derived
from our message id), which the recipient's device collapses. Order per number: a job that must wait
(held, retried) keeps every later job of its number waiting behind it (FIFO group = instance).

Jobs in hand stay invisible by a heartbeat (bzapper.worker.visibility), not by a long visibility timeout:
a worker that dies leaves its jobs, and the number they block, for JOB_VISIBILITY_SECONDS at most.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import Enum

from bzapper.cache import MISSING, TTLCache
from bzapper.domain.clock import now_ms
from bzapper.domain.engine import NotConnected, PermanentFailure
from bzapper.domain.instances import should_open
from bzapper.domain.leases import LeaseLost
from bzapper.domain.model import InstanceView
from bzapper.domain.pacing import Pacer
from bzapper.domain.statuses import RANK, MessageStatus, rank
from bzapper.ports.workers import QueueReader
from bzapper.services.container import Services
from bzapper.topology import HELD_VISIBILITY_SECONDS, JOB_VISIBILITY_SECONDS
from bzapper.worker.hosts import POLL_WAIT_SECONDS, HostPool
from bzapper.worker.reports import Reporter
from bzapper.worker.visibility import Holding, VisibilityKeeper

logger = logging.getLogger("bzapper.worker.jobs")

GROUPS_IN_PARALLEL = 8
OPENING_RETRY_SECONDS = 2
REPORT_ATTEMPTS = 3
RETRY_BACKOFF_MAX_SECONDS = 60
"""A send that failed unexpectedly waits 10, 20, 40, then 60 s between tries (by its receive count), so an engine
that keeps failing is not hammered every visibility timeout; its number's later jobs wait behind it (FIFO)."""
INSTANCE_GONE = "instance_not_connected"


def retry_backoff_seconds(message: dict) -> int:
    receives = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1") or 1)
    return min(JOB_VISIBILITY_SECONDS * 2 ** min(max(receives - 1, 0), 8), RETRY_BACKOFF_MAX_SECONDS)


class Outcome(Enum):
    DONE = "done"  # sent (now or before), or failed for good: delete the job
    RETRY = "retry"  # hide it (and its group) for a backoff that grows with its receive count
    HELD = "held"  # the number is down: hide it (and its group) for longer
    WAIT = "wait"  # the number's session is opening here: look again in a moment
    LOST = "lost"  # the shard is not ours any more: touch nothing


SUSPENSION_CACHE_SECONDS = 5.0
"""An operator's suspension (or its lifting) reaches the sends within this long; one read per account meanwhile."""


class JobRunner:
    def __init__(
        self,
        services: Services,
        pool_for: Callable[[str], HostPool | None],
        instance_of: Callable[[str], InstanceView | None],
        reporter: Reporter,
        pacer: Pacer,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.pool_for = pool_for
        self.instance_of = instance_of
        self.reporter = reporter
        self.pacer = pacer
        self._clock = clock
        self.visibility = VisibilityKeeper(clock)
        self._suspensions: TTLCache[bool] = TTLCache(10_000)
        # The priority lane has threads of its own: an OTP never waits behind a paced campaign's group.
        self._executors = {
            False: ThreadPoolExecutor(GROUPS_IN_PARALLEL, thread_name_prefix="jobs"),
            True: ThreadPoolExecutor(GROUPS_IN_PARALLEL, thread_name_prefix="priority"),
        }

    def start(self) -> None:
        """The heartbeat of the jobs in hand (`consume` needs it; `process_batch` alone does not start it)."""
        self.visibility.start()

    def consume(
        self,
        shard: int,
        reader: QueueReader,
        stop: threading.Event,
        *,
        priority: bool = False,
        wait_seconds: int = POLL_WAIT_SECONDS,
    ) -> None:
        while not stop.is_set():
            try:
                messages = reader.receive(max_messages=10, wait_seconds=wait_seconds)
                self.process_batch(shard, reader, messages, stop, priority, received_at=self._clock())
            except Exception:
                logger.exception("shard %s: receive loop error", shard)
                stop.wait(1.0)

    def process_batch(
        self,
        shard: int,
        reader: QueueReader,
        messages: list[dict],
        stop: threading.Event,
        priority: bool = False,
        received_at: float | None = None,
    ) -> None:
        """Each number's jobs in queue order; different numbers in parallel. Every job received stays in
        hand (its visibility extended by the heartbeat) until it is deleted, hidden on purpose or let go."""
        received_at = self._clock() if received_at is None else received_at
        groups: dict[str, list[dict]] = {}
        for message in messages:
            groups.setdefault(message.get("Attributes", {}).get("MessageGroupId", ""), []).append(message)
        # Held from the receive on: a group waiting for a free thread is in hand too.
        holdings = [
            (group, self.visibility.hold(reader, [m["ReceiptHandle"] for m in group], received_at))
            for group in groups.values()
        ]
        futures = []
        for group, holding in holdings:
            try:
                futures.append(
                    self._executors[priority].submit(self._process_group, shard, reader, group, holding, stop, priority)
                )
            except RuntimeError:
                # The runner shut down while this receive was in flight: nothing of it is processed here.
                self._give_back(reader, holding, group)
        for future in futures:
            future.result()

    def _process_group(
        self,
        shard: int,
        reader: QueueReader,
        messages: list[dict],
        holding: Holding,
        stop: threading.Event,
        priority: bool,
    ) -> None:
        try:
            for index, message in enumerate(messages):
                if stop.is_set():
                    self._give_back(reader, holding, messages[index:])
                    return
                job = json.loads(message["Body"])
                # The heartbeat keeps the group invisible however long its pacing slot or a slow send takes.
                wait = self.pacer.reserve(job["instance_id"], priority) if self.pacer.enabled else 0.0
                if wait > 0 and stop.wait(wait):
                    self._give_back(reader, holding, messages[index:])
                    return
                outcome = self.process_job(shard, job)
                if outcome is Outcome.DONE:
                    holding.let_go([message["ReceiptHandle"]])
                    reader.delete([message["ReceiptHandle"]])
                    continue
                if outcome in (Outcome.HELD, Outcome.WAIT, Outcome.RETRY):
                    holding.let_go()
                    if outcome is Outcome.RETRY:
                        seconds = retry_backoff_seconds(message)
                    else:
                        seconds = HELD_VISIBILITY_SECONDS if outcome is Outcome.HELD else OPENING_RETRY_SECONDS
                    reader.hide([m["ReceiptHandle"] for m in messages[index:]], seconds)
                return  # nothing of this number overtakes a job that waits
        finally:
            # LOST, an error: the rest is no longer extended and comes back within the visibility timeout.
            holding.let_go()

    @staticmethod
    def _give_back(reader: QueueReader, holding: Holding, messages: list[dict]) -> None:
        """A stopping shard's jobs not started yet: visible at once to the shard's next holder."""
        holding.let_go()
        try:
            reader.hide([m["ReceiptHandle"] for m in messages], 0)
        except Exception:
            logger.exception("giving back %d jobs failed; they come back by their visibility timeout", len(messages))

    def process_job(self, shard: int, job: dict) -> Outcome:
        message_id = job["message_id"]
        status = self.services.messages.status_of(message_id)
        if status is None:
            logger.error("job for unknown message %s dropped", message_id)
            return Outcome.DONE
        if rank(status) >= RANK[MessageStatus.SENT]:
            return Outcome.DONE  # a redelivery of something already sent (or finally failed)
        if self._suspended(job["account_id"]):
            return Outcome.HELD  # an operator suspended the account: its sends wait, they are not lost
        instance = self.instance_of(job["instance_id"])
        try:
            if instance is None:
                self._report(shard, job, MessageStatus.FAILED, now_ms(), error=INSTANCE_GONE)
                return Outcome.DONE
            pool = self.pool_for(instance.engine)
            if pool is None:
                return Outcome.HELD  # no engine for it on this worker: nothing to retry soon
            if not pool.holds(instance.instance_id):
                fresh = self.services.instances.view(instance.instance_id)
                if fresh is None or not should_open(fresh.status, fresh.active):
                    # Deleted or logged out meanwhile: no number will ever send it. It fails and is refunded.
                    self._report(shard, job, MessageStatus.FAILED, now_ms(), error=INSTANCE_GONE)
                    return Outcome.DONE
                return Outcome.WAIT  # opening (or reopening after a host crash): look again in a moment
            self._report(shard, job, MessageStatus.SENDING, now_ms())
            try:
                ack = pool.call(instance.instance_id, "send", job=job)
            except PermanentFailure as failure:
                self._report(shard, job, MessageStatus.FAILED, now_ms(), error=failure.code)
                return Outcome.DONE
            except NotConnected as down:
                return Outcome.WAIT if down.state == "not_open" else Outcome.HELD
            except Exception:
                logger.exception("send of %s failed; it will be retried", message_id)
                return Outcome.RETRY
            self._report(shard, job, MessageStatus.SENT, int(ack["server_timestamp_ms"]), wa_id=ack["wa_message_id"])
            return Outcome.DONE
        except LeaseLost:
            # Sent or not, the next holder finds it: re-sent with the same WhatsApp id, collapsed by the phone.
            return Outcome.LOST

    def _suspended(self, account_id: str) -> bool:
        cached = self._suspensions.get(account_id)
        if cached is not MISSING:
            return bool(cached)
        account = self.services.accounts.get(account_id)
        suspended = account is not None and account.suspended
        self._suspensions.put(account_id, suspended, SUSPENSION_CACHE_SECONDS)
        return suspended

    def _report(
        self,
        shard: int,
        job: dict,
        status: MessageStatus,
        at: int,
        *,
        error: str | None = None,
        wa_id: str | None = None,
    ) -> None:
        report = {
            "kind": "status",
            "instance_id": job["instance_id"],
            "wa_message_id": wa_id or job["wa_message_id"],
            "status": status.value,
            "at": at,
            "message_id": job["message_id"],
        }
        if error:
            report["error_code"] = error
        for attempt in range(1, REPORT_ATTEMPTS + 1):
            try:
                self.reporter.report_now(shard, report)
                return
            except LeaseLost:
                raise
            except Exception:
                # A sent message not reported is sent again by the next attempt (a duplicate on whatsmeow):
                # worth a few tries before leaving the job to SQS.
                if attempt == REPORT_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)

    def shutdown(self) -> None:
        for executor in self._executors.values():
            executor.shutdown(wait=False, cancel_futures=True)
        self.visibility.stop()
