"""Conditional writes: the one way the adapters tell "the condition did not hold" from a failure."""

from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import DeleteError, PutError, UpdateError


def applied(write: Callable[[], object]) -> bool:
    """Runs a conditional write: True when it was applied, False when its condition did not hold."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
