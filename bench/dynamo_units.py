"""DynamoDB on-demand request units, computed from the real sizes of the items each call touched.

The rules (DynamoDB developer guide, "Read/write capacity mode" and "Item sizes"):

- Item size: the sum, over attributes, of the name's UTF-8 length plus the value's size (strings:
  UTF-8 bytes; numbers: about 1 byte per 2 significant digits + 1; booleans and null: 1; lists and
  maps: 3 + their elements + 1 byte per element).
- Writes: 1 WRU per started 1 KB of the larger of the item before and after the write (PutItem,
  UpdateItem, DeleteItem); inside TransactWriteItems each item costs 2x, ConditionCheck included.
- Reads: 1 RRU per started 4 KB for a strongly consistent read, half that for an eventually
  consistent one (GetItem on the whole item even with a projection; Query on the sum of the
  returned items; Scan on everything it reads, whatever the filter keeps).
- Global secondary indexes: a write to the table is also a write to each GSI whose key attributes
  the item has, before or after (an index whose key changes costs a delete and a put), priced per
  started KB of the index entry (what the projection copies). With the ALL projection every update of
  an indexed item writes the index; with KEYS_ONLY only key changes do; with INCLUDE, key changes and
  changes of the included attributes. Index writes are standard writes, also inside transactions.

The sizer reads the items a call touches, just before and just after it, with its own client that
the counting hooks never see, so counts stay exact and units come from the true sizes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.counting import Call

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096


def number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "")
    if "e" in digits.lower():
        digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "")
    digits = digits.strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(item.encode()) for item in data)
    if kind == "NS":
        return sum(number_size(item) for item in data)
    if kind == "BS":
        return sum(len(item) for item in data)
    if kind == "L":
        return 3 + sum(value_size(item) + 1 for item in data)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(item) + 1 for name, item in data.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


@dataclass(frozen=True)
class Schema:
    """Key attributes of a physical table and of its GSIs, and each GSI's projection as provisioned."""

    hash_key: str
    range_key: str | None
    indexes: dict[str, tuple[str, ...]]
    projections: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    """{index: the non-key attributes it copies}; None (or absent) is ALL, () is KEYS_ONLY."""

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        names = (self.hash_key, self.range_key) if self.range_key else (self.hash_key,)
        return {name: item[name] for name in names}

    def entry(self, index: str, item: dict[str, Any], keys_only: frozenset[str] = frozenset()) -> dict[str, Any]:
        """What the index stores of `item`: the whole item (ALL), or its keys and included attributes."""
        projected = () if index in keys_only else self.projections.get(index)
        if projected is None:
            return item
        names = {self.hash_key, self.range_key, *self.indexes[index], *projected} - {None}
        return {name: value for name, value in item.items() if name in names}


def schemas(stage_table: Any, topology: Any) -> dict[str, Schema]:
    """{physical table name: Schema} from the topology; `stage_table(logical)` names tables."""
    return {
        stage_table(table.name): Schema(
            table.hash_key,
            table.range_key,
            {index.name: tuple(k for k in (index.hash_key, index.range_key) if k) for index in table.indexes},
            {
                index.name: None if getattr(index, "projection", "ALL") == "ALL" else tuple(index.include)
                for index in table.indexes
            },
        )
        for table in topology.tables
    }


