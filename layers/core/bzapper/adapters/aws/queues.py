"""SQS adapters: the shard queues toward the workers and the report queue back from them."""

from __future__ import annotations

import json
import logging

from bzapper.adapters.aws.clients import client, queue_url
from bzapper.config import settings
from bzapper.domain.model import OutboundMessage
from bzapper.domain.reports import group_and_dedupe
from bzapper.topology import CLOUD_QUEUE, CLOUD_SHARD, priority_queue_name, shard_queue_name

logger = logging.getLogger(__name__)

PRIORITY_TYPES = frozenset({"otp"})
"""Jobs that take the shard's priority lane: a verification code must not wait behind a campaign."""


def job_queue_name(message: OutboundMessage) -> str:
    if message.shard == CLOUD_SHARD:
        return CLOUD_QUEUE
    lane = priority_queue_name if message.type in PRIORITY_TYPES else shard_queue_name
    return lane(message.shard)


def job_group(message: OutboundMessage) -> str:
    if message.shard == CLOUD_SHARD:
        return f"{message.instance_id}:{message.to_jid}"[:128]
    return message.instance_id


class SqsJobQueue:
    def enqueue(self, message: OutboundMessage) -> None:
        client("sqs").send_message(
            QueueUrl=queue_url(settings().queue(job_queue_name(message), fifo=True)),
            MessageBody=json.dumps(message.job(), separators=(",", ":")),
            # One conversation order per number (per conversation for a Cloud API number, whose sends run in
            # parallel: docs/engines.md); the id dedupes an outbox re-send within SQS's window.
            MessageGroupId=job_group(message),
            MessageDeduplicationId=message.message_id,
        )


class SqsReportSink:
    """The workers' fenced reports, to the status-updates FIFO queue (its consumer applies them)."""

    def send(self, reports: list[dict]) -> list[int]:
        """Send up to 10 reports in one call; the indexes SQS did not take."""
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


class SqsReader:
    """Receiving side of a queue, for the session worker and the local event-source pollers."""

    def __init__(self, physical_name: str) -> None:
        self.physical_name = physical_name

    @property
    def url(self) -> str:
        return queue_url(self.physical_name)

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[dict]:
        """Raw SQS messages, with the attributes a Lambda SQS event carries."""
        answer = client("sqs").receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return answer.get("Messages", [])

    def hide(self, receipt_handles: list[str], seconds: int) -> None:
        """Invisible for `seconds` from now (ChangeMessageVisibility): a held send, the heartbeat of jobs in hand,
        or 0 to give jobs back at once."""
        for start in range(0, len(receipt_handles), 10):
            answer = client("sqs").change_message_visibility_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": max(0, min(seconds, 43_200))}
                    for index, handle in enumerate(receipt_handles[start : start + 10])
                ],
            )
            for failed in answer.get("Failed", []):
                # A handle no longer current (the message was received again, or deleted): nothing to keep.
                logger.warning("visibility of %s not changed: %s", self.physical_name, failed.get("Code"))

    def delete(self, receipt_handles: list[str]) -> None:
        for start in range(0, len(receipt_handles), 10):
            client("sqs").delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle}
                    for index, handle in enumerate(receipt_handles[start : start + 10])
                ],
            )


class SqsDeliveryJobs:
    """Jobs of the webhook dispatcher: one per (endpoint, event) delivery."""

    def enqueue(self, job: dict) -> None:
        self._send("webhook-deliveries", job)

    def dead_letter(self, job: dict) -> None:
        """An exhausted delivery, kept where operators look (and alarms count)."""
        self._send("webhook-deliveries-dlq", job)

    @staticmethod
    def postpone(queue_arn: str, receipt_handle: str, seconds: int) -> None:
        """The retry schedule lives in SQS itself: the job reappears after `seconds` (at most 12 h)."""
        client("sqs").change_message_visibility(
            QueueUrl=queue_url(queue_arn.rsplit(":", 1)[-1]),
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(seconds, 43_200)),
        )

    @staticmethod
    def _send(name: str, job: dict) -> None:
        client("sqs").send_message(
            QueueUrl=queue_url(settings().queue(name, fifo=False)), MessageBody=json.dumps(job, separators=(",", ":"))
        )
