"""Messaging: every topology queue with its DLQ, the EventBridge bus with its archive and rules."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from bzapper.topology import Topology
from infra.components.bus import EventBus
from infra.components.queues import Queues
from infra.config import InfraConfig


class MessagingStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: InfraConfig, topology: Topology, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        queues = Queues(self, "Queues", config=config, queues=topology.queues)
        self.queues = queues.queues
        self.dead_letter_queues = queues.dead_letter_queues
        # Queues and their DLQs by the names the access map uses (a DLQ is "<queue>-dlq").
        self.addressable_queues = {
            **self.queues,
            **{topology.queue(name).dlq_name: dlq for name, dlq in self.dead_letter_queues.items()},
        }
        bus = EventBus(self, "Events", config=config, bus_name=topology.bus, rules=topology.rules, queues=self.queues)
        self.bus = bus.bus
        self.rule_dead_letter_queues = bus.rule_dlqs
