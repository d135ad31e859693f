"""The commands the API left on an instance's control queue, as the worker holding its shard would take them."""

from __future__ import annotations

import json

import boto3

from bzapper.config import settings
from bzapper.topology import control_queue_name


def control_commands(svc, instance_id: str, op: str) -> list[dict]:
    """The `op` commands waiting for the instance (the queue is drained: other commands are taken and dropped)."""
    shard = svc.instances.get(instance_id).shard
    sqs = boto3.client("sqs", region_name=settings().region)
    url = sqs.get_queue_url(QueueName=settings().queue(control_queue_name(shard), fifo=False))["QueueUrl"]
    found = []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if not answer.get("Messages"):
            return found
        found += [c for c in (json.loads(m["Body"]) for m in answer["Messages"]) if c["op"] == op]
