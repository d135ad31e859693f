"""Telling the worker that holds an instance to do something, or asking it a question."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bzapper.domain.errors import BzError
from bzapper.domain.ids import new_id
from bzapper.domain.model import InstanceRef
from bzapper.services.container import Services

QUESTION_TIMEOUT_SECONDS = 8.0
"""How long the API waits for the holder's answer: under API Gateway's 30 s, above a slow WhatsApp lookup."""


def _addressed(instance: InstanceRef, op: str, args: dict[str, Any]) -> dict[str, Any]:
    # The instance's facts travel with the command: a deleted instance can still be logged out by its holder.
    return {
        "op": op,
        "instance_id": instance.instance_id,
        "account_id": instance.account_id,
        "livemode": instance.livemode,
        "engine": instance.engine,
        "shard": instance.shard,
        **args,
    }


def command(services: Services, instance: InstanceRef, op: str, **args: Any) -> None:
    """Fire and forget: the holder applies it in order with the instance's other lifecycle operations."""
    services.control.send(instance.shard, _addressed(instance, op, args))


def ask(
    services: Services,
    instance: InstanceRef,
    op: str,
    timeout_seconds: float = QUESTION_TIMEOUT_SECONDS,
    refusal: Callable[[str], BzError] = BzError,
    **args: Any,
) -> dict[str, Any]:
    """The holder's answer; 409 not_connected when nobody answers in time (no worker holds it, or it is down). An
    engine's refusal (a stable code) becomes `refusal(code)`: each feature says what its codes mean to a caller."""
    request_id = new_id("req")
    services.control.send(instance.shard, _addressed(instance, op, {"request_id": request_id, **args}))
    answer = services.control.wait_for_answer(request_id, timeout_seconds)
    if answer is None:
        raise BzError("not_connected")
    if error := answer.get("error"):
        raise refusal(str(error))
    return answer
