"""Group messages in the inbox on moto: recorded by the statuses consumer's `record_inbound` (redeliveries
included), published once per id with the participant as `from`, listed as `type: "group"`, read with
receipts naming each participant; status broadcasts, broadcast lists and channels stay out."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

import pytest
from support.apigw import call
from support.control import control_commands
from support.dynamo_calls import DynamoCalls

from bzapper.adapters.aws.models import ConversationModel, UsageModel
from bzapper.adapters.aws.usage import counter_id, hour_of
from bzapper.domain.inbox import inbound_message_id
from bzapper.services.inbox import record_inbound

GROUP = "120363025246125888@g.us"
ANA, ANA_JID, ANA_LID = "+5511988881111", "5511988881111@s.whatsapp.net", "11112222333344@lid"
BETO, BETO_JID = "+5511988882222", "5511988882222@s.whatsapp.net"
OWN = {"jid": "5511977776666@s.whatsapp.net", "phone": "+5511977776666", "push_name": "Shop"}
T0 = 1_790_000_000_000


def group_message(account, wa_id: str, at: int, sender: dict, *, body: str = "hi", **overrides) -> dict:
    """What a worker reports for a group message (the whatsmeow mapping's and the sandbox's shape)."""
    event = {
        "kind": "inbound",
        "instance_id": account.instance_id,
        "wa_message_id": wa_id,
        "chat_jid": GROUP,
        "from_me": False,
        "sender": sender,
        "type": "text",
        "content": {"body": body},
        "at": at,
        "account_id": account.account_id,
        "livemode": False,
    }
    event.update(overrides)
    return event


def request(api, method, path, account, **params):
    query = urlencode({"instance_id": account.instance_id, **params})
    return call(api, method, path, headers=account.auth, query=query)


def thread(api, account, jid=GROUP):
    return request(api, "GET", f"/conversations/{quote(jid)}/messages", account)


def listing(api, account):
    return request(api, "GET", "/conversations", account)


def mark_read_commands(svc, account) -> list[dict]:
    return control_commands(svc, account.instance_id, "mark_read")


def test_a_group_message_is_stored_once_and_published_once_per_id_with_its_participant(
    svc, account, inbox_api, published
):
    svc.identities.record(account.account_id, ANA, ANA_LID)
    # The participant writes from its LID (as WhatsApp names most group senders now): the mapping gives the phone.
    sender = {"jid": ANA_LID, "lid": ANA_LID, "push_name": "Ana"}
    event = group_message(account, "3AG001", T0, sender, body="Shipped the 3 boxes", chat_name="Orders team")
    record_inbound(svc, event)
    record_inbound(svc, dict(event))  # the report delivered again

    assert [e["type"] for e in published.events] == ["message.received", "message.received"]
    first, again = published.events
    assert first == again  # same id, same data: consumers dedupe on the id
    data = first["data"]
    assert data["message_id"] == inbound_message_id(account.instance_id, "3AG001")
    assert (data["chat_jid"], data["chat_type"], data["from_me"]) == (GROUP, "group", False)
    assert data["from"] == {"jid": ANA_LID, "phone": ANA, "lid": ANA_LID, "name": "Ana"}
    assert data["contact"] == {"jid": GROUP, "phone": None, "lid": None, "name": "Orders team"}

    status, _, page = listing(inbox_api, account)
    assert status == 200
    [row] = page["data"]
    assert (row["jid"], row["type"], row["phone"], row["lid"]) == (GROUP, "group", None, None)
    assert row["name"] == "Orders team"  # the group's subject, never the participant's name
    assert row["unread_count"] == 1  # not 2: the redelivery changed nothing
    assert row["last_message"]["text"] == "Shipped the 3 boxes"

    usage = UsageModel.get(counter_id(account.account_id, False), f"{hour_of(T0)}#{account.instance_id}")
    assert usage.inbound == 1  # a group message is an inbound message like any other


def test_a_groups_thread_shows_who_wrote_each_message_and_the_phones_own(svc, account, inbox_api, published):
    record_inbound(svc, group_message(account, "3AG010", T0, {"jid": ANA_JID, "phone": ANA, "push_name": "Ana"}))
    record_inbound(svc, group_message(account, "3AG011", T0 + 1_000, {"jid": BETO_JID, "push_name": "Beto"}))
    record_inbound(svc, group_message(account, "3AG012", T0 + 2_000, OWN, from_me=True, body="On my way"))
    # A one-to-one message from one of them stays in its own conversation.
    one_to_one = group_message(account, "3AG013", T0 + 3_000, {"jid": ANA_JID, "phone": ANA}, chat_jid=ANA_JID)
    record_inbound(svc, one_to_one)

    status, _, page = thread(inbox_api, account)
    assert status == 200, page
    assert page["conversation"]["type"] == "group" and page["conversation"]["jid"] == GROUP
    assert page["conversation"]["unread_count"] == 2  # the phone's own message is not unread
    shown = [(m["wa_message_id"], m["direction"], m["sent_from"], m["chat_jid"]) for m in page["data"]]
    assert shown == [
        ("3AG012", "outbound", "phone", GROUP),
        ("3AG011", "inbound", None, GROUP),
        ("3AG010", "inbound", None, GROUP),
    ]
    assert page["data"][1]["from"] == {"jid": BETO_JID, "phone": BETO, "lid": None, "name": "Beto"}
    assert page["data"][2]["from"]["name"] == "Ana"
    assert page["data"][0]["from"] is None  # outbound: the number itself

    _, _, rows = listing(inbox_api, account)
    assert [(r["jid"], r["type"]) for r in rows["data"]] == [(ANA_JID, "contact"), (GROUP, "group")]
    assert ConversationModel.count(account.instance_id) == 2
    echo = next(e for e in published.events if e["data"]["wa_message_id"] == "3AG012")["data"]
    assert (echo["from_me"], echo["chat_type"], echo["from"]["phone"]) == (True, "group", OWN["phone"])


def test_marking_a_group_read_sends_a_receipt_per_participant(svc, account, inbox_api):
    ana = {"jid": ANA_LID, "phone": ANA, "lid": ANA_LID}
    record_inbound(svc, group_message(account, "3AG020", T0, ana))
    record_inbound(svc, group_message(account, "3AG021", T0 + 1, {"jid": BETO_JID, "phone": BETO}))
    record_inbound(svc, group_message(account, "3AG022", T0 + 2, ana))

    status, _, read = request(inbox_api, "POST", f"/conversations/{quote(GROUP)}/read", account)
    assert status == 200, read
    assert (read["type"], read["unread_count"], read["receipts_sent"]) == ("group", 0, 3)
    commands = sorted(mark_read_commands(svc, account), key=lambda c: c["sender_jid"])
    # WhatsApp names a group message by chat, sender and id: one command per participant, as they wrote.
    assert [(c["chat_jid"], c["sender_jid"], c["wa_message_ids"]) for c in commands] == [
        (GROUP, ANA_LID, ["3AG022", "3AG020"]),
        (GROUP, BETO_JID, ["3AG021"]),
    ]
    _, _, page = thread(inbox_api, account)
    assert {m["status"] for m in page["data"]} == {"read"}

    status, _, again = request(inbox_api, "POST", f"/conversations/{quote(GROUP)}/read", account)
    assert (status, again["receipts_sent"]) == (200, 0)


def test_one_to_one_receipts_name_no_sender(svc, account, inbox_api):
    record_inbound(svc, group_message(account, "3AG030", T0, {"jid": ANA_JID, "phone": ANA}, chat_jid=ANA_JID))
    request(inbox_api, "POST", f"/conversations/{quote(ANA_JID)}/read", account)
    [command] = mark_read_commands(svc, account)
    assert "sender_jid" not in command and command["chat_jid"] == ANA_JID


@pytest.mark.parametrize(
    "chat", ["status@broadcast", "1790000000@broadcast", "120363000000000009@newsletter", "x@unknown.server"]
)
def test_statuses_broadcast_lists_and_channels_are_not_recorded_but_logged(
    svc, account, inbox_api, published, caplog, chat
):
    caplog.set_level(logging.INFO, logger="bzapper.services.inbox")
    record_inbound(svc, group_message(account, "3AG040", T0, {"jid": ANA_JID, "phone": ANA}, chat_jid=chat))
    _, _, page = listing(inbox_api, account)
    assert page["data"] == [] and published.events == []
    [log] = [r for r in caplog.records if "not recorded" in r.getMessage()]
    # What is never a conversation is routine (info); a chat no rule reads is worth a look (warning).
    expected = logging.WARNING if chat.endswith("@unknown.server") else logging.INFO
    assert log.levelno == expected and log.chat_server == chat.rpartition("@")[2]


def test_a_group_is_read_in_the_inbox_and_is_a_send_recipient(svc, account, inbox_api, messages_handler):
    # Issue #18: a group JID is a recipient now (tests/integration/test_group_messages.py follows it through).
    body = {"instance_id": account.instance_id, "to": GROUP, "body": "Hello group"}
    status, _, accepted = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert (status, accepted["status"]) == (202, "queued")

    status, _, error = thread(inbox_api, account)  # well-formed, never heard from
    assert (status, error["code"]) == (404, "not_found")
    status, _, error = request(inbox_api, "GET", "/conversations/12ab@g.us/messages", account)
    assert (status, error["param"]) == (422, "jid")
    assert "@g.us" in error["message"]


def test_a_group_message_with_a_participant_carrying_both_keys_is_one_transaction(svc, account, published, monkeypatch):
    record_inbound(svc, group_message(account, "3AG050", T0, {"jid": ANA_LID, "phone": ANA, "lid": ANA_LID}))
    calls = DynamoCalls(monkeypatch)
    names = calls.names
    record_inbound(svc, group_message(account, "3AG051", T0 + 1, {"jid": ANA_LID, "phone": ANA, "lid": ANA_LID}))
    assert names == ["TransactWriteItems"]  # the instance is cached by the first message
    names.clear()  # one side unknown: one read of the mapping, as for a contact
    record_inbound(svc, group_message(account, "3AG052", T0 + 2, {"jid": BETO_JID, "phone": BETO}))
    assert names == ["GetItem", "TransactWriteItems"]
