"""Data: every topology table (DynamoDB) and bucket (S3), and the OTP sealing key (KMS). Protected from deletion
outside `dev`."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from bzapper.topology import Topology
from infra.components.buckets import Buckets
from infra.components.tables import Tables
from infra.config import InfraConfig


class DataStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: InfraConfig, topology: Topology, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.tables = Tables(self, "Tables", config=config, tables=topology.tables).tables
        self.buckets = Buckets(self, "Buckets", config=config, names=topology.buckets).buckets
        # Seals OTP codes for their trip across the shard queues (bzapper.adapters.sealing): the messages
        # function may only encrypt with it and the session workers only decrypt (infra/access.py otp_key).
        self.otp_key = kms.Key(
            self,
            "OtpKey",
            alias=f"alias/{config.name('otp')}",
            description=f"bzapper {config.stage}: seals verification codes between the API and the session workers",
            enable_key_rotation=True,
            pending_window=Duration.days(7),  # a sealed code lives minutes: nothing to recover after deletion
            removal_policy=RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY,
        )
