"""Groups as recipients (issue #18): a group JID is a destination (never for a one-time code), the number must
be named when several could write there, and each participant's receipt is kept forward-only while the message's
own status moves with the first participant to reach each status (one event per status)."""

from __future__ import annotations

import pytest
from support.memory import open_account, send_text

from bzapper.domain.errors import BzError
from bzapper.domain.model import StatusReport
from bzapper.domain.phones import InvalidRecipient, Recipient, parse_destination
from bzapper.domain.sending import SendDraft
from bzapper.domain.statuses import participant_key, participant_rows
from bzapper.services.sending import send_message
from bzapper.services.statuses import apply_report

GROUP = "120363025246125888@g.us"
ANA = {"jid": "5511988880001@s.whatsapp.net", "phone": "+5511988880001", "lid": "100000000000000001@lid"}
BIA = {"lid": "100000000000000002@lid"}  # named only by its LID


def test_parse_destination_takes_people_and_groups_only() -> None:
    assert parse_destination(" 120363025246125888@G.US ") == Recipient(jid=GROUP, phone=None, lid=None)
    assert parse_destination("+5511988880001").phone == "+5511988880001"
    for value in ("abc@g.us", "120363@newsletter", "status@broadcast"):
        with pytest.raises(InvalidRecipient):
            parse_destination(value)


def test_participants_are_keyed_by_phone_else_lid_and_listed_in_order() -> None:
    assert participant_key(ANA) == "+5511988880001"
    assert participant_key(BIA) == "100000000000000002@lid"
    assert participant_key({}) is None
    stored = {
        "b": {"s": "read", "r": 5, "at": 20, "lid": "l2"},
        "a": {"s": "delivered", "r": 4, "at": 10, "phone": "+55", "lid": "l1"},
    }
    assert participant_rows(stored) == [
        {"phone": "+55", "lid": "l1", "status": "delivered", "at": 10},
        {"phone": None, "lid": "l2", "status": "read", "at": 20},
    ]
    assert participant_rows(None) is None


def _receipt(fakes, message_id: str, status: str, participant: dict, at: int) -> None:
    view = fakes.messages.get(message_id)
    apply_report(
        fakes.services,
        StatusReport(view.instance_id, view.wa_message_id, status, at, participant=participant),
    )


def test_each_participant_moves_forward_and_the_message_once_per_status(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant, to=GROUP).accepted.message_id
    assert fakes.messages.get(message_id).participants == []
    published = len(fakes.events.published)

    _receipt(fakes, message_id, "delivered", ANA, 100)
    _receipt(fakes, message_id, "delivered", BIA, 110)
    _receipt(fakes, message_id, "read", BIA, 120)
    _receipt(fakes, message_id, "delivered", BIA, 130)  # late: BIA read it already

    view = fakes.messages.get(message_id)
    assert view.status == "read"
    assert [(p["phone"], p["lid"], p["status"], p["at"]) for p in view.participants] == [
        ("+5511988880001", ANA["lid"], "delivered", 100),
        (None, BIA["lid"], "read", 120),
    ]
    # One event per status: a participant's late or repeated receipt may publish the same event again (same
    # id, as any repeated report does, in case the first publish failed), never a new one.
    events = {(event["type"], event["id"]) for event in fakes.events.published[published:]}
    assert sorted(kind for kind, _ in events) == ["message.delivered", "message.read"]


def test_a_one_to_one_message_has_no_participants(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    assert fakes.messages.get(message_id).participants is None
    assert fakes.messages.apply_participant_status(message_id, ANA, "delivered", 1) is None


def test_a_group_needs_the_number_when_several_could_write(fakes):
    tenant = open_account(fakes)
    fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="2", status="connected")
    draft = SendDraft(type="text", to=GROUP, instance_id=None, content={"body": "hi"})
    with pytest.raises(BzError) as refused:
        send_message(fakes.services, tenant.principal, draft)
    assert (refused.value.code, refused.value.param) == ("validation_failed", "instance_id")


def test_an_otp_never_goes_to_a_group(fakes):
    tenant = open_account(fakes)
    draft = SendDraft(type="otp", to=GROUP, instance_id=tenant.instance_id, content={"body": "x"})
    with pytest.raises(BzError) as refused:
        send_message(fakes.services, tenant.principal, draft)
    assert refused.value.param == "to"
