"""One DynamoDB table per topology table: on demand, point-in-time recovery, TTL, the topology's GSIs."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from bzapper.topology import Table
from infra.config import InfraConfig

_KEY_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _key(name: str, kind: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=_KEY_TYPES[kind])


class Tables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: InfraConfig, tables: tuple[Table, ...]) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in tables:
            table = dynamodb.Table(
                self,
                spec.name,
                table_name=config.name(spec.name),
                partition_key=_key(spec.hash_key, "S"),
                sort_key=_key(spec.range_key, "S") if spec.range_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=spec.ttl_attribute,
                deletion_protection=config.protected,
                removal_policy=RemovalPolicy.RETAIN if config.protected else RemovalPolicy.DESTROY,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_key(index.hash_key, index.hash_type),
                    sort_key=_key(index.range_key, index.range_type) if index.range_key else None,
                    projection_type=dynamodb.ProjectionType(index.projection),
                    non_key_attributes=list(index.include) or None,
                )
            self.tables[spec.name] = table
