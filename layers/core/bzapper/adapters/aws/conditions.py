"""Conditional writes: the one way the adapters tell "the condition did not hold" from a failure."""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection


def applied(write: Callable[[], object]) -> bool:
    """Runs a conditional write: True when it was applied, False when its condition did not hold."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def created_in_slot(slot: Model, item: Model) -> bool:
    """Creates `item` together with `slot` (one of its account's plan slots), each only if absent: True when both
    were written, False when the slot is taken (or being taken by a concurrent create right now) or the item
    exists. Two creates can never hold the same slot, so no more items exist than slots under the plan's limit."""
    slot_key = type(slot)._hash_key_attribute()
    item_key = type(item)._hash_key_attribute()
    try:
        with TransactWrite(connection=dynamodb_connection()) as tx:
            tx.save(slot, condition=slot_key.does_not_exist())
            tx.save(item, condition=item_key.does_not_exist())
    except TransactWriteError as error:
        if any(
            reason is not None and reason.code in ("ConditionalCheckFailed", "TransactionConflict")
            for reason in error.cancellation_reasons or []
        ):
            return False
        raise
    return True
