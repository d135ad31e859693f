"""History on pairing, imported (bzapper.services.history): a part of a history lands in the inbox marked imported,
without message events or usage; a part delivered again, or a live message also in the history, never makes a
second row; one instance.history_synced per sync, with what was imported."""

from __future__ import annotations

from support.memory import PHONE, PHONE_JID, open_account, send_text

from bzapper.domain.inbox import inbound_message_id
from bzapper.services import inbox
from bzapper.services.history import apply_history
from bzapper.services.reports import apply_worker_report

OTHER_JID = "5511977776666@s.whatsapp.net"
GROUP = "120363025246125888@g.us"


def _message(wa_id: str, at: int, body: str = "old news", *, from_me: bool = False, chat: str = PHONE_JID) -> dict:
    sender = {"jid": "5511900001111@s.whatsapp.net"} if from_me else {"jid": chat, "push_name": "Maria"}
    return {
        "wa_message_id": wa_id,
        "chat_jid": chat,
        "from_me": from_me,
        "sender": sender,
        "type": "text",
        "content": {"body": body},
        "at": at,
    }


def _part(tenant, clock, conversations, *, part: str = "c0#0", final: bool = False, sync: str = "sync-1") -> dict:
    return {
        "kind": "history",
        "instance_id": tenant.instance_id,
        "account_id": tenant.account_id,
        "livemode": False,
        "sync_id": sync,
        "part_id": part,
        "final": final,
        "at": clock.now,
        "conversations": conversations,
    }


def _history(clock) -> list[dict]:
    old = clock.now - 86_400_000
    return [
        {"chat_jid": PHONE_JID, "messages": [_message("H1", old), _message("H2", old + 1000, "mine", from_me=True)]},
        {"chat_jid": OTHER_JID, "messages": [_message("H3", old + 2000, chat=OTHER_JID)]},
    ]


def test_a_history_lands_in_the_inbox_imported_without_events_or_usage(fakes, clock):
    tenant = open_account(fakes)

    apply_history(fakes.services, _part(tenant, clock, _history(clock)))

    assert {row.contact_jid for row in fakes.inbox.rows.values()} == {PHONE_JID, OTHER_JID}
    row = fakes.inbox.rows[(tenant.instance_id, PHONE_JID)]
    assert row.last_message["text"] == "mine" and row.last_message["direction"] == "outbound"
    assert row.unread_count == 0  # an old message is not news
    stored = fakes.messages.rows[inbound_message_id(tenant.instance_id, "H1")]
    assert stored.imported and stored.direction == "inbound" and stored.content == {"body": "old news"}
    assert fakes.events.published == []
    assert fakes.usage.total(tenant.account_id, False, "inbound") == 0


def test_the_final_part_publishes_one_history_synced_with_the_counts(fakes, clock):
    tenant = open_account(fakes)
    history = _history(clock)
    apply_history(fakes.services, _part(tenant, clock, history[:1], part="c0#0"))
    clock.advance(1000)
    apply_history(fakes.services, _part(tenant, clock, history[1:], part="c1#0", final=True))

    [synced] = fakes.events.published
    assert synced["type"] == "instance.history_synced"
    assert synced["data"] | {"at": None} == {
        "instance_id": tenant.instance_id,
        "conversations": 2,
        "messages": 3,
        "at": None,
    }


def test_a_part_delivered_again_changes_nothing_and_the_event_keeps_its_id(fakes, clock):
    tenant = open_account(fakes)
    history = _history(clock)
    apply_history(fakes.services, _part(tenant, clock, history[:1], part="c0#0"))
    apply_history(fakes.services, _part(tenant, clock, history[1:], part="c1#0", final=True))
    rows, messages = dict(fakes.inbox.rows), set(fakes.messages.rows)

    clock.advance(60_000)
    apply_history(fakes.services, _part(tenant, clock, history[:1], part="c0#0"))  # redelivered chunks
    apply_history(fakes.services, _part(tenant, clock, history[1:], part="c1#0", final=True))

    assert dict(fakes.inbox.rows) == rows and set(fakes.messages.rows) == messages
    first, again = fakes.events.published
    assert first == again  # one id: the webhook fan-out delivers it once
    assert again["data"]["messages"] == 3 and again["data"]["conversations"] == 2


