"""The control path (bzapper.services.control): commands to whichever worker holds the instance's shard, and
questions it answers in time, or a 409 when nobody does."""

from __future__ import annotations

import pytest
from support.memory import open_account

from bzapper.domain.errors import BzError
from bzapper.services.control import QUESTION_TIMEOUT_SECONDS, ask, command


def test_a_command_goes_to_the_shard_with_the_instances_facts(fakes):
    tenant = open_account(fakes)
    ref = fakes.instances.get(tenant.instance_id)

    command(fakes.services, ref, "restart", reason="test")

    assert fakes.control.sent == [
        (
            ref.shard,
            {
                "op": "restart",
                "instance_id": ref.instance_id,
                "account_id": tenant.account_id,
                "livemode": False,
                "engine": "sandbox",
                "shard": ref.shard,
                "reason": "test",
            },
        )
    ]


def test_a_question_gets_the_holders_answer(fakes):
    tenant = open_account(fakes)
    fakes.control.respond_to("check_numbers", lambda asked: {"results": [{"input": asked["inputs"][0]}]})

    answer = ask(fakes.services, fakes.instances.get(tenant.instance_id), "check_numbers", inputs=["+5511988887777"])

    assert answer == {"results": [{"input": "+5511988887777"}]}
    [asked] = fakes.control.commands("check_numbers")
    [wait] = fakes.control.calls_of("wait_for_answer")
    assert wait.args == (asked["request_id"], QUESTION_TIMEOUT_SECONDS)


def test_questions_are_told_apart_by_their_request_ids(fakes):
    tenant = open_account(fakes)
    fakes.control.respond_to("pairing_code", lambda asked: {"code": asked["request_id"][-8:]})
    ref = fakes.instances.get(tenant.instance_id)
    codes = {ask(fakes.services, ref, "pairing_code", phone="+5511988887777")["code"] for _ in range(3)}
    assert len(codes) == 3


def test_nobody_answering_is_not_connected(fakes):
    tenant = open_account(fakes)
    with pytest.raises(BzError) as unanswered:
        ask(fakes.services, fakes.instances.get(tenant.instance_id), "pairing_code", timeout_seconds=0.5)
    assert (unanswered.value.code, unanswered.value.status) == ("not_connected", 409)


def test_a_holders_refusal_becomes_the_error_it_names(fakes):
    tenant = open_account(fakes)
    fakes.control.respond_to("pairing_code", lambda asked: {"error": "already_connected"})
    with pytest.raises(BzError) as refused:
        ask(fakes.services, fakes.instances.get(tenant.instance_id), "pairing_code")
    assert refused.value.code == "already_connected"


def test_a_failed_send_to_the_control_queue_is_not_swallowed(fakes):
    tenant = open_account(fakes)
    fakes.control.fail_next("send", ConnectionError("SQS unavailable"))
    with pytest.raises(ConnectionError):
        command(fakes.services, fakes.instances.get(tenant.instance_id), "open")
