"""Identity: the console users' Cognito user pool, its app client, and the functions the pool invokes (triggers).

A stack of its own, termination-protected outside `dev` like the data: the pool is the only copy of the users'
passwords, which no backup restores, so it must not live in the api stack that is redeployed (or torn down)
freely. The trigger functions sit here beside it because the pool names them (the api stack, which needs the
pool's ids, could not also hold them without a cycle); they are built like every other group's function.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from bzapper.topology import Topology
from infra import access
from infra.components.function import GroupFunction, Layers
from infra.components.identity import UserPool
from infra.components.permissions import Resources, grant
from infra.config import InfraConfig
from infra.stacks.data import DataStack
from infra.stacks.messaging import MessagingStack

TRIGGER_TIMEOUT = Duration.seconds(5)
"""Cognito waits 5 s for a trigger (then retries, up to 3 times) before failing the user's request."""
TRIGGER_MEMORY_MIB = 1024
"""A cold start must fit the 5 s with room to spare: more memory, more CPU. Triggers run seldom."""


class IdentityStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        topology: Topology,
        data: DataStack,
        messaging: MessagingStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.trigger_functions: dict[str, GroupFunction] = {}
        if topology.triggers:
            layers = Layers(self, "Layers", config=config)
            # What a trigger may touch comes from the access map, as for every group; never the pool itself
            # (the pool names the function, so the function's role cannot name the pool back).
            resources = Resources(
                tables=data.tables,
                queues=messaging.addressable_queues,
                bus=messaging.bus,
                buckets=data.buckets,
                otp_key=data.otp_key,
            )
            for group in dict.fromkeys(trigger.group for trigger in topology.triggers):
                events = ", ".join(trigger.event for trigger in topology.triggers if trigger.group == group)
                function = GroupFunction(
                    self,
                    f"Fn-{group}",
                    config=config,
                    group=group,
                    description=f"bzapper {config.stage}: the user pool's {events} trigger",
                    layers=layers,
                    timeout=TRIGGER_TIMEOUT,
                    memory_mib=TRIGGER_MEMORY_MIB,
                )
                function.add_environment(grant(function.role, access.ACCESS[group], resources))
                self.trigger_functions[group] = function

        self.users = UserPool(
            self,
            "Users",
            config=config,
            triggers={trigger: self.trigger_functions[trigger.group].function for trigger in topology.triggers},
        )
        self.user_pool = self.users.pool
        self.client = self.users.client

        CfnOutput(
            self,
            "UserPoolId",
            value=self.user_pool.user_pool_id,
            description="The console users' Cognito user pool (BZ_COGNITO_USER_POOL_ID)",
        )
        CfnOutput(
            self,
            "UserPoolClientId",
            value=self.client.user_pool_client_id,
            description="The API's app client of that pool (no secret; BZ_COGNITO_CLIENT_ID)",
        )
