"""The stage's EventBridge bus, an archive for replay, and the topology's rules (retry policy + DLQ per target)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from bzapper.adapters.aws.events import SOURCE
from infra.components import nag
from infra.config import InfraConfig

ARCHIVE_RETENTION = Duration.days(30)
DEFAULT_RULE_RETRIES = 185
"""EventBridge's maximum: with `max_event_age` at 24 h the bus keeps trying for a day before the DLQ."""
DEFAULT_RULE_MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class RuleSpec:
    """What infra needs of a topology rule: its name, its target queue, the event types it routes."""

    name: str
    queue: str
    source: str
    detail_types: tuple[str, ...]
    retry_attempts: int
    max_event_age_seconds: int

    @property
    def dlq_name(self) -> str:
        return f"rule-{self.name}-dlq"


def rule_spec(rule: Any) -> RuleSpec:
    """Reads a topology rule (`name`, target `queue`, optional `source`, event types, retry settings)."""
    name = rule if isinstance(rule, str) else getattr(rule, "name", None)
    queue = next(
        (getattr(rule, attr) for attr in ("queue", "target_queue", "target") if getattr(rule, attr, None)), None
    )
    if not name or not isinstance(queue, str):
        raise ValueError(
            f"topology rule {rule!r}: the CDK app needs a `name` and a target `queue` (a topology queue's name)"
        )
    detail_types = tuple(getattr(rule, "detail_types", None) or getattr(rule, "event_types", None) or ())
    retries = getattr(rule, "retry_attempts", None) or getattr(rule, "max_retries", None) or DEFAULT_RULE_RETRIES
    max_age = getattr(rule, "max_event_age_seconds", None) or DEFAULT_RULE_MAX_AGE_SECONDS
    source = getattr(rule, "source", None) or SOURCE
    return RuleSpec(name, queue, source, detail_types, int(retries), int(max_age))


class EventBus(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        bus_name: str,
        rules: tuple[Any, ...],
        queues: dict[str, sqs.Queue],
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY
        self.bus = events.EventBus(self, "Bus", event_bus_name=config.name(bus_name))
        self.archive = self.bus.archive(
            "Archive",
            archive_name=config.name(f"{bus_name}-archive"),
            description="Every bzapper event, kept for replay (EventBridge StartReplay).",
            event_pattern=events.EventPattern(source=[SOURCE]),
            retention=ARCHIVE_RETENTION,
        )
        self.rules: dict[str, events.Rule] = {}
        self.rule_dlqs: dict[str, sqs.Queue] = {}
        for rule in rules:
            spec = rule_spec(rule)
            if spec.queue not in queues:
                raise ValueError(f"topology rule {spec.name!r} targets {spec.queue!r}, which is not a topology queue")
            target_queue = queues[spec.queue]
            # EventBridge needs a standard queue as a target's DLQ, whatever the target queue is.
            dlq = sqs.Queue(
                self,
                spec.dlq_name,
                queue_name=config.name(spec.dlq_name),
                retention_period=Duration.days(14),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                removal_policy=removal,
            )
            nag.acknowledge(dlq, "AwsSolutions-SQS3", reason_key="AwsSolutions-SQS3[dlq]")
            pattern = events.EventPattern(source=[spec.source], detail_type=list(spec.detail_types) or None)
            fifo = bool(target_queue.fifo)
            self.rules[spec.name] = events.Rule(
                self,
                f"Rule-{spec.name}",
                rule_name=config.name(spec.name),
                event_bus=self.bus,
                event_pattern=pattern,
                targets=[
                    targets.SqsQueue(
                        target_queue,
                        dead_letter_queue=dlq,
                        retry_attempts=spec.retry_attempts,
                        max_event_age=Duration.seconds(spec.max_event_age_seconds),
                        message_group_id="events" if fifo else None,
                    )
                ],
            )
            self.rule_dlqs[spec.name] = dlq
