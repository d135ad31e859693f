"""The local moto server's speed-ups (bzapper_dev.local.moto_speed) change no answer: the same items, pages and
counts from a Query, the same events delivered to a rule's queue, the same retention rule; and they do skip the
work they exist to skip. The integration tests' conftest installs them for the whole suite, like the DynamoDB
corrections, so every integration test also runs against the moto the local stack runs."""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from bzapper_dev.local import moto_speed

moto_speed.install()


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="ranged",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "k", "AttributeType": "S"},
                {"AttributeName": "r", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.create_table(
            TableName="plain",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(30):
            client.put_item(
                TableName="ranged", Item={"k": {"S": f"p{i % 3}"}, "r": {"N": str(i)}, "v": {"N": str(i % 5)}}
            )
            client.put_item(TableName="plain", Item={"k": {"S": f"p{i}"}, "v": {"N": str(i)}})
        yield client


def _ranges(answer: dict) -> list[int]:
    return [int(item["r"]["N"]) for item in answer["Items"]]


def test_a_query_on_the_table_key_answers_the_partitions_items_in_order_and_by_page(dynamodb):
    whole = dynamodb.query(
        TableName="ranged", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "p1"}}
    )
    assert _ranges(whole) == list(range(1, 30, 3))

    pages, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = dynamodb.query(
            TableName="ranged",
            KeyConditionExpression="k = :k AND r > :r",
            ExpressionAttributeValues={":k": {"S": "p2"}, ":r": {"N": "10"}},
            ScanIndexForward=False,
            Limit=3,
            **extra,
        )
        pages.append(_ranges(page))
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert [r for page in pages for r in page] == [29, 26, 23, 20, 17, 14, 11]
    assert all(len(page) <= 3 for page in pages)

    counted = dynamodb.query(
        TableName="ranged",
        KeyConditionExpression="k = :k",
        FilterExpression="v > :v",
        ExpressionAttributeValues={":k": {"S": "p0"}, ":v": {"N": "2"}},
        Select="COUNT",
    )
    assert (counted["Count"], counted["ScannedCount"]) == (len([i for i in range(0, 30, 3) if i % 5 > 2]), 10)

    missing = dynamodb.query(
        TableName="ranged", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "none"}}
    )
    assert missing["Items"] == [] and missing["Count"] == 0
    plain = dynamodb.query(
        TableName="plain", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "p7"}}
    )
    assert plain["Items"] == [{"k": {"S": "p7"}, "v": {"N": "7"}}]


def test_a_query_on_the_table_key_never_sorts_the_whole_table(dynamodb, monkeypatch):
    from moto.dynamodb.models.table import Table

    def whole_table(self):
        raise AssertionError("the whole table was read for a one-partition query")

    monkeypatch.setattr(Table, "all_items", whole_table)
    answer = dynamodb.query(
        TableName="ranged", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "p0"}}
    )
    assert len(answer["Items"]) == 10


def test_an_event_reaches_a_rules_queue_whole_and_its_input_paths_are_parsed_once():
    import jsonpath_ng.ext

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventPattern=json.dumps({"source": ["bzapper"]}))
        events.put_targets(Rule="all", Targets=[{"Id": "tap", "Arn": arn}])
        for n in range(2):
            events.put_events(Entries=[{"Source": "bzapper", "DetailType": "t", "Detail": json.dumps({"n": n})}])
        bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(body["detail"]["n"] for body in bodies) == [0, 1]
    assert {(body["source"], body["detail-type"]) for body in bodies} == {("bzapper", "t")}
    assert jsonpath_ng.ext.parse("$.detail") is jsonpath_ng.ext.parse("$.detail")


def test_the_service_list_is_read_once(monkeypatch):
    from moto import backends

    listed = list(backends.list_of_moto_modules())

    def no_listing(path):
        raise AssertionError(f"listed {path}")

    monkeypatch.setattr(os, "listdir", no_listing)
    assert list(backends.list_of_moto_modules()) == listed
    assert {"dynamodb", "sqs", "events"} <= set(listed)


def test_a_message_is_kept_for_its_queues_retention_period_and_no_longer():
    backend = SimpleNamespace(get_queue=lambda name: SimpleNamespace(message_retention_period=60))
    now_ms = time.time() * 1000
    fresh = SimpleNamespace(sent_timestamp=now_ms - 59_000)
    expired = SimpleNamespace(sent_timestamp=now_ms - 61_000)
    assert moto_speed._within_retention(backend, "q", fresh) is True
    assert moto_speed._within_retention(backend, "q", expired) is False
