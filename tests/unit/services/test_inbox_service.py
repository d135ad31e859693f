"""The inbox (bzapper.services.inbox): messages that arrive and messages we sent, in one conversation per
contact; redeliveries store nothing new and publish the same event; reading a conversation sends receipts."""

from __future__ import annotations

import pytest
from support.memory import LID, PHONE, PHONE_JID, open_account, report, send_text

from bzapper.domain.errors import BzError
from bzapper.domain.inbox import OTP_MASK, inbound_message_id
from bzapper.services import inbox

GROUP = "120363025246125888@g.us"
MEMBER_JID = "5511966665555@s.whatsapp.net"


def arrives(fakes, tenant, wa_id: str, body: str = "hi", *, at: int | None = None, **fields) -> str:
    event = {
        "instance_id": tenant.instance_id,
        "account_id": tenant.account_id,
        "livemode": False,
        "wa_message_id": wa_id,
        "chat_jid": PHONE_JID,
        "sender": {"jid": PHONE_JID, "push_name": "Maria"},
        "type": "text",
        "content": {"body": body},
        "at": fakes.clock() if at is None else at,
        **fields,
    }
    inbox.record_inbound(fakes.services, event)
    return inbound_message_id(tenant.instance_id, wa_id)


# Arriving ---------------------------------------------------------------------------------------------------


def test_a_message_that_arrives_joins_its_contacts_conversation_unread(fakes, clock):
    tenant = open_account(fakes)

    message_id = arrives(fakes, tenant, "3EB0IN0001", "hello there")

    [row] = fakes.inbox.rows.values()
    assert (row.contact_jid, row.phone, row.name, row.unread_count) == (PHONE_JID, PHONE, "Maria", 1)
    assert row.last_message == {
        "message_id": message_id,
        "direction": "inbound",
        "type": "text",
        "text": "hello there",
        "at": clock.now,
    }
    [received] = fakes.events.published
    assert received["type"] == "message.received" and received["data"]["from"]["phone"] == PHONE
    assert received["data"]["contact"] == {"jid": PHONE_JID, "phone": PHONE, "lid": None, "name": "Maria"}
    assert fakes.usage.total(tenant.account_id, False, "inbound") == 1


def test_a_redelivery_stores_nothing_new_and_publishes_the_same_event(fakes, clock):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0IN0001")
    clock.advance(60_000)

    arrives(fakes, tenant, "3EB0IN0001")  # another engine's delivery, reported with another time

    first, again = fakes.events.published
    assert first == again
    assert next(iter(fakes.inbox.rows.values())).unread_count == 1
    assert fakes.usage.total(tenant.account_id, False, "inbound") == 1


def test_a_storage_failure_is_raised_for_a_retry(fakes):
    tenant = open_account(fakes)
    fakes.inbox.fail_next("add_received", ConnectionError("throttled"))
    with pytest.raises(ConnectionError):
        arrives(fakes, tenant, "3EB0IN0001")
    assert fakes.events.published == []
    arrives(fakes, tenant, "3EB0IN0001")
    assert fakes.events.types() == ["message.received"]


def test_an_echo_of_a_message_we_sent_waits_for_its_own_status(fakes):
    tenant = open_account(fakes)
    sent = send_text(fakes, tenant).accepted.message_id
    arrives(fakes, tenant, fakes.messages.get(sent).wa_message_id, from_me=True)
    assert fakes.inbox.rows == {} and fakes.events.published == []


def test_what_the_phone_itself_sent_is_stored_read_and_uncounted_with_codes_masked(fakes):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0PHONE001", "482913", from_me=True)
    [row] = fakes.inbox.rows.values()
    assert row.unread_count == 0 and row.last_message["direction"] == "outbound"
    assert row.last_message["text"] == OTP_MASK
    [received] = fakes.events.published
    assert received["data"]["content"] == {"body": OTP_MASK}
    assert fakes.usage.total(tenant.account_id, False, "inbound") == 0


