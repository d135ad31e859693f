"""Data: every topology table (DynamoDB) and bucket (S3). Protected from deletion outside `dev`."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
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
