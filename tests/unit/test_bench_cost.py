"""The bench's arithmetic: DynamoDB request units from item sizes, and the cost lines from known counts."""

from __future__ import annotations

import pytest

from bench.cost import Assumptions, PerSend, lambda_seconds, per_million, total
from bench.counting import Call
from bench.dynamo_units import Schema, item_size, number_size, read_units, schemas, units, write_units

MESSAGES = "t-messages"
TABLES = {
    MESSAGES: Schema("message_id", None, {"outbox": ("outbox_bucket", "outbox_due"), "by_wa_id": ("wa", "inst")}),
    "t-wallets": Schema("wallet_id", "entry", {}),
}


def test_item_size_follows_dynamodb_rules():
    assert number_size("123") == 3  # 2 bytes for 3 significant digits, + 1
    assert number_size("1000") == 2  # trailing zeros do not count
    assert item_size({"a": {"S": "xyz"}}) == 4
    assert item_size({"flag": {"BOOL": True}}) == 5
    # A list: 3 bytes + per element its size + 1.
    assert item_size({"h": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 1 + 3 + (2 + 1) + (1 + 1)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)


def test_units_round_up_per_kilobyte_and_per_four_kilobytes():
    assert write_units(1) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(10, consistent=False) == 0.5


def _item(size_pad: int, **extra: str) -> dict:
    item = {"message_id": {"S": "m1"}, "pad": {"S": "x" * size_pad}}
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def test_a_transaction_costs_two_units_per_item_condition_checks_included():
    wallet = {"wallet_id": {"S": "w"}, "entry": {"S": "balance"}}
    call = Call("api", "dynamodb", "TransactWriteItems", {})
    call.details["items"] = [
        {"kind": "Put", "table": "t-wallets", "before": None, "after": wallet},
        {"kind": "Update", "table": "t-wallets", "before": wallet, "after": wallet},
        {"kind": "ConditionCheck", "table": "t-wallets", "before": wallet},
    ]
    assert units(call, TABLES) == {"rru": 0.0, "wru": 6.0, "gsi_wru": 0.0}


def test_a_big_item_costs_more_than_one_unit_per_write():
    call = Call("api", "dynamodb", "PutItem", {})
    call.details["items"] = [{"kind": "PutItem", "table": "t-wallets", "before": None, "after": _item(2000)}]
    assert units(call, TABLES)["wru"] == 2


def test_index_writes_follow_the_index_keys_and_the_projection():
    before = _item(10, outbox_bucket="b", outbox_due="1", wa="w", inst="i")
    after = _item(20, wa="w", inst="i")  # the update removed the outbox keys and changed an attribute
    call = Call("statuses", "dynamodb", "UpdateItem", {})
    call.details["items"] = [{"kind": "UpdateItem", "table": MESSAGES, "before": before, "after": after}]
    # outbox: the item leaves the index (1); by_wa_id (ALL projection): the copy is rewritten (1).
    assert units(call, TABLES) == {"rru": 0.0, "wru": 1.0, "gsi_wru": 2.0}
    # With by_wa_id KEYS_ONLY, an update that does not touch its keys does not write it.
    assert units(call, TABLES, keys_only=frozenset({"by_wa_id"}))["gsi_wru"] == 1.0


def test_reads_are_priced_on_the_whole_item_and_halved_when_eventually_consistent():
    strong = Call("w", "dynamodb", "GetItem", {"ConsistentRead": True})
    strong.details["items"] = [{"kind": "GetItem", "table": MESSAGES, "before": _item(5000)}]
    assert units(strong, TABLES)["rru"] == 2.0
    query = Call("s", "dynamodb", "Query", {})
    query.details["returned_bytes"] = 600
    assert units(query, TABLES)["rru"] == 0.5


def test_cost_lines_on_known_counts():
    send = PerSend(
        api_requests=1,
        lambda_invocations={"messages": 1.0},
        lambda_cpu_s={"messages": 0.0},
        lambda_aws_calls={},
        dynamodb_wru=10,
        dynamodb_rru=4,
        sqs_fifo_requests=6,
        sqs_standard_requests=5,
        eventbridge_entries=3,
        worker_cpu_s=0.0,
    )
    lines = {line.item: line.usd for line in per_million(send)}
    assert lines["API Gateway HTTP API"] == pytest.approx(1.00)
    assert lines["Lambda requests"] == pytest.approx(0.20)
    assert lines["DynamoDB writes (on-demand)"] == pytest.approx(6.25)
    assert lines["DynamoDB reads (on-demand)"] == pytest.approx(0.50)
    assert lines["SQS FIFO requests"] == pytest.approx(3.00)
    assert lines["SQS standard requests"] == pytest.approx(2.00)
    assert lines["EventBridge PutEvents"] == pytest.approx(3.00)
    assert lines["CloudWatch Logs ingestion (estimate)"] == pytest.approx(0.20)  # 0.4 GB x $0.50
    assert lines["Webhook delivery (rule → SQS → dispatcher)"] == 0.0  # n/a: no dispatcher counted
    assert total(per_million(send)) == pytest.approx(16.15)


def test_lambda_time_scales_cpu_by_the_memory_share_and_adds_the_wait():
    a = Assumptions(aws_latency_ms={"sqs:SendMessage": 10.0})
    seconds, wait = lambda_seconds(0.010, {"sqs:SendMessage": 2}, a, memory_mb=256)
    assert wait == pytest.approx(0.020)
    assert seconds == pytest.approx(0.010 * 1769 / 256 + 0.020)
    # Above 1,769 MB a function has a whole vCPU: CPU time is not stretched.
    assert lambda_seconds(0.010, {}, a, memory_mb=2048)[0] == pytest.approx(0.010)


def test_each_function_is_priced_at_its_own_memory():
    a = Assumptions()
    assert a.memory_mb("messages") == 1024
    assert a.memory_mb("statuses") == 512
    send = PerSend(
        api_requests=1,
        lambda_invocations={"statuses": 1.0},
        lambda_cpu_s={"statuses": 0.1},
        lambda_aws_calls={},
        dynamodb_wru=0,
        dynamodb_rru=0,
        sqs_fifo_requests=0,
        sqs_standard_requests=0,
        eventbridge_entries=0,
        worker_cpu_s=0,
    )
    line = next(line for line in per_million(send, a) if line.item == "Lambda duration: statuses")
    # 100 ms of CPU at 512 MB takes 100 × 1769/512 ms; billed at 0.5 GB on arm64.
    assert line.usd == pytest.approx(0.1 * 1769 / 512 * 0.5 * 1_000_000 * 0.0000133334)


def test_index_writes_follow_the_provisioned_projection():
    provisioned = {
        MESSAGES: Schema(
            "message_id",
            None,
            {"by_wa_id": ("wa", "inst"), "by_chat": ("chat", "sort")},
            {"by_wa_id": (), "by_chat": ("status",)},  # KEYS_ONLY, INCLUDE status
        )
    }
    before = _item(10, wa="w", inst="i", chat="c", sort="s", status="sent")
    touched = _item(20, wa="w", inst="i", chat="c", sort="s", status="sent")  # no key, no included attribute
    call = Call("statuses", "dynamodb", "UpdateItem", {})
    call.details["items"] = [{"kind": "UpdateItem", "table": MESSAGES, "before": before, "after": touched}]
    assert units(call, provisioned)["gsi_wru"] == 0.0
    moved = _item(20, wa="w", inst="i", chat="c", sort="s", status="read")  # an included attribute changed
    call.details["items"] = [{"kind": "UpdateItem", "table": MESSAGES, "before": before, "after": moved}]
    assert units(call, provisioned)["gsi_wru"] == 1.0
    created = Call("api", "dynamodb", "PutItem", {})
    created.details["items"] = [
        {"kind": "PutItem", "table": MESSAGES, "before": None, "after": _item(3000, wa="w", inst="i")}
    ]
    # A big item: its KEYS_ONLY entry is still one unit (the table write is 3).
    assert units(created, provisioned) == {"rru": 0.0, "wru": 3.0, "gsi_wru": 1.0}


def test_the_schemas_read_the_projection_from_the_topology():
    from bzapper.topology import TOPOLOGY

    messages = schemas(lambda name: name, TOPOLOGY)["messages"]
    assert messages.projections["by_wa_id"] == ()
    assert messages.projections["outbox"] is None
