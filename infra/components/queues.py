"""Every topology queue with its dead-letter queue and redrive policy (FIFO where the topology says)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from bzapper.topology import Queue
from infra.config import InfraConfig

DLQ_RETENTION = Duration.days(14)
"""The longest SQS keeps a message: time for an operator to look and redrive."""


def queue_physical_name(config: InfraConfig, spec: Queue) -> str:
    return config.name(spec.name) + spec.physical_suffix


def dlq_physical_name(config: InfraConfig, spec: Queue) -> str:
    return config.name(spec.dlq_name) + spec.physical_suffix


def _fifo_props(fifo: bool) -> dict:
    if not fifo:
        return {}
    # High-throughput FIFO: order and deduplication per message group (an instance, or a message).
    return {
        "fifo": True,
        "deduplication_scope": sqs.DeduplicationScope.MESSAGE_GROUP,
        "fifo_throughput_limit": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
    }


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig, queues: tuple[Queue, ...]) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        removal = RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY
        for spec in queues:
            dlq = sqs.Queue(
                self,
                spec.dlq_name,
                queue_name=dlq_physical_name(config, spec),
                retention_period=DLQ_RETENTION,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                removal_policy=removal,
                **_fifo_props(spec.fifo),
            )
            queue = sqs.Queue(
                self,
                spec.name,
                queue_name=queue_physical_name(config, spec),
                visibility_timeout=Duration.seconds(spec.visibility_timeout),
                retention_period=Duration.days(4),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=spec.max_receive_count, queue=dlq),
                removal_policy=removal,
                **_fifo_props(spec.fifo),
            )
            self.queues[spec.name] = queue
            self.dead_letter_queues[spec.name] = dlq
