"""Two corrections to moto's DynamoDB, so the local stack keeps DynamoDB's promises under load.

Measured on moto 5.2.5: `transact_write_items` deep-copies every table it touches before writing (its
rollback plan), which makes each send O(table size) and, with concurrent requests, can crash with
"dictionary changed size during iteration"; and no lock serialises requests, so two concurrent
transactions can both pass a condition (an overdraft) that DynamoDB would refuse.

The corrections: every DynamoDB request runs under one lock (DynamoDB's own serialisability, which
moto's threaded server lacks), and a transaction checks every condition first and writes only when
all hold, snapshotting just the items it changes. Installed by the local moto server and by the
integration tests; never part of anything deployed.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_LOCK = threading.RLock()
_WRITE_OPS = {"Put", "Delete", "Update"}


def install() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoDBBackend, "_bzapper_fidelity", False):
        return
    original_call_action = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original_call_action(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend._bzapper_fidelity = True  # type: ignore[attr-defined]


def _key_of(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[str | None, str | None, Any]] = []
        writes: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", *_WRITE_OPS}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            key = _key_of(self.get_table(table_name), op_type, op)
            identity = (table_name, str(dict(sorted(key.items()))))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                expression = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not expression.expr(current):
                    old = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                    continue
            errors.append((None, None, None))
            if op_type in _WRITE_OPS:
                writes.append((op_type, op, table_name, key, copy.deepcopy(current)))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        applied: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for op_type, op, table_name, key, before in writes:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(table_name, op["Item"])
                elif op_type == "Delete":
                    self.delete_item(table_name, key)
                else:
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                applied.append((table_name, key, before))
        except Exception:
            for table_name, key, before in reversed(applied):  # all or nothing
                if before is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before.to_json()["Attributes"])
            raise
