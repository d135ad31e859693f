"""No drift: the topology, the CDK app and the local runtime describe the same system, both ways round."""

from __future__ import annotations

import dataclasses
import json

import pytest
from support.cdk import Synth, consumed_queue

from bzapper.topology import DEFAULT_GROUP, TOPOLOGY
from infra import access

pytestmark = pytest.mark.xdist_group("infra")


def queue_physical(synth: Synth, logical: str, fifo: bool) -> str:
    return synth.config.name(logical) + (".fifo" if fifo else "")


def expected_queue_names(synth: Synth) -> set[str]:
    from infra.components.bus import rule_spec

    names = set()
    for queue in TOPOLOGY.queues:
        names |= {queue_physical(synth, queue.name, queue.fifo), queue_physical(synth, queue.dlq_name, queue.fifo)}
    names |= {synth.config.name(rule_spec(rule).dlq_name) for rule in TOPOLOGY.rules}
    return names


def test_tables(synth: Synth) -> None:
    deployed = {t["Properties"]["TableName"] for t in synth.resources("AWS::DynamoDB::Table").values()}
    assert deployed == {synth.config.name(table.name) for table in TOPOLOGY.tables}


def test_queues(synth: Synth) -> None:
    deployed = {q["Properties"]["QueueName"] for q in synth.resources("AWS::SQS::Queue").values()}
    assert deployed == expected_queue_names(synth)


def test_routes(synth: Synth) -> None:
    deployed = {r["Properties"]["RouteKey"] for r in synth.resources("AWS::ApiGatewayV2::Route").values()}
    assert deployed == {f"{route.method} {route.path}" for route in TOPOLOGY.routes} | {"$default"}


def test_functions(synth: Synth) -> None:
    deployed = {f["Properties"]["FunctionName"] for f in synth.group_functions().values()}
    groups = {*TOPOLOGY.api_groups, DEFAULT_GROUP}
    groups |= {c.group for c in TOPOLOGY.consumers} | {s.group for s in TOPOLOGY.schedules}
    groups |= {t.group for t in TOPOLOGY.triggers}
    assert deployed == {synth.config.name(group) for group in groups}
    assert set(access.function_groups(TOPOLOGY)) == groups


def test_consumers(synth: Synth) -> None:
    deployed = set()
    for mapping in synth.resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        function = synth.resource(synth.target(props["FunctionName"]))["Properties"]["FunctionName"]
        queue = synth.resource(synth.target(props["EventSourceArn"]))["Properties"]["QueueName"]
        deployed.add((function, queue))
    expected = {(synth.config.name(c.group), consumed_queue(synth.config, c)[0]) for c in TOPOLOGY.consumers}
    assert deployed == expected


def test_schedules(synth: Synth) -> None:
    deployed = set()
    for schedule in synth.resources("AWS::Scheduler::Schedule").values():
        props = schedule["Properties"]
        function = synth.resource(synth.target(props["Target"]["Arn"]))["Properties"]["FunctionName"]
        deployed.add((props["Name"], function))
    assert deployed == {(synth.config.name(s.group), synth.config.name(s.group)) for s in TOPOLOGY.schedules}


def test_buckets_bus_and_rules(synth: Synth) -> None:
    named_buckets = {b["Properties"].get("BucketName") for b in synth.resources("AWS::S3::Bucket").values()} - {None}
    assert named_buckets == {synth.config.name(bucket) for bucket in TOPOLOGY.buckets}
    buses = {b["Properties"]["Name"] for b in synth.resources("AWS::Events::EventBus").values()}
    assert buses == {synth.config.name(TOPOLOGY.bus)}
    rules = {r["Properties"]["Name"] for r in synth.resources("AWS::Events::Rule").values()}
    from infra.components.bus import rule_spec

    assert rules == {synth.config.name(rule_spec(rule).name) for rule in TOPOLOGY.rules}


def test_every_dlq_and_function_has_an_alarm(synth: Synth) -> None:
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]
    watched_queues = {
        d["Value"]
        for a in alarms
        if a.get("Namespace") == "AWS/SQS"
        for d in a["Dimensions"]
        if d["Name"] == "QueueName"
    }
    dlqs = {name for name in expected_queue_names(synth) if name.removesuffix(".fifo").endswith("-dlq")}
    assert dlqs <= watched_queues
    errors = {
        d["Value"]
        for a in alarms
        if a.get("Namespace") == "AWS/Lambda" and a["MetricName"] == "Errors"
        for d in a["Dimensions"]
    }
    assert errors == {synth.config.name(group) for group in access.function_groups(TOPOLOGY)}
    worker = {a["MetricName"] for a in alarms if a.get("Namespace") == "ECS/ContainerInsights"}
    assert {"RunningTaskCount", "MemoryUtilized"} <= worker
    assert all(a["AlarmActions"] for a in alarms), "every alarm notifies the alarm topic"


