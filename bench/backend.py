"""The AWS stand-in the in-process sections run against: a moto server this harness starts itself.

Why a moto *server* (a separate process on a loopback port, the same one `bzapper dev` runs) rather
than moto in-process: the
handler under test should pay what it pays on Lambda (botocore's serialization, signing, an HTTP
round trip over a kept-alive connection, parsing) and nothing else; with in-process moto the
backend's own Python work would run in the measured process and the HTTP transport would be
skipped. The floor (one PutItem + one SendMessage with boto3) runs against the very same server,
so the ratio compares like with like.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from bzapper_dev.local.dev import local_environment
from bzapper_dev.local.processes import free_port, spawn, stop_process, wait_for_port

BENCH_STAGE = "bench"


class MotoServer:
    def __init__(self, state_dir: Path) -> None:
        self.port = free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(state_dir / "moto.log", "ab")  # noqa: SIM115 - open for the server's life
        self.module = server_module()
        self.process = spawn(
            [sys.executable, "-m", self.module, "-H", "127.0.0.1", "-p", str(self.port)], dict(os.environ), self.log
        )
        wait_for_port("127.0.0.1", self.port, timeout=30, process=self.process)

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


def server_module() -> str:
    """The moto server the local stack runs (moto with bzapper's DynamoDB corrections), else plain moto.

    Same backend as `bzapper dev`: plain moto 5.2.5 deep-copies every table a transaction touches,
    which would make the handler (a transaction per send) slower as the table grows and the floor
    (a PutItem) would not pay it."""
    import importlib.util

    corrected = "bzapper_dev.local.moto_server"
    return corrected if importlib.util.find_spec(corrected) else "moto.server"


def bench_environment(moto_url: str, stage: str = BENCH_STAGE) -> dict[str, str]:
    """The local runtime's environment, on our own stage so nothing collides with a dev stack."""
    return {**local_environment(moto_url), "BZ_STAGE": stage}


class EndpointSession:
    """What `bzapper_dev.local.provision` needs from a boto3 session, pinned to one endpoint."""

    def __init__(self, endpoint_url: str) -> None:
        import boto3

        self._session = boto3.session.Session()
        self.endpoint_url = endpoint_url

    def client(self, service: str, region_name: str | None = None) -> Any:
        return self._session.client(service, region_name=region_name, endpoint_url=self.endpoint_url)


def floor_topology() -> Any:
    """A table shaped exactly like `messages` (same keys and GSIs) and a FIFO queue like a shard's."""
    from bzapper.topology import TOPOLOGY, Queue, Topology

    messages = next(table for table in TOPOLOGY.tables if table.name == "messages")
    return Topology(
        routes=(),
        tables=(dataclasses.replace(messages, name="floor-messages"),),
        queues=(Queue("floor-jobs", fifo=True, visibility_timeout=10),),
        consumers=(),
        schedules=(),
    )


class Floor:
    """The bare minimum of an accepted send: one DynamoDB PutItem and one SQS SendMessage, with boto3.

    The item and the body are copies of what the real handler wrote (same attributes, same size),
    so the only difference with the handler is everything the handler does besides those two calls.
    """

    def __init__(self, endpoint_url: str, settings: Any, template_item: dict[str, Any], job_body: str) -> None:
        from bzapper_dev.local.provision import provision

        session = EndpointSession(endpoint_url)
        provision(session, settings, floor_topology())
        self.ddb = session.client("dynamodb", region_name=settings.region)
        self.sqs = session.client("sqs", region_name=settings.region)
        self.table = settings.table("floor-messages")
        self.queue_url = self.sqs.get_queue_url(QueueName=settings.queue("floor-jobs", fifo=True))["QueueUrl"]
        self.template = template_item
        self.body = job_body
        self.group = template_item["instance_id"]["S"]

    def send(self) -> None:
        message_id = f"msg_floor{uuid.uuid4().hex[:22]}"
        item = dict(self.template)
        item["message_id"] = {"S": message_id}
        self.ddb.put_item(TableName=self.table, Item=item)
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=self.body,
            MessageGroupId=self.group,
            MessageDeduplicationId=message_id,
        )

    def purge(self) -> None:
        drain(self.sqs, self.queue_url)

    def clone(self) -> Floor:
        """Another floor client (its own boto3 clients and connections) for a concurrent thread."""
        other = object.__new__(Floor)
        other.__dict__.update(self.__dict__)
        session = EndpointSession(self.ddb.meta.endpoint_url)
        other.ddb = session.client("dynamodb", region_name=self.ddb.meta.region_name)
        other.sqs = session.client("sqs", region_name=self.sqs.meta.region_name)
        return other


def job_body_of(item: dict[str, Any]) -> str:
    """What the handler enqueues for a message item (OutboundMessage.job()), rebuilt from the item."""
    return json.dumps(
        {
            "message_id": item["message_id"]["S"],
            "account_id": item["account_id"]["S"],
            "instance_id": item["instance_id"]["S"],
            "livemode": item["livemode"]["BOOL"],
            "type": item["type"]["S"],
            "content": json.loads(item["content"]["S"]),
            "to_jid": item["to_jid"]["S"],
            "wa_message_id": item["wa_message_id"]["S"],
        },
        separators=(",", ":"),
    )


def drain(sqs: Any, queue_url: str, max_batches: int = 200) -> int:
    """Empties a queue by receiving and deleting (moto, like SQS, allows one PurgeQueue a minute)."""
    removed = 0
    for _ in range(max_batches):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            break
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        removed += len(messages)
    return removed