@pytest.mark.parametrize("chat", ["status@broadcast", "1234@broadcast", "120363@newsletter", "what@ever.net"])
def test_what_is_never_a_conversation_is_not_recorded(fakes, chat):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0IN0001", chat_jid=chat)
    assert fakes.messages.rows == {} and fakes.events.published == []


def test_a_message_of_an_unknown_instance_is_dropped(fakes):
    tenant = open_account(fakes)
    fakes.instances.delete(tenant.instance_id)
    arrives(fakes, tenant, "3EB0IN0001")
    assert fakes.messages.rows == {}


def test_a_lid_sender_joins_the_phones_conversation_once_the_mapping_is_known(fakes):
    tenant = open_account(fakes)
    fakes.identities.record(tenant.account_id, PHONE, LID)
    arrives(fakes, tenant, "3EB0IN0001", chat_jid=LID, sender={"jid": LID})
    [row] = fakes.inbox.rows.values()
    assert (row.contact_jid, row.phone, row.lid) == (PHONE_JID, PHONE, LID)


def test_a_group_message_is_the_groups_conversation_with_its_participant(fakes):
    tenant = open_account(fakes)
    fakes.identities.record(tenant.account_id, "+5511966665555", LID)
    arrives(fakes, tenant, "3EB0GRP0001", chat_jid=GROUP, sender={"jid": MEMBER_JID}, chat_name="Orders")
    [row] = fakes.inbox.rows.values()
    assert (row.contact_jid, row.name) == (GROUP, "Orders")
    [received] = fakes.events.published
    assert received["data"]["chat_type"] == "group"
    assert received["data"]["from"] == {"jid": MEMBER_JID, "phone": "+5511966665555", "lid": LID, "name": None}


def test_an_older_message_arriving_late_keeps_the_newest_preview_but_counts_as_unread(fakes, clock):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0NEW00001", "newer", at=clock.now)
    arrives(fakes, tenant, "3EB0OLD00001", "older", at=clock.now - 5_000)
    [row] = fakes.inbox.rows.values()
    assert row.last_message["text"] == "newer" and row.unread_count == 2


# Sent ------------------------------------------------------------------------------------------------------


def test_a_message_we_sent_joins_the_conversation_when_whatsapp_accepts_it(fakes, clock):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0IN0001", "question")
    message_id = send_text(fakes, tenant, "answer").accepted.message_id
    clock.advance(1_000)

    report(fakes, message_id, "delivered")  # the receipt overtook the sent report

    [row] = fakes.inbox.rows.values()
    assert row.last_message["message_id"] == message_id and row.last_message["direction"] == "outbound"
    assert row.unread_count == 1
    report(fakes, message_id, "sent")
    page = inbox.conversation_messages(fakes.services, tenant.principal, tenant.instance_id, PHONE, 10, None)
    assert [m.message_id for m in page.messages] == [message_id, inbound_message_id(tenant.instance_id, "3EB0IN0001")]


# Reading -------------------------------------------------------------------------------------------------


def test_conversations_are_listed_newest_first_one_row_per_contact(fakes, clock):
    tenant = open_account(fakes)
    others = ["+5511911110001", "+5511911110002", "+5511911110003"]
    for index, phone in enumerate(others):
        arrives(
            fakes,
            tenant,
            f"3EB0LIST{index:04d}",
            chat_jid=f"{phone[1:]}@s.whatsapp.net",
            sender={},
            at=clock.now + index,
        )
    arrives(fakes, tenant, "3EB0LIDROW01", chat_jid=LID, sender={"jid": LID}, at=clock.now + 10)
    fakes.identities.record(tenant.account_id, others[0], LID)  # learned later: the LID row is that contact's

    first = inbox.list_conversations(fakes.services, tenant.principal, tenant.instance_id, 2, None)
    second = inbox.list_conversations(fakes.services, tenant.principal, tenant.instance_id, 2, first.next_cursor)

    assert [r.phone for r in first.rows] == [others[0], others[2]] and first.next_cursor
    assert [r.phone for r in second.rows] == [others[1]] and second.next_cursor is None
    assert first.rows[0].lid == LID and first.rows[0].unread_count == 2


