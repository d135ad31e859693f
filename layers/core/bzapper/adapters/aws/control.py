"""The control path to session workers: commands on the shard's control queue, answers in the requests table.

A command reaches whichever worker holds the instance's shard now (the holder reads its shards' control
queues). A question (contacts check, pairing code) carries a request id; the holder writes the answer
under that id and the API waits for it with consistent reads, up to a timeout.
"""

from __future__ import annotations

import json
import time

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.clients import client, queue_url
from bzapper.adapters.aws.models import RequestModel
from bzapper.config import settings
from bzapper.topology import control_queue_name

ANSWER_TTL_SECONDS = 300
# Consistent reads while waiting for an answer: fast at first (a worker answers in tens of ms), then gentler.
_POLL_STEPS_SECONDS = (0.02, 0.05, 0.1, 0.2, 0.25)


class ControlChannel:
    def send(self, shard: int, command: dict) -> None:
        client("sqs").send_message(
            QueueUrl=queue_url(settings().queue(control_queue_name(shard), fifo=False)),
            MessageBody=json.dumps(command, separators=(",", ":")),
        )

    def answer(self, request_id: str, answer: dict) -> None:
        RequestModel(request_id, answer=answer, expires_at=int(time.time()) + ANSWER_TTL_SECONDS).save()

    def wait_for_answer(self, request_id: str, timeout_seconds: float) -> dict | None:
        """The answer, or None when no worker answered within the timeout."""
        deadline = time.monotonic() + timeout_seconds
        step = 0
        while True:
            try:
                return RequestModel.get(request_id, consistent_read=True).answer
            except DoesNotExist:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(_POLL_STEPS_SECONDS[min(step, len(_POLL_STEPS_SECONDS) - 1)], remaining))
            step += 1
