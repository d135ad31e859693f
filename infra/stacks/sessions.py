"""Sessions: the VPC, the ECS cluster and the Fargate session workers, and the session store they share."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from bzapper.topology import Topology
from infra.components.logs import log_group
from infra.components.permissions import Resources
from infra.components.worker import SessionStore, WorkerService
from infra.config import InfraConfig
from infra.stacks.data import DataStack
from infra.stacks.messaging import MessagingStack


class SessionsStack(Stack):
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
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=config.name("sessions"),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="workers", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
            ],
            # DynamoDB and S3 traffic stays off the NAT gateways (and their per-GB charge).
            gateway_endpoints={
                "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
            restrict_default_security_group=False,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group(self, "FlowLogs", config=config)),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.store = SessionStore(self, "SessionStore", config=config, vpc=self.vpc)
        self.workers = WorkerService(
            self,
            "Workers",
            config=config,
            vpc=self.vpc,
            store=self.store,
            resources=Resources(
                tables=data.tables,
                queues=messaging.addressable_queues,
                bus=messaging.bus,
                buckets=data.buckets,
                otp_key=data.otp_key,
            ),
        )