class DynamoSizer:
    """Attached to the recorder: stores, per call, the items it touched as they were before and after."""

    def __init__(self, client: Any, tables: dict[str, Schema]) -> None:
        self.client = client  # created outside the counting hooks
        self.tables = tables
        # What the sizer itself costs, so timings taken while it is on can leave it out.
        self.cpu_s = 0.0
        self.wall_s = 0.0

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _targets(self, call: Call) -> list[tuple[str, str, dict[str, Any]]]:
        """(kind, table, key) of each item a single-item or transactional call touches."""
        params = call.params
        if call.operation in ("GetItem", "UpdateItem", "DeleteItem"):
            return [(call.operation, params["TableName"], params["Key"])]
        if call.operation == "PutItem":
            schema = self.tables[params["TableName"]]
            return [("PutItem", params["TableName"], schema.key_of(params["Item"]))]
        if call.operation == "TransactWriteItems":
            targets = []
            for entry in params["TransactItems"]:
                ((kind, spec),) = entry.items()
                key = spec.get("Key") or self.tables[spec["TableName"]].key_of(spec["Item"])
                targets.append((kind, spec["TableName"], key))
            return targets
        return []

    def __call__(self, call: Call, phase: str) -> None:
        if call.service != "dynamodb":
            return
        cpu, started = time.thread_time(), time.perf_counter()
        try:
            self._size(call, phase)
        finally:
            self.cpu_s += time.thread_time() - cpu
            self.wall_s += time.perf_counter() - started

    def _size(self, call: Call, phase: str) -> None:
        table = call.params.get("TableName")
        if table is not None and table not in self.tables:
            return
        if call.operation == "Scan" and phase == "before":
            total, pages, start = 0, 0, None
            while pages < 1000:
                page = self.client.scan(
                    TableName=call.params["TableName"], **({"ExclusiveStartKey": start} if start else {})
                )
                total += sum(item_size(item) for item in page.get("Items", []))
                pages += 1
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
            call.details["scanned_bytes"] = total
            return
        if call.operation == "Query" and phase == "after":
            call.details["returned_bytes"] = sum(item_size(item) for item in (call.parsed or {}).get("Items", []))
            return
        targets = self._targets(call)
        if not targets:
            return
        if phase == "before":
            call.details["items"] = [
                {"kind": kind, "table": table, "before": self._get(table, key)} for kind, table, key in targets
            ]
        elif call.error is None:
            for entry, (_, table, key) in zip(call.details.get("items", []), targets, strict=False):
                entry["after"] = self._get(table, key)


def _gsi_writes(schema: Schema, before: dict | None, after: dict | None, keys_only: frozenset[str]) -> int:
    units = 0
    for name, key_names in schema.indexes.items():
        had = before is not None and all(k in before for k in key_names)
        has = after is not None and all(k in after for k in key_names)
        key_before = tuple(repr(before[k]) for k in key_names) if had else None
        key_after = tuple(repr(after[k]) for k in key_names) if has else None
        old = schema.entry(name, before, keys_only) if had and before is not None else None
        new = schema.entry(name, after, keys_only) if has and after is not None else None
        if had and has and key_before == key_after:
            if old != new:
                units += write_units(item_size(new))  # the projected copy is rewritten
        else:
            if old is not None:
                units += write_units(item_size(old))  # removed from the index
            if new is not None:
                units += write_units(item_size(new))  # added to the index
    return units


def units(call: Call, tables: dict[str, Schema], keys_only: frozenset[str] = frozenset()) -> dict[str, float]:
    """{"rru", "wru", "gsi_wru"} of one recorded DynamoDB call; `keys_only` names GSIs to price as KEYS_ONLY
    whatever their provisioned projection (a what-if)."""
    result = {"rru": 0.0, "wru": 0.0, "gsi_wru": 0.0}
    if call.service != "dynamodb" or call.error is not None:
        return result
    op, params = call.operation, call.params
    if op == "GetItem":
        before = call.details.get("items", [{}])[0].get("before")
        result["rru"] = read_units(item_size(before), bool(params.get("ConsistentRead")))
    elif op == "Query":
        result["rru"] = read_units(call.details.get("returned_bytes", 0), bool(params.get("ConsistentRead")))
    elif op == "Scan":
        result["rru"] = read_units(call.details.get("scanned_bytes", 0), bool(params.get("ConsistentRead")))
    elif op in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
        factor = 2 if op == "TransactWriteItems" else 1
        for entry in call.details.get("items", []):
            before, after = entry.get("before"), entry.get("after")
            if entry["kind"] == "ConditionCheck":
                result["wru"] += factor * write_units(item_size(before))
                continue
            result["wru"] += factor * write_units(max(item_size(before), item_size(after)))
            schema = tables.get(entry["table"])
            if schema and schema.indexes:
                result["gsi_wru"] += _gsi_writes(schema, before, after, keys_only)
    return result


def total_units(calls: list[Call], tables: dict[str, Schema], keys_only: frozenset[str] = frozenset()) -> dict:
    total = {"rru": 0.0, "wru": 0.0, "gsi_wru": 0.0}
    for call in calls:
        for name, value in units(call, tables, keys_only).items():
            total[name] += value
    return total


def item_sizes(calls: list[Call]) -> dict[str, int]:
    """The largest size seen per table (for the report: what a message item weighs)."""
    sizes: dict[str, int] = {}
    for call in calls:
        for entry in call.details.get("items", []):
            for state in ("before", "after"):
                size = item_size(entry.get(state))
                sizes[entry["table"]] = max(sizes.get(entry["table"], 0), size)
    return sizes