def test_the_local_runtime_provisions_the_same_tables_and_queues(synth: Synth) -> None:
    """`bzapper dev` (moto) and the CDK app build the same names, keys, indexes, TTLs and redrives."""
    import boto3
    from moto import mock_aws

    from bzapper.config import settings
    from bzapper_dev.local.provision import provision

    local_settings = dataclasses.replace(settings(), stage=synth.config.stage)
    local_settings_of: dict[str, tuple[int, bool, int | None]] = {}
    with mock_aws():
        session = boto3.session.Session(region_name=local_settings.region)
        provision(session, local_settings)
        dynamodb, sqs = session.client("dynamodb"), session.client("sqs")
        local_tables = {}
        for name in dynamodb.list_tables()["TableNames"]:
            description = dynamodb.describe_table(TableName=name)["Table"]
            ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            local_tables[name] = (
                sorted((k["AttributeName"], k["KeyType"]) for k in description["KeySchema"]),
                sorted(
                    (index["IndexName"], index["Projection"]["ProjectionType"])
                    for index in description.get("GlobalSecondaryIndexes", [])
                ),
                ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None,
            )
        local_queues = {}
        for url in sqs.list_queues().get("QueueUrls", []):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            local_queues[url.rsplit("/", 1)[1]] = attributes.get("RedrivePolicy") is not None
            local_settings_of[url.rsplit("/", 1)[1]] = _queue_settings(
                attributes.get("VisibilityTimeout"),
                attributes.get("FifoQueue") == "true",
                json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] if "RedrivePolicy" in attributes else None,
            )

    deployed_tables = {}
    for table in synth.resources("AWS::DynamoDB::Table").values():
        props = table["Properties"]
        deployed_tables[props["TableName"]] = (
            sorted((k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]),
            sorted(
                (index["IndexName"], index["Projection"]["ProjectionType"])
                for index in props.get("GlobalSecondaryIndexes", [])
            ),
            props.get("TimeToLiveSpecification", {}).get("AttributeName"),
        )
    assert local_tables == deployed_tables
    # Both sides: every topology queue and its DLQ (rule DLQs are an AWS-side hop, checked above).
    topology_queues = {queue_physical(synth, q.name, q.fifo) for q in TOPOLOGY.queues}
    topology_queues |= {queue_physical(synth, q.dlq_name, q.fifo) for q in TOPOLOGY.queues}
    deployed_queues = {
        q["Properties"]["QueueName"]: "RedrivePolicy" in q["Properties"]
        for q in synth.resources("AWS::SQS::Queue").values()
        if q["Properties"]["QueueName"] in topology_queues
    }
    assert {name: has for name, has in local_queues.items() if name in topology_queues} == deployed_queues
    assert set(deployed_queues) == topology_queues
    # The same queue behaviour on both sides: visibility timeout (a crashed worker's jobs come back after it,
    # locally as on AWS), FIFO, receives before the DLQ.
    deployed_settings = {}
    for queue in synth.resources("AWS::SQS::Queue").values():
        props = queue["Properties"]
        if props["QueueName"] in topology_queues:
            deployed_settings[props["QueueName"]] = _queue_settings(
                props.get("VisibilityTimeout", DEFAULT_SQS_VISIBILITY_TIMEOUT),
                props.get("FifoQueue", False),
                props["RedrivePolicy"]["maxReceiveCount"] if "RedrivePolicy" in props else None,
            )
    assert {name: value for name, value in local_settings_of.items() if name in topology_queues} == deployed_settings


DEFAULT_SQS_VISIBILITY_TIMEOUT = 30
"""What SQS gives a queue created without one (a DLQ, on both sides)."""


def _queue_settings(visibility: object, fifo: bool, max_receives: int | None) -> tuple[int, bool, int | None]:
    return int(str(visibility)) if visibility is not None else DEFAULT_SQS_VISIBILITY_TIMEOUT, fifo, max_receives
