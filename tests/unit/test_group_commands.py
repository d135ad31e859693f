"""The worker answers the API's group questions: the engine method of the same name with the command's own
arguments (never its envelope), and WhatsApp's refusal as the answer's error code."""

from __future__ import annotations

from typing import Any

from bzapper.domain.engine import PermanentFailure
from bzapper.worker.control import QUESTION_TIMEOUT_SECONDS, CommandHandler


class _Control:
    def __init__(self) -> None:
        self.answers: dict[str, dict[str, Any]] = {}

    def answer(self, request_id: str, answer: dict[str, Any]) -> None:
        self.answers[request_id] = answer


class _Services:
    def __init__(self) -> None:
        self.control = _Control()


def _handler(call: Any) -> tuple[CommandHandler, _Services]:
    services = _Services()
    handler = CommandHandler(
        services,  # type: ignore[arg-type]
        open_instance=lambda *a, **k: True,
        close_instance=lambda *a: None,
        call=call,
    )
    return handler, services


ENVELOPE = {"instance_id": "inst_1", "account_id": "acct_1", "livemode": False, "engine": "sandbox", "shard": 3}


def test_a_group_question_calls_the_engine_method_and_answers_its_result():
    calls: list = []

    def call(instance_id: str, method: str, **kwargs: Any) -> Any:
        calls.append((instance_id, method, kwargs))
        return [{"input": "+5511988880001", "status": "ok"}]

    handler, services = _handler(call)
    command = {"op": "update_group_participants", "request_id": "req_1", **ENVELOPE}
    command |= {"group_jid": "120363025246125888@g.us", "action": "promote", "participants": ["+5511988880001"]}
    assert handler.handle(command)
    assert calls == [
        (
            "inst_1",
            "update_group_participants",
            {
                "give_up_after": QUESTION_TIMEOUT_SECONDS,
                "group_jid": "120363025246125888@g.us",
                "action": "promote",
                "participants": ["+5511988880001"],
            },
        )
    ]
    assert services.control.answers["req_1"] == {"result": [{"input": "+5511988880001", "status": "ok"}]}


def test_whatsapps_refusal_is_the_answers_error():
    def call(instance_id: str, method: str, **kwargs: Any) -> Any:
        raise PermanentFailure("not_admin")

    handler, services = _handler(call)
    assert handler.handle({"op": "leave_group", "request_id": "req_2", "group_jid": "1@g.us", **ENVELOPE})
    assert services.control.answers["req_2"] == {"error": "not_admin"}
