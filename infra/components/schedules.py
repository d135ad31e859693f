"""A topology schedule: EventBridge Scheduler invokes the group's function at a fixed rate."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from bzapper.topology import Schedule
from infra.components import nag
from infra.config import InfraConfig


def schedule_expression(every_seconds: int) -> scheduler.ScheduleExpression:
    if every_seconds < 60 or every_seconds % 60:
        raise ValueError(f"EventBridge Scheduler rates are whole minutes: every_seconds={every_seconds}")
    return scheduler.ScheduleExpression.rate(Duration.minutes(every_seconds // 60))


class FunctionSchedule(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: InfraConfig, spec: Schedule, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"EventBridge Scheduler: invokes the {spec.group} function, nothing else",
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule_name=config.name(spec.group),
            description=f"Runs the {spec.group} function every {spec.every_seconds} s",
            schedule=schedule_expression(spec.every_seconds),
            # A missed run is simply the next one: no retries piling up behind a slow run, no DLQ.
            target=scheduler_targets.LambdaInvoke(
                function,
                role=self.role,
                retry_attempts=0,
                max_event_age=Duration.seconds(min(spec.every_seconds, 86400)),
            ),
        )
        # CDK's grantInvoke adds `<function arn>:*` (its versions and aliases) beside the function's ARN.
        logical_id = stack.resolve(stack.get_logical_id(function.node.default_child))
        nag.acknowledge(self, "AwsSolutions-IAM5", f"Resource::<{logical_id}.Arn>:*", reason_key="function-versions")
