"""The session worker: takes jobs from the shard queues, sends them through the engine, reports statuses.

Exactly once toward the recipient: a redelivered job whose message already reached `sent` is
skipped; one that crashed between WhatsApp's ack and our report is re-sent with the same WhatsApp
id (derived from our message id), which the recipient's device collapses.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable

from bzapper.adapters.aws.queues import SqsReader
from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.model import StatusReport
from bzapper.domain.statuses import RANK, MessageStatus, rank
from bzapper.engines.base import Engine, PermanentFailure
from bzapper.services.container import Services
from bzapper.topology import SHARD_COUNT, shard_queue_name

logger = logging.getLogger("bzapper.worker")

INSTANCE_REFRESH_SECONDS = 5.0


class SessionWorker:
    def __init__(self, services: Services, engines: dict[str, Engine], shards: list[int] | None = None) -> None:
        self.services = services
        self.engines = engines
        self.shards = shards if shards is not None else list(range(SHARD_COUNT))
        self.stop = threading.Event()
        self._instances: dict[str, list[str]] = {name: [] for name in engines}
        self._instances_at = 0.0

    def run(self, should_continue: Callable[[], bool] = lambda: True) -> None:
        threads = [
            threading.Thread(target=self._consume_shard, args=(shard,), name=f"shard-{shard}", daemon=True)
            for shard in self.shards
        ]
        threads += [
            threading.Thread(target=self._pump_receipts, args=(name,), name=f"receipts-{name}", daemon=True)
            for name in self.engines
        ]
        for thread in threads:
            thread.start()
        while not self.stop.is_set() and should_continue():
            self.stop.wait(0.5)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=10)

    # Outbound -------------------------------------------------------------------------------

    def _consume_shard(self, shard: int) -> None:
        reader = SqsReader(settings().queue(shard_queue_name(shard), fifo=True))
        while not self.stop.is_set():
            try:
                self.process_batch(reader, reader.receive(max_messages=10, wait_seconds=1))
            except Exception:
                logger.exception("shard %s: receive loop error", shard)
                self.stop.wait(1.0)

    def process_batch(self, reader: SqsReader, messages: list[dict]) -> None:
        """Jobs in queue order; after a failure, the rest of that number's jobs wait for the retry."""
        held: set[str] = set()
        for message in messages:
            if self.stop.is_set():
                return  # not deleted: it comes back to whoever holds the shard next
            group = message.get("Attributes", {}).get("MessageGroupId", "")
            if group in held:
                continue  # keep the conversation's order: nothing overtakes a job that will be retried
            if self.process_job(json.loads(message["Body"])):
                reader.delete([message["ReceiptHandle"]])
            else:
                held.add(group)

    def process_job(self, job: dict) -> bool:
        """True when the job is finished (sent now or before); False leaves it to be retried."""
        message_id = job["message_id"]
        status = self.services.messages.status_of(message_id)
        if status is None:
            logger.error("job for unknown message %s dropped", message_id)
            return True
        if rank(status) >= RANK[MessageStatus.SENT]:
            return True  # a redelivery of something already sent (or finally failed)
        instance = self.services.instances.get(job["instance_id"])
        engine = self.engines.get(instance.engine) if instance else None
        if engine is None:
            logger.error("no engine for instance %s", job["instance_id"])
            return False
        report = self.services.statuses.report
        report(StatusReport(job["instance_id"], job["wa_message_id"], "sending", now_ms(), message_id))
        try:
            ack = engine.send(job)
        except PermanentFailure as failure:
            report(StatusReport(job["instance_id"], job["wa_message_id"], "failed", now_ms(), message_id, failure.code))
            return True
        except Exception:
            logger.exception("send of %s failed; it will be retried", message_id)
            return False
        report(StatusReport(job["instance_id"], ack.wa_message_id, "sent", ack.server_timestamp_ms, message_id))
        return True

    # Inbound receipts -----------------------------------------------------------------------

    def _pump_receipts(self, engine_name: str) -> None:
        engine = self.engines[engine_name]
        while not self.stop.is_set():
            try:
                receipts = engine.poll_receipts(self._instances_of(engine_name), wait_seconds=1.0)
                for receipt in receipts:
                    self.services.statuses.report(
                        StatusReport(receipt.instance_id, receipt.wa_message_id, receipt.status, receipt.timestamp_ms)
                    )
                engine.ack_receipts([receipt.receipt_id for receipt in receipts])
                if not receipts and not self._instances[engine_name]:
                    self.stop.wait(1.0)
            except Exception:
                logger.exception("receipts loop error (%s)", engine_name)
                self.stop.wait(1.0)

    def _instances_of(self, engine_name: str) -> list[str]:
        # The foundation's worker holds every shard, so every instance; leases narrow this later.
        if time.monotonic() - self._instances_at > INSTANCE_REFRESH_SECONDS:
            for name in self.engines:
                self._instances[name] = [ref.instance_id for ref in self.services.instances.all_with_engine(name)]
            self._instances_at = time.monotonic()
        return self._instances[engine_name]


def parent_alive(parent_pid: int) -> Callable[[], bool]:
    """A worker started by the dev runner exits when the runner is gone (no orphans)."""
    return lambda: os.getppid() == parent_pid
