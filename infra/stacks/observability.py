"""Observability: alarms on every DLQ, every function, the session workers and the API; one dashboard."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from bzapper.topology import Topology
from infra import access
from infra.components.alarms import Alarms
from infra.config import InfraConfig
from infra.stacks.api import ApiStack


class ObservabilityStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        topology: Topology,
        api: ApiStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alarms = Alarms(
            self,
            "Alarms",
            config=config,
            topology=topology,
            function_groups=access.function_groups(topology),
            api_id=api.http.api.api_id,
        )