def test_pages_are_bounded(fakes):
    tenant = open_account(fakes)
    for limit in (0, 101):
        with pytest.raises(BzError) as refused:
            inbox.list_conversations(fakes.services, tenant.principal, tenant.instance_id, limit, None)
        assert refused.value.param == "limit"


def test_a_thread_pages_newest_first_and_an_unknown_one_is_not_found(fakes, clock):
    tenant = open_account(fakes)
    ids = [arrives(fakes, tenant, f"3EB0THR{n:05d}", f"m{n}", at=clock.now + n) for n in range(5)]

    first = inbox.conversation_messages(fakes.services, tenant.principal, tenant.instance_id, PHONE_JID, 3, None)
    rest = inbox.conversation_messages(
        fakes.services, tenant.principal, tenant.instance_id, PHONE, 3, first.next_cursor
    )

    assert [m.message_id for m in first.messages + rest.messages] == ids[::-1]
    assert rest.next_cursor is None and first.conversation.unread_count == 5
    with pytest.raises(BzError) as unknown:
        inbox.conversation_messages(fakes.services, tenant.principal, tenant.instance_id, "+5511900000000", 3, None)
    assert unknown.value.code == "not_found"
    arrives(fakes, tenant, "3EB0OTHER001", chat_jid="5511900000000@s.whatsapp.net", sender={})
    with pytest.raises(BzError) as foreign:  # a cursor of another conversation
        inbox.conversation_messages(
            fakes.services, tenant.principal, tenant.instance_id, "+5511900000000", 3, first.next_cursor
        )
    assert (foreign.value.code, foreign.value.param) == ("validation_failed", "cursor")


# The read marker ---------------------------------------------------------------------------------------------


def test_reading_a_conversation_zeroes_it_and_sends_receipts_once(fakes):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0IN0001")
    arrives(fakes, tenant, "3EB0IN0002")

    read = inbox.mark_conversation_read(fakes.services, tenant.principal, tenant.instance_id, PHONE)
    again = inbox.mark_conversation_read(fakes.services, tenant.principal, tenant.instance_id, PHONE)

    assert read.receipts_sent == 2 and read.conversation.unread_count == 0 and again.receipts_sent == 0
    [command] = fakes.control.commands("mark_read")
    assert (command["chat_jid"], sorted(command["wa_message_ids"])) == (PHONE_JID, ["3EB0IN0001", "3EB0IN0002"])
    assert "sender_jid" not in command


def test_a_group_receipt_names_who_wrote_each_message(fakes):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0GRP0001", chat_jid=GROUP, sender={"jid": MEMBER_JID})
    inbox.mark_conversation_read(fakes.services, tenant.principal, tenant.instance_id, GROUP)
    [command] = fakes.control.commands("mark_read")
    assert (command["chat_jid"], command["sender_jid"]) == (GROUP, MEMBER_JID)


def test_a_message_arriving_while_reading_is_read_and_receipted_too(fakes, clock):
    tenant = open_account(fakes)
    arrives(fakes, tenant, "3EB0IN0001")
    fakes.inbox.before_next("mark_read", lambda: arrives(fakes, tenant, "3EB0IN0002", at=clock.now + 1))

    read = inbox.mark_conversation_read(fakes.services, tenant.principal, tenant.instance_id, PHONE)

    assert read.receipts_sent == 2 and read.conversation.unread_count == 0
    assert fakes.inbox.call_count("mark_read") == 2
    [row] = fakes.inbox.rows.values()
    assert row.unread_count == 0