def test_the_same_conversation_over_two_parts_counts_once(fakes, clock):
    tenant = open_account(fakes)
    old = clock.now - 5000
    one = {"chat_jid": PHONE_JID, "messages": [_message("H1", old)]}
    two = {"chat_jid": PHONE_JID, "messages": [_message("H2", old + 1)]}
    apply_history(fakes.services, _part(tenant, clock, [one], part="c0#0"))
    apply_history(fakes.services, _part(tenant, clock, [two], part="c0#1", final=True))
    [synced] = fakes.events.published
    assert (synced["data"]["conversations"], synced["data"]["messages"]) == (1, 2)


def test_a_live_message_also_in_the_history_is_one_row(fakes, clock):
    tenant = open_account(fakes)
    apply_history(fakes.services, _part(tenant, clock, _history(clock)))

    arrives_live = {
        "instance_id": tenant.instance_id,
        "account_id": tenant.account_id,
        "livemode": False,
        "wa_message_id": "H1",
        "chat_jid": PHONE_JID,
        "sender": {"jid": PHONE_JID, "push_name": "Maria"},
        "type": "text",
        "content": {"body": "old news"},
        "at": clock.now,
    }
    inbox.record_inbound(fakes.services, arrives_live)

    assert len(fakes.messages.rows) == 3
    assert fakes.events.published == []  # imported first: no event for it
    assert fakes.usage.total(tenant.account_id, False, "inbound") == 0


def test_a_message_that_arrived_live_first_is_not_imported_again(fakes, clock):
    tenant = open_account(fakes)
    live = {
        "instance_id": tenant.instance_id,
        "account_id": tenant.account_id,
        "livemode": False,
        "wa_message_id": "H1",
        "chat_jid": PHONE_JID,
        "sender": {"jid": PHONE_JID, "push_name": "Maria"},
        "type": "text",
        "content": {"body": "old news"},
        "at": clock.now,
    }
    inbox.record_inbound(fakes.services, live)
    apply_history(fakes.services, _part(tenant, clock, _history(clock), final=True))

    assert not fakes.messages.rows[inbound_message_id(tenant.instance_id, "H1")].imported  # the live row stands
    synced = fakes.events.of_type("instance.history_synced")[0]
    assert synced["data"]["messages"] == 2


def test_an_echo_of_a_message_this_api_sent_is_not_imported_beside_it(fakes, clock):
    tenant = open_account(fakes)
    sent = send_text(fakes, tenant).accepted.message_id
    wa_id = fakes.messages.get(sent).wa_message_id
    conversation = {"chat_jid": PHONE_JID, "messages": [_message(wa_id, clock.now, from_me=True)]}
    apply_history(fakes.services, _part(tenant, clock, [conversation]))
    assert inbound_message_id(tenant.instance_id, wa_id) not in fakes.messages.rows


def test_chats_that_are_never_conversations_are_left_out(fakes, clock):
    tenant = open_account(fakes)
    conversations = [
        {"chat_jid": "status@broadcast", "messages": [_message("S1", clock.now, chat="status@broadcast")]},
        {"chat_jid": GROUP, "chat_name": "Orders", "messages": [_message("G1", clock.now, chat=GROUP)]},
        "not a conversation",
        {"chat_jid": PHONE_JID, "messages": [{"no": "id"}, "junk"]},
    ]
    apply_history(fakes.services, _part(tenant, clock, conversations, final=True))
    assert {row.contact_jid for row in fakes.inbox.rows.values()} == {GROUP}
    assert fakes.inbox.rows[(tenant.instance_id, GROUP)].name == "Orders"
    assert fakes.events.of_type("instance.history_synced")[0]["data"]["messages"] == 1


def test_a_history_report_goes_through_the_reports_consumer(fakes, clock):
    tenant = open_account(fakes)
    apply_worker_report(fakes.services, _part(tenant, clock, _history(clock), final=True))
    assert fakes.events.types() == ["instance.history_synced"]
    assert PHONE  # the contact's phone names its conversation


def test_a_code_the_phone_sent_is_masked_before_it_leaves_the_host_and_in_the_inbox(fakes, clock):
    from bzapper.domain.inbox import OTP_MASK
    from bzapper.domain.otp import guard_event

    tenant = open_account(fakes)
    chunk = {
        "kind": "history",
        "conversations": [{"chat_jid": PHONE_JID, "messages": [_message("C1", 1, "482913", from_me=True)]}],
    }
    guarded = guard_event(chunk)
    assert guarded["conversations"][0]["messages"][0]["content"] == {"body": OTP_MASK}
    apply_history(fakes.services, _part(tenant, clock, chunk["conversations"]))  # unguarded: masked again here
    assert fakes.messages.rows[inbound_message_id(tenant.instance_id, "C1")].content == {"body": OTP_MASK}
