"""The CDK app: `cdk synth` / `cdk deploy` (see docs/deploy.md). Every resource comes from `bzapper.topology`.

    npx cdk synth -c stage=dev          # or: make synth STAGE=dev
    npx cdk deploy --all -c stage=prod

cdk-nag's AwsSolutions pack runs as a policy validation plugin: any finding not acknowledged (with a
reason, in infra/components/nag.py) fails the synth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from aws_cdk import App, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from bzapper.topology import TOPOLOGY, Topology
from infra.components.console import ConsoleNotBuilt
from infra.config import InfraConfig
from infra.stacks.api import ApiStack
from infra.stacks.data import DataStack
from infra.stacks.identity import IdentityStack
from infra.stacks.messaging import MessagingStack
from infra.stacks.observability import ObservabilityStack
from infra.stacks.sessions import SessionsStack


@dataclass
class Stacks:
    data: DataStack
    messaging: MessagingStack
    identity: IdentityStack
    api: ApiStack
    sessions: SessionsStack
    observability: ObservabilityStack

    def all(self) -> list[Stack]:
        return [self.data, self.messaging, self.identity, self.api, self.sessions, self.observability]


def environment() -> Environment | None:
    """The account/region the CLI resolved (`cdk deploy` with a profile); none when synthesizing offline."""
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    return Environment(account=account, region=region) if account and region else None


def build(app: App, config: InfraConfig, topology: Topology = TOPOLOGY, *, nag: bool = True) -> Stacks:
    env = environment()
    description = f"bzapper ({config.stage}): %s"
    data = DataStack(
        app, config.stack_name("data"), config=config, topology=topology, env=env,
        description=description % "DynamoDB tables and the media bucket",
        termination_protection=config.protected,
    )  # fmt: skip
    messaging = MessagingStack(
        app, config.stack_name("messaging"), config=config, topology=topology, env=env,
        description=description % "SQS queues with their DLQs, the EventBridge bus, rules and archive",
        termination_protection=config.protected,
    )  # fmt: skip
    identity = IdentityStack(
        app, config.stack_name("identity"), config=config, topology=topology, data=data, messaging=messaging,
        env=env, description=description % "the console users' Cognito user pool, its app client and triggers",
        termination_protection=config.protected,
    )  # fmt: skip
    api = ApiStack(
        app, config.stack_name("api"), config=config, topology=topology, data=data, messaging=messaging,
        identity=identity, env=env, description=description % "the HTTP API and one Lambda function per group",
    )  # fmt: skip
    sessions = SessionsStack(
        app, config.stack_name("sessions"), config=config, topology=topology, data=data, messaging=messaging,
        env=env, description=description % "VPC, ECS cluster, Fargate session workers and their session store",
    )  # fmt: skip
    observability = ObservabilityStack(
        app, config.stack_name("observability"), config=config, topology=topology, api=api, env=env,
        description=description % "alarms and the dashboard",
    )  # fmt: skip
    # Alarms name resources by their physical names: deploy them after what they watch.
    observability.add_stack_dependency(sessions)
    observability.add_stack_dependency(messaging)
    observability.add_stack_dependency(identity)
    for stack in (data, messaging, identity, api, sessions, observability):
        Tags.of(stack).add("project", "bzapper")
        Tags.of(stack).add("stage", config.stage)
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return Stacks(data, messaging, identity, api, sessions, observability)


def main() -> None:
    app = App()
    try:
        build(app, InfraConfig.from_context(app.node))
    except ConsoleNotBuilt as problem:
        raise SystemExit(f"error: {problem}") from None  # what to do, without a traceback
    app.synth()


if __name__ == "__main__":
    main()
