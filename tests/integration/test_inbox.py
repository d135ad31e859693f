"""The inbox on moto: inbound messages recorded as the statuses consumer would, sent ones joining their
conversation on `sent`, then the real inbox handler (pagination, unread, read receipts, ownership)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from support.accounts import make_account
from support.apigw import LambdaContext, call
from support.control import control_commands
from support.dynamo_calls import DynamoCalls
from support.reports import CapturingPublisher

from bzapper.adapters.aws.models import ConversationModel, MessageModel, UsageModel
from bzapper.adapters.aws.usage import counter_id, hour_of
from bzapper.domain.clock import iso
from bzapper.domain.inbox import inbound_message_id
from bzapper.domain.model import StatusReport
from bzapper.services.inbox import record_inbound
from bzapper.services.statuses import apply_report
from bzapper_dev.local.lambda_events import sqs_event

PHONE = "+5511988888888"
PHONE_JID = "5511988888888@s.whatsapp.net"
LID = "98765432101234@lid"
T0 = 1_790_000_000_000


def inbound(account, wa_id: str, at: int, *, body: str = "hi", chat: str = PHONE_JID, **overrides) -> dict:
    event = {
        "kind": "inbound",
        "instance_id": account.instance_id,
        "wa_message_id": wa_id,
        "chat_jid": chat,
        "from_me": False,
        "sender": {"jid": chat, "phone": PHONE, "push_name": "Maria"},
        "type": "text",
        "content": {"body": body},
        "at": at,
        "account_id": account.account_id,
        "livemode": False,
    }
    event.update(overrides)
    return event


def request(api, method, path, account, instance_id=None, **params):
    query = urlencode({"instance_id": instance_id or account.instance_id, **params})
    return call(api, method, path, headers=account.auth, query=query)


def messages(api, account, jid=PHONE_JID, **params):
    return request(api, "GET", f"/conversations/{quote(jid)}/messages", account, **params)


def conversations(api, account, **params):
    return request(api, "GET", "/conversations", account, **params)


def mark_read(api, account, jid=PHONE_JID):
    return request(api, "POST", f"/conversations/{quote(jid)}/read", account)


def _send(messages_handler, account, to=PHONE, ref="lead-1"):
    body = {"instance_id": account.instance_id, "to": to, "body": "Hello", "client_reference": ref}
    status, _, accepted = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    assert status == 202, accepted
    message_id = accepted["message_id"]
    return message_id, MessageModel.get(message_id).wa_message_id


def _mark_read_commands(svc, account) -> list[dict]:
    return control_commands(svc, account.instance_id, "mark_read")


def test_an_inbound_message_is_in_the_inbox_and_published_once_per_id(svc, account, inbox_api, published):
    event = inbound(account, "3A0001", T0, body="Is the order on its way?")
    record_inbound(svc, event)
    record_inbound(svc, dict(event))  # the report delivered again

    status, _, page = conversations(inbox_api, account)
    assert status == 200
    assert page["has_more"] is False and len(page["data"]) == 1
    row = page["data"][0]
    assert row["jid"] == PHONE_JID and row["phone"] == PHONE and row["name"] == "Maria"
    assert row["unread_count"] == 1  # not 2: the redelivery changed nothing
    assert row["last_message"]["text"] == "Is the order on its way?"
    assert row["last_message"]["direction"] == "inbound"

    message_id = inbound_message_id(account.instance_id, "3A0001")
    status, _, thread = messages(inbox_api, account)
    assert status == 200
    assert [m["message_id"] for m in thread["data"]] == [message_id]
    assert thread["data"][0]["status"] == "received"
    assert thread["data"][0]["from"]["phone"] == PHONE

    assert [e["type"] for e in published.events] == ["message.received", "message.received"]
    first, again = published.events
    assert first == again  # same id, same data: consumers dedupe on the id
    assert first["data"]["message_id"] == message_id
    assert first["data"]["from"] == {"jid": PHONE_JID, "phone": PHONE, "lid": None, "name": "Maria"}
    assert first["data"]["content"] == {"body": "Is the order on its way?"}
    assert first["data"]["from_me"] is False

    usage = UsageModel.get(counter_id(account.account_id, False), f"{hour_of(T0)}#{account.instance_id}")
    assert usage.inbound == 1  # counted once, in the transaction that stored it


def test_a_received_message_is_readable_by_its_id(svc, account, inbox_api, messages_handler):
    record_inbound(svc, inbound(account, "3A0009", T0, body="Hello there"))
    message_id = inbound_message_id(account.instance_id, "3A0009")
    status, _, body = call(messages_handler, "GET", f"/messages/{message_id}", headers=account.auth)
    assert status == 200, body
    assert body["direction"] == "inbound" and body["status"] == "received" and body["content"]["body"] == "Hello there"


def test_a_redelivery_with_another_time_keeps_the_first_event_id(svc, account, published):
    record_inbound(svc, inbound(account, "3A0002", T0))
    record_inbound(svc, inbound(account, "3A0002", T0 + 5_000))  # an engine reporting a later time
    first, again = published.events
    assert first["id"] == again["id"] and first["created"] == again["created"]


def test_both_directions_in_order_with_statuses_and_client_reference(
    svc, account, inbox_api, messages_handler, published
):
    message_id, wa_id = _send(messages_handler, account)
    record_inbound(svc, inbound(account, "3A0010", T0 + 1_000, body="first"))
    # The send is accepted by WhatsApp after the contact's message, then read.
    for report in (
        StatusReport(account.instance_id, wa_id, "sending", T0 + 1_500, message_id),
        StatusReport(account.instance_id, wa_id, "sent", T0 + 2_000, message_id),
        StatusReport(account.instance_id, wa_id, "read", T0 + 4_000),
        StatusReport(account.instance_id, wa_id, "sent", T0 + 2_000, message_id),  # redelivered
    ):
        apply_report(svc, report)
    record_inbound(svc, inbound(account, "3A0011", T0 + 3_000, body="second"))

    _, _, thread = messages(inbox_api, account)
    assert [(m["direction"], m["at"]) for m in thread["data"]] == [
        ("inbound", iso(T0 + 3_000)),
        ("outbound", iso(T0 + 2_000)),  # when WhatsApp accepted it
        ("inbound", iso(T0 + 1_000)),
    ]
    sent = thread["data"][1]
    assert sent["message_id"] == message_id and sent["sent_from"] == "api"
    assert sent["status"] == "read" and sent["client_reference"] == "lead-1"
    assert [h["status"] for h in sent["history"]] == ["queued", "sending", "sent", "read"]
    assert sent["content"] == {"body": "Hello"}

    _, _, page = conversations(inbox_api, account)
    row = page["data"][0]
    assert row["unread_count"] == 2 and row["last_message"]["text"] == "second"
    assert ConversationModel.count(account.instance_id) == 1  # one conversation, not one per direction


def test_a_receipt_overtaking_sent_still_puts_the_message_in_its_thread(svc, account, inbox_api, messages_handler):
    message_id, wa_id = _send(messages_handler, account)
    apply_report(svc, StatusReport(account.instance_id, wa_id, "sending", T0, message_id))
    apply_report(svc, StatusReport(account.instance_id, wa_id, "delivered", T0 + 900))
    _, _, thread = messages(inbox_api, account)
    assert [m["message_id"] for m in thread["data"]] == [message_id]


def test_a_stop_between_a_sent_messages_two_writes_is_completed_by_the_retried_report(
    svc, account, inbox_api, messages_handler, monkeypatch
):
    message_id, wa_id = _send(messages_handler, account)
    apply_report(svc, StatusReport(account.instance_id, wa_id, "sending", T0, message_id))
    sent = StatusReport(account.instance_id, wa_id, "sent", T0 + 1_000, message_id)

    def stopped(self, *args, **kwargs):
        raise RuntimeError("the statuses Lambda timed out")

    with monkeypatch.context() as patch:  # it stops after the message's thread keys, before the row
        patch.setattr(ConversationModel, "update", stopped)
        with pytest.raises(RuntimeError):
            apply_report(svc, sent)
    assert MessageModel.get(message_id).chat_key is not None
    assert ConversationModel.count(account.instance_id) == 0

    apply_report(svc, sent)  # SQS brings the record back
    apply_report(svc, sent)  # and once more: nothing changes twice

    _, _, page = conversations(inbox_api, account)
    [row] = page["data"]
    assert row["last_message"]["message_id"] == message_id and row["unread_count"] == 0
    assert row["last_activity"] == iso(T0 + 1_000)
    # A later receipt names the message's place again: it stays where `sent` put it.
    apply_report(svc, StatusReport(account.instance_id, wa_id, "read", T0 + 5_000))
    _, _, thread = messages(inbox_api, account)
    assert [(m["message_id"], m["at"], m["status"]) for m in thread["data"]] == [(message_id, iso(T0 + 1_000), "read")]
    _, _, page = conversations(inbox_api, account)
    assert [row["last_activity"] for row in page["data"]] == [iso(T0 + 1_000)]


def test_a_message_arriving_late_counts_unread_but_keeps_the_newest_preview(svc, account, inbox_api):
    record_inbound(svc, inbound(account, "3A0020", T0 + 10_000, body="newest"))
    record_inbound(svc, inbound(account, "3A0021", T0 + 5_000, body="older, delivered late"))
    _, _, page = conversations(inbox_api, account)
    row = page["data"][0]
    assert row["last_message"]["text"] == "newest" and row["unread_count"] == 2


def test_pages_of_a_thread_and_of_the_list(svc, account, inbox_api):
    for index in range(7):
        record_inbound(svc, inbound(account, f"3A01{index:02d}", T0 + index * 1_000, body=f"m{index}"))
    seen, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        status, _, page = messages(inbox_api, account, **params)
        assert status == 200
        seen += [m["content"]["body"] for m in page["data"]]
        cursor = page["next_cursor"]
        assert page["has_more"] is (cursor is not None)
        if not cursor:
            break
    assert seen == [f"m{index}" for index in reversed(range(7))]

    for index in range(5):
        record_inbound(
            svc, inbound(account, f"3A02{index:02d}", T0 + index, chat=f"55119888877{index:02d}@s.whatsapp.net")
        )
    _, _, first = conversations(inbox_api, account, limit="4")
    assert first["has_more"] is True and len(first["data"]) == 4
    assert first["data"][0]["jid"] == PHONE_JID  # the most recent activity first
    _, _, rest = conversations(inbox_api, account, limit="4", cursor=first["next_cursor"])
    assert rest["has_more"] is False
    listed = [row["jid"] for row in first["data"] + rest["data"]]
    assert len(listed) == len(set(listed)) == 6


def test_a_forged_cursor_is_422_never_500(svc, account, inbox_api):
    import base64

    for forged in ('"t": 1e999', '"t": 1.5', '"t": true', '"t": 10000000000000000000000', '"j": ""'):
        body = f'{{"i": "{account.instance_id}", "j": "x@s.whatsapp.net", "t": 1, {forged}}}'  # the last key wins
        cursor = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        status, _, answer = conversations(inbox_api, account, cursor=cursor)
        assert (status, answer["code"], answer["param"]) == (422, "validation_failed", "cursor"), forged


def test_a_cursor_of_another_listing_is_refused(svc, account, inbox_api):
    record_inbound(svc, inbound(account, "3A0030", T0))
    status, _, error = conversations(inbox_api, account, cursor="bm90LWEtY3Vyc29y")
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "cursor")


def test_a_thread_cursor_only_continues_its_own_conversation(svc, account, inbox_api):
    other_jid = "5511988887700@s.whatsapp.net"
    for index in range(3):
        record_inbound(svc, inbound(account, f"3A04{index:02d}", T0 + index * 1_000))
        record_inbound(svc, inbound(account, f"3A05{index:02d}", T0 + index * 1_000, chat=other_jid))
    _, _, first = messages(inbox_api, account, limit="1")
    # The same conversation named as E.164 continues it...
    status, _, rest = messages(inbox_api, account, jid=PHONE, cursor=first["next_cursor"])
    assert status == 200 and len(rest["data"]) == 2
    # ...another conversation of the same instance refuses it (it would start at a position of the first one).
    status, _, error = messages(inbox_api, account, jid=other_jid, cursor=first["next_cursor"])
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "cursor")


def test_a_lid_and_its_phone_name_the_same_conversation(svc, account, inbox_api):
    svc.identities.record(account.account_id, PHONE, LID)
    # The contact writes from its LID; the sender carries no phone: the mapping gives it.
    record_inbound(svc, inbound(account, "3A0040", T0, chat=LID, sender={"jid": LID, "lid": LID}))
    for jid in (PHONE_JID, LID, PHONE, "5511988888888"):
        status, _, thread = messages(inbox_api, account, jid=jid)
        assert status == 200, (jid, thread)
        assert thread["conversation"]["jid"] == PHONE_JID
        assert thread["conversation"]["lid"] == LID and thread["conversation"]["phone"] == PHONE
        assert len(thread["data"]) == 1 and thread["data"][0]["chat_jid"] == LID


def test_a_thread_begun_before_the_mapping_was_learned_is_read_whole(svc, account, inbox_api):
    record_inbound(svc, inbound(account, "3A0050", T0, chat=LID, sender={"jid": LID, "lid": LID}))
    svc.identities.record(account.account_id, PHONE, LID)
    record_inbound(svc, inbound(account, "3A0051", T0 + 1_000, chat=PHONE_JID))
    status, _, thread = messages(inbox_api, account, jid=PHONE)
    assert status == 200
    assert [m["wa_message_id"] for m in thread["data"]] == ["3A0051", "3A0050"]
    assert thread["conversation"]["unread_count"] == 2


def test_mark_read_resets_unread_and_asks_the_holder_to_send_receipts(svc, account, inbox_api, messages_handler):
    record_inbound(svc, inbound(account, "3A0060", T0, body="one"))
    record_inbound(svc, inbound(account, "3A0061", T0 + 1, body="two"))
    record_inbound(svc, inbound(account, "3A0062", T0 + 2, type="reaction", content={"emoji": "👍", "target": {}}))
    status, _, read = mark_read(inbox_api, account)
    assert status == 200, read
    assert read["unread_count"] == 0 and read["receipts_sent"] == 3
    [command] = _mark_read_commands(svc, account)
    assert (command["op"], command["instance_id"], command["chat_jid"]) == (
        "mark_read",
        account.instance_id,
        PHONE_JID,
    )
    assert command["wa_message_ids"] == ["3A0062", "3A0061", "3A0060"]
    _, _, thread = messages(inbox_api, account)
    assert {m["status"] for m in thread["data"]} == {"read"}

    # Again with nothing new: no receipts; a new message is unread and only it is receipted next time.
    status, _, again = mark_read(inbox_api, account, PHONE)
    assert (status, again["receipts_sent"]) == (200, 0)
    record_inbound(svc, inbound(account, "3A0063", T0 + 3, body="three"))
    _, _, page = conversations(inbox_api, account)
    assert page["data"][0]["unread_count"] == 1
    mark_read(inbox_api, account, PHONE)
    assert [c["wa_message_ids"] for c in _mark_read_commands(svc, account)] == [["3A0063"]]


def test_a_late_message_older_than_what_was_read_is_not_unread(svc, account, inbox_api):
    record_inbound(svc, inbound(account, "3A0070", T0 + 10_000))
    mark_read(inbox_api, account, PHONE)
    record_inbound(svc, inbound(account, "3A0071", T0))  # sent before the read, delivered after
    _, _, page = conversations(inbox_api, account)
    assert page["data"][0]["unread_count"] == 0


def test_a_from_me_echo_is_an_outbound_message_of_the_phone_and_our_own_echo_is_skipped(
    svc, account, inbox_api, messages_handler, published
):
    own = {"jid": "5511977776666@s.whatsapp.net", "phone": "+5511977776666", "push_name": "Shop"}
    record_inbound(svc, inbound(account, "3A0080", T0, from_me=True, sender=own, body="typed on the phone"))
    _, wa_id = _send(messages_handler, account)
    record_inbound(svc, inbound(account, wa_id, T0 + 1, from_me=True, sender=own, body="Hello"))  # our send's echo

    _, _, thread = messages(inbox_api, account)
    assert [(m["direction"], m["sent_from"], m["status"]) for m in thread["data"]] == [("outbound", "phone", "sent")]
    _, _, page = conversations(inbox_api, account)
    assert page["data"][0]["unread_count"] == 0
    [event] = published.events
    assert event["data"]["from_me"] is True and event["data"]["contact"]["jid"] == PHONE_JID
    assert event["data"]["from"]["phone"] == "+5511977776666"


def test_media_is_a_reference_and_a_quoted_message_of_ours_loses_its_preview(svc, account, inbox_api, published):
    media = {"media_id": "med_01JD5V9Q0A1B2C3D4E5F6G7H8J", "key": "acct/test/med_x", "mime_type": "image/jpeg"}
    content = {
        "media": {**media, "size": 10, "sha256": "ab"},
        "caption": "look",
        "reply_to": {"wa_message_id": "3EB0AA", "chat_jid": PHONE_JID, "from_me": True, "preview": "Your code: 123456"},
    }
    record_inbound(svc, inbound(account, "3A0090", T0, type="image", content=content))
    _, _, thread = messages(inbox_api, account)
    shown = thread["data"][0]["content"]
    assert shown["media"] == {
        "media_id": media["media_id"],
        "url": f"/media/{media['media_id']}",
        "mime_type": "image/jpeg",
        "size": 10,
    }
    assert "preview" not in shown["reply_to"]
    assert "123456" not in json.dumps(MessageModel.get(inbound_message_id(account.instance_id, "3A0090")).content)
    assert published.events[0]["data"]["content"] == shown


def test_another_accounts_conversation_is_not_found(svc, account, inbox_api):
    record_inbound(svc, inbound(account, "3A0100", T0))
    other = make_account(svc)
    for method, path in (
        ("GET", "/conversations"),
        ("GET", f"/conversations/{PHONE_JID}/messages"),
        ("POST", f"/conversations/{PHONE_JID}/read"),
    ):
        status, _, error = request(inbox_api, method, path, other, instance_id=account.instance_id)
        assert (status, error["code"]) == (404, "not_found"), path
    # Its own instance has no conversation with that contact either.
    status, _, _ = messages(inbox_api, other)
    assert status == 404


def test_an_invalid_jid_or_an_unsupported_chat_is_refused(svc, account, inbox_api):
    for jid in ("status@broadcast", "120363000000000000@newsletter", "not-a-number", "12ab@g.us"):
        status, _, error = messages(inbox_api, account, jid=jid)
        assert (status, error["code"], error["param"]) == (422, "validation_failed", "jid"), jid
    # A well-formed group the number never heard from: no such conversation (groups: test_inbox_groups.py).
    status, _, error = messages(inbox_api, account, jid="120363000000000000@g.us")
    assert (status, error["code"]) == (404, "not_found")


def test_the_write_paths_make_the_documented_dynamodb_calls(svc, account, messages_handler, published, monkeypatch):
    svc.identities.record(account.account_id, PHONE, LID)
    message_id, wa_id = _send(messages_handler, account)
    apply_report(svc, StatusReport(account.instance_id, wa_id, "sending", T0, message_id))
    record_inbound(svc, inbound(account, "3A0120", T0 - 1))  # warms the instance cache
    calls = DynamoCalls(monkeypatch)

    # A message whose sender carries phone and LID: one transaction, nothing else.
    record_inbound(svc, inbound(account, "3A0121", T0 + 1, sender={"jid": PHONE_JID, "phone": PHONE, "lid": LID}))
    assert calls.names == ["TransactWriteItems"]
    # Without the LID: one read of the mapping first.
    calls.names.clear()
    record_inbound(svc, inbound(account, "3A0122", T0 + 2))
    assert calls.names == ["GetItem", "TransactWriteItems"]
    # Out of order (older than the preview): a second transaction.
    calls.names.clear()
    record_inbound(svc, inbound(account, "3A0123", T0, sender={"jid": PHONE_JID, "phone": PHONE, "lid": LID}))
    assert calls.names == ["TransactWriteItems", "TransactWriteItems"]
    # A redelivery: the refused transaction, then the stored message (for the event's first time).
    calls.names.clear()
    record_inbound(svc, inbound(account, "3A0123", T0, sender={"jid": PHONE_JID, "phone": PHONE, "lid": LID}))
    assert calls.names == ["TransactWriteItems", "GetItem"]
    # A fromMe echo: the lookup of our own sends by WhatsApp id first.
    calls.names.clear()
    own = {"jid": "5511977776666@s.whatsapp.net", "phone": "+5511977776666"}
    record_inbound(svc, inbound(account, "3A0124", T0 + 3, from_me=True, sender=own))
    assert calls.names == ["Query", "GetItem", "TransactWriteItems"]

    # Sent (to a phone): the message's thread keys, then its conversation's row, on top of the status update.
    calls.names.clear()
    apply_report(svc, StatusReport(account.instance_id, wa_id, "sent", T0 + 4, message_id))
    inbox_calls = calls.names[calls.names.index("UpdateItem") + 1 :]
    assert inbox_calls == ["UpdateItem", "UpdateItem"]


def test_a_failed_publish_is_retried_with_the_same_event_and_nothing_counted_twice(svc, account, inbox_api):
    class FailingOnce(CapturingPublisher):
        failed = False

        def publish(self, events):
            if not self.failed:
                self.failed = True
                raise RuntimeError("the bus is down")
            super().publish(events)

    svc.events = publisher = FailingOnce()
    event = inbound(account, "3A0130", T0)
    with pytest.raises(RuntimeError):
        record_inbound(svc, event)
    record_inbound(svc, event)  # SQS delivers the report again
    [published_event] = publisher.events
    assert published_event["data"]["message_id"] == inbound_message_id(account.instance_id, "3A0130")
    _, _, page = conversations(inbox_api, account)
    assert page["data"][0]["unread_count"] == 1


def test_concurrent_messages_of_one_conversation_are_all_counted(svc, account, inbox_api, published):
    from concurrent.futures import ThreadPoolExecutor

    events = [inbound(account, f"3A14{index:02d}", T0 + index, body=f"m{index}") for index in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda e: record_inbound(svc, e), events + events))  # each one twice, interleaved
    _, _, page = conversations(inbox_api, account)
    row = page["data"][0]
    assert row["unread_count"] == 12 and row["last_message"]["text"] == "m11"
    _, _, thread = messages(inbox_api, account, limit="100")
    assert len(thread["data"]) == 12


def test_a_message_arriving_while_marking_read_is_receipted_too(svc, account, inbox_api):
    record_inbound(svc, inbound(account, "3A0150", T0))
    real = svc.inbox.mark_read
    calls = []

    def racing(conversation):
        if not calls:  # the first attempt: a message lands between reading the row and updating it
            record_inbound(svc, inbound(account, "3A0151", T0 + 1))
        calls.append(conversation.last_sort)
        return real(conversation)

    svc.inbox.mark_read = racing
    status, _, read = mark_read(inbox_api, account)
    assert status == 200 and len(calls) == 2  # refused once (stale row), then applied
    assert (read["unread_count"], read["receipts_sent"]) == (0, 2)
    assert sorted(_mark_read_commands(svc, account)[0]["wa_message_ids"]) == ["3A0150", "3A0151"]


def test_a_message_sent_to_a_lid_joins_the_phones_conversation(svc, account, inbox_api, messages_handler):
    svc.identities.record(account.account_id, PHONE, LID)
    record_inbound(svc, inbound(account, "3A0160", T0))
    message_id, wa_id = _send(messages_handler, account, to=LID)
    apply_report(svc, StatusReport(account.instance_id, wa_id, "sent", T0 + 1, message_id))
    _, _, thread = messages(inbox_api, account, jid=LID)
    newest = thread["data"][0]
    assert (newest["message_id"], newest["chat_jid"], newest["sent_from"]) == (message_id, LID, "api")
    assert len(thread["data"]) == 2 and ConversationModel.count(account.instance_id) == 1


def test_an_inbound_report_through_the_statuses_consumer_lands_in_the_inbox(svc, account, inbox_api, statuses_handler):
    svc.events = CapturingPublisher()
    body = inbound(account, "3A0170", T0, body="via the queue")
    record = {
        "MessageId": "m-1",
        "ReceiptHandle": "rh-1",
        "Body": json.dumps(body),
        "Attributes": {"MessageGroupId": account.instance_id, "ApproximateReceiveCount": "1"},
    }
    arn = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo"
    assert statuses_handler(sqs_event([record], arn, "us-east-1"), LambdaContext()) == {"batchItemFailures": []}
    _, _, thread = messages(inbox_api, account)
    assert [m["content"] for m in thread["data"]] == [{"body": "via the queue"}]
    assert [e["type"] for e in svc.events.events] == ["message.received"]
