"""Everything a worker learns goes back as a fenced report on the status-updates FIFO queue.

Engine events arrive on the hosts' reader threads; they are queued here and sent in batches by one
thread, so a slow SQS call never blocks a host's pipe. An event is acked to its engine only after its
report is in SQS: a crash in between re-delivers it (the sandbox keeps it), and the consumer's writes
are idempotent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from bzapper.adapters.aws.clients import client, queue_url
from bzapper.config import settings
from bzapper.domain.leases import Fence, LeaseLost

logger = logging.getLogger("bzapper.worker.reports")

BATCH = 10  # SendMessageBatch's limit


def group_and_dedupe(report: dict[str, Any]) -> tuple[str, str]:
    """FIFO group (what must stay ordered) and deduplication id (what must count once) of a report."""
    kind, instance = report["kind"], report["instance_id"]
    if kind == "status":
        wa_id = report["wa_message_id"]
        return wa_id, f"{instance}:{wa_id}:{report['status']}"
    if kind == "inbound":
        return f"{instance}:{report['chat_jid']}"[:128], f"in:{instance}:{report['wa_message_id']}"[:128]
    if kind == "state":
        qr = hashlib.sha256((report.get("qr") or "").encode()).hexdigest()[:16]
        return instance, f"state:{instance}:{report['state']}:{report['at']}:{qr}"[:128]
    if kind == "identity":
        return instance, f"id:{instance}:{report['lid']}:{report['phone']}"[:128]
    raise ValueError(f"unknown report kind {kind!r}")


def send_reports(reports: list[dict[str, Any]]) -> list[int]:
    """Send up to 10 reports in one call; the indexes that failed."""
    entries = []
    for index, report in enumerate(reports):
        group, dedupe = group_and_dedupe(report)
        entries.append(
            {
                "Id": str(index),
                "MessageBody": json.dumps(report, separators=(",", ":")),
                "MessageGroupId": group,
                "MessageDeduplicationId": dedupe,
            }
        )
    answer = client("sqs").send_message_batch(
        QueueUrl=queue_url(settings().queue("status-updates", fifo=True)), Entries=entries
    )
    return [int(failed["Id"]) for failed in answer.get("Failed", [])]


class Reporter:
    """Sends fenced reports in order, then acks their events to the engines."""

    def __init__(
        self,
        fence: Callable[[int], Fence],
        ack: Callable[[str, list[Any]], None],
        send: Callable[[list[dict[str, Any]]], list[int]] = send_reports,
    ) -> None:
        self._fence = fence
        self._ack = ack
        self._send = send
        self._pending: queue.Queue[tuple[int, dict[str, Any], Any]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reporter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def submit(self, shard: int, report: dict[str, Any], ack: Any = None) -> None:
        """Queue a report about `shard`; `ack` is the engine's ack value, returned once it is sent."""
        self._pending.put((shard, report, ack))

    def report_now(self, shard: int, report: dict[str, Any]) -> None:
        """Send one report synchronously (a job's status: the job is deleted only after it is reported).

        Raises LeaseLost when the shard is no longer safely held: the caller must not act on it.
        """
        report = {**report, "fence": self._fence(shard).to_json()}
        if self._send([report]):
            raise RuntimeError("status report was not accepted by SQS")

    def _run(self) -> None:
        while not self._stop.is_set():
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
            self._flush(batch)

    def _flush(self, batch: list[tuple[int, dict[str, Any], Any]]) -> None:
        fenced, kept = [], []
        for shard, report, ack in batch:
            try:
                fenced.append({**report, "fence": self._fence(shard).to_json()})
                kept.append((report, ack))
            except LeaseLost:
                # Not ours any more: unacked, the event goes to the shard's next holder.
                logger.info("dropped a %s report of a lost shard %s", report["kind"], shard)
        if not fenced:
            return
        try:
            failed = set(self._send(fenced))
        except Exception:
            logger.exception("status-updates send failed; %d events stay unacked", len(fenced))
            return
        acks: dict[str, list[Any]] = {}
        for index, (report, ack) in enumerate(kept):
            if index not in failed and ack is not None:
                acks.setdefault(report["instance_id"], []).append(ack)
        for instance_id, values in acks.items():
            try:
                self._ack(instance_id, values)
            except Exception:
                logger.exception("ack to the engine of %s failed; the events will be reported again", instance_id)
