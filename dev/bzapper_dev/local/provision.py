"""Creates every table, queue (with its DLQ), bucket and bus of the topology on an AWS endpoint.

Used against moto: by `bzapper dev` (moto server) and by the integration tests (moto in-process).
"""

from __future__ import annotations

import json
from typing import Any

from bzapper.config import Settings
from bzapper.topology import TOPOLOGY, Queue, Table, Topology, physical_name


def _table_spec(table: Table, physical: str) -> dict[str, Any]:
    attributes = {table.hash_key: "S"}
    keys = [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
    if table.range_key:
        attributes[table.range_key] = "S"
        keys.append({"AttributeName": table.range_key, "KeyType": "RANGE"})
    indexes = []
    for index in table.indexes:
        attributes[index.hash_key] = index.hash_type
        index_keys = [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
        if index.range_key:
            attributes[index.range_key] = index.range_type
            index_keys.append({"AttributeName": index.range_key, "KeyType": "RANGE"})
        projection: dict = {"ProjectionType": index.projection}
        if index.include:
            projection["NonKeyAttributes"] = list(index.include)
        indexes.append({"IndexName": index.name, "KeySchema": index_keys, "Projection": projection})
    spec: dict[str, Any] = {
        "TableName": physical,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        spec["GlobalSecondaryIndexes"] = indexes
    return spec


def _create_queue(sqs: Any, queue: Queue, settings: Settings) -> None:
    fifo_attributes = {"FifoQueue": "true"} if queue.fifo else {}
    dlq_url = sqs.create_queue(
        QueueName=settings.queue(queue.dlq_name, queue.fifo),
        Attributes={**fifo_attributes, "MessageRetentionPeriod": str(14 * 24 * 3600)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName=settings.queue(queue.name, queue.fifo),
        Attributes={
            **fifo_attributes,
            "VisibilityTimeout": str(queue.visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}),
        },
    )


def provision(session: Any, settings: Settings, topology: Topology = TOPOLOGY) -> None:
    """Idempotent: creating what exists is skipped, so a restarted stack reuses its resources."""
    dynamodb = session.client("dynamodb", region_name=settings.region)
    existing = set(dynamodb.list_tables()["TableNames"])
    for table in topology.tables:
        physical = settings.table(table.name)
        if physical in existing:
            continue
        dynamodb.create_table(**_table_spec(table, physical))
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=physical,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
    sqs = session.client("sqs", region_name=settings.region)
    for queue in topology.queues:
        _create_queue(sqs, queue, settings)
    s3 = session.client("s3", region_name=settings.region)
    for bucket in topology.buckets:
        s3.create_bucket(Bucket=settings.bucket(bucket))
        # The web console follows GET /media/{id}'s redirect to a pre-signed URL from its own origin: a read
        # that CORS must allow (the signature is the credential; CORS grants nothing beyond it).
        s3.put_bucket_cors(
            Bucket=settings.bucket(bucket),
            CORSConfiguration={
                "CORSRules": [{"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"]}]
            },
        )
    events = session.client("events", region_name=settings.region)
    if settings.bus not in {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}:
        events.create_event_bus(Name=settings.bus)
    for rule in topology.rules:
        queue = topology.queue(rule.queue)
        url = sqs.get_queue_url(QueueName=settings.queue(queue.name, queue.fifo))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        name = physical_name(settings.stage, rule.name)
        events.put_rule(Name=name, EventBusName=settings.bus, EventPattern=json.dumps({"source": [rule.source]}))
        events.put_targets(Rule=name, EventBusName=settings.bus, Targets=[{"Id": rule.queue, "Arn": arn}])
