"""Sends without instance_id: one of the account's connected numbers, sticky per recipient."""

from __future__ import annotations

from support.apigw import call

from bzapper.adapters.aws.models import MessageModel


def _send(handler, account, to: str):
    return call(handler, "POST", "/messages/text", body={"to": to, "body": "Hi"}, headers=account.auth)


def test_a_recipient_stays_on_one_connected_number(messages_handler, svc, account):
    second = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="B", status="connected")
    svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="C", status="disconnected")
    recipients = [f"+55119888800{n:02d}" for n in range(12)]

    first_round = {}
    for to in recipients:
        status, _, body = _send(messages_handler, account, to)
        assert status == 202, body
        first_round[to] = MessageModel.get(body["message_id"]).instance_id
    assert set(first_round.values()) == {account.instance_id, second.instance_id}  # both used, never C

    for to in recipients:
        _, _, body = _send(messages_handler, account, to)
        assert MessageModel.get(body["message_id"]).instance_id == first_round[to]


def test_no_connected_number_is_409(messages_handler, svc, account):
    svc.instances.apply_state(
        account.instance_id, status="disconnected", at=2**40, qr=None, phone=None, lid=None, push_name=None, error=None
    )
    status, _, body = _send(messages_handler, account, "+5511988888888")
    assert status == 409 and body["code"] == "no_number_available"
