"""One row per contact in GET /conversations: the pure merge rules, then the listing's pages over in-memory
stores (no sockets) with every kind of row, ties in activity and every page size: each contact exactly once,
newest activity first, `has_more` true only when another row follows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from bzapper.api.presenters.inbox import conversation_page
from bzapper.domain.clock import iso
from bzapper.domain.errors import BzError
from bzapper.domain.ids import new_id
from bzapper.domain.inbox import ConversationRow, lists_here, merge_rows, other_key, phone_jid
from bzapper.domain.model import Principal
from bzapper.services.inbox import LIST_ROWS_READ_MAX, list_conversations

INST = new_id("inst")
PHONE = "+5511988888888"
PHONE_JID = "5511988888888@s.whatsapp.net"
LID = "98765432101234@lid"
GROUP_JID = "120363025246125888@g.us"


def row(jid: str, at: int, **fields) -> ConversationRow:
    preview = {"message_id": f"msg_{jid}_{at}", "direction": "inbound", "type": "text", "text": f"{jid}@{at}", "at": at}
    return ConversationRow(
        instance_id=INST, contact_jid=jid, livemode=False, last_activity=at, last_message=preview, **fields
    )


# --- the rules ------------------------------------------------------------------------------------------------


def test_the_other_key_comes_from_the_learned_mapping_only():
    assert other_key(row(LID, 1), PHONE) == PHONE_JID
    assert other_key(row(PHONE_JID, 1, phone=PHONE), LID) == LID
    assert other_key(row(PHONE_JID, 1, phone=PHONE, lid=LID), None) is None  # a stored LID alone decides nothing
    assert other_key(row(LID, 1), None) is None
    assert other_key(row(GROUP_JID, 1), PHONE) is None


@pytest.mark.parametrize(
    ("lid_at", "phone_at", "listed_at"),
    [(5, 3, LID), (3, 5, PHONE_JID), (4, 4, PHONE_JID)],  # the newer row; on a tie the phone's
)
def test_exactly_one_of_a_contacts_two_rows_lists_it(lid_at, phone_at, listed_at):
    lid_row, phone_row = row(LID, lid_at), row(PHONE_JID, phone_at, phone=PHONE)
    here = {LID: lists_here(lid_row, phone_row), PHONE_JID: lists_here(phone_row, lid_row)}
    assert [jid for jid, listed in here.items() if listed] == [listed_at]
    assert lists_here(lid_row, None) and lists_here(phone_row, None)


def test_two_rows_merge_into_the_phones_with_both_ids_unread_added_and_the_newest_preview():
    older = row(PHONE_JID, 1_000, phone=PHONE, name="Maria", unread_count=2, created_at=900)
    newer = row(LID, 2_000, unread_count=1, created_at=500)
    for rows in ([older, newer], [newer, older]):
        merged = merge_rows(rows, phone=PHONE)
        assert (merged.contact_jid, merged.phone, merged.lid) == (PHONE_JID, PHONE, LID)
        assert merged.unread_count == 3 and merged.name == "Maria"  # the newer row carries no name
        assert merged.last_activity == 2_000 and merged.last_message == newer.last_message
        assert merged.created_at == 500


def test_a_lone_row_shows_what_was_learned_and_a_group_is_unchanged():
    alone = merge_rows([row(LID, 7, unread_count=4)], phone=PHONE)
    assert (alone.contact_jid, alone.phone, alone.lid, alone.unread_count) == (PHONE_JID, PHONE, LID, 4)
    unmapped = merge_rows([row(LID, 7)])  # nobody mapped it: stays under its LID
    assert (unmapped.contact_jid, unmapped.phone, unmapped.lid) == (LID, None, LID)
    assert merge_rows([row(PHONE_JID, 7, phone=PHONE)], lid=LID).lid == LID
    assert merge_rows([row(GROUP_JID, 7, name="Orders")], phone=PHONE) == row(GROUP_JID, 7, name="Orders")


# --- the listing's pages, over in-memory stores ---------------------------------------------------------------


@dataclass
class MemoryInbox:
    """The activity order as DynamoDB gives it: newest first, ties in an order of its own (`tie`)."""

    rows: list[ConversationRow]
    tie: dict[str, float] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def _ordered(self) -> list[ConversationRow]:
        return sorted(self.rows, key=lambda r: (-r.last_activity, self.tie.get(r.contact_jid, 0.0)))

    def activity_page(self, instance_id, count, cursor):
        self.calls.append("Query")
        ordered = self._ordered()
        start = 0 if cursor is None else [r.contact_jid for r in ordered].index(cursor) + 1
        return ordered[start : start + count], len(ordered) > start + count

    def activity_cursor(self, found: ConversationRow) -> str:
        return found.contact_jid

    def conversations(self, instance_id, jids):
        if not jids:
            return []
        self.calls.append("BatchGetItem conversations")
        assert len(jids) == len(set(jids))  # DynamoDB refuses a key asked twice
        by_jid = {r.contact_jid: r for r in self.rows}
        return [by_jid[jid] for jid in jids if jid in by_jid]


@dataclass
class MemoryIdentities:
    phone_by_lid: dict[str, str]
    calls: list[str]

    def learned(self, account_id, lids=(), phones=()):
        self.calls.append("BatchGetItem identities")
        lid_by_phone = {phone: lid for lid, phone in self.phone_by_lid.items()}
        return (
            {lid: self.phone_by_lid[lid] for lid in lids if lid in self.phone_by_lid},
            {phone: lid_by_phone[phone] for phone in phones if phone in lid_by_phone},
        )


PRINCIPAL = Principal(account_id="acct_1", mode="test", locale="en")


def stores(rows, phone_by_lid, tie=None):
    inbox = MemoryInbox(rows, tie or {})
    instance = SimpleNamespace(instance_id=INST, account_id="acct_1", livemode=False)
    services = SimpleNamespace(
        inbox=inbox,
        identities=MemoryIdentities(phone_by_lid, inbox.calls),
        instances=SimpleNamespace(get=lambda instance_id: instance if instance_id == INST else None),
    )
    return services, inbox


def listed(services, principal, instance_id, limit, cursor):
    """A page as GET /conversations shows it."""
    return conversation_page(list_conversations(services, principal, instance_id, limit, cursor))


def every_page(services, limit):
    pages, cursor = [], None
    while True:
        page = listed(services, PRINCIPAL, INST, limit, cursor)
        pages.append(page)
        assert page["has_more"] is (page["next_cursor"] is not None)
        if not page["has_more"]:
            return pages
        cursor = page["next_cursor"]


def random_inbox(seed: int):
    """Contacts of every kind: phone only, an unmapped LID, a mapped LID without a phone row, both rows (the
    phone's with or without its LID stored, as a send leaves it), groups; activities drawn from a few values so
    ties are common. Returns the stores' rows, the mappings, and what each contact should show."""
    rng = random.Random(seed)
    rows, mapping, expected = [], {}, {}
    for index in range(rng.randint(0, 14)):
        phone, lid = f"+55119{index:08d}", f"{9000 + index}@lid"
        unread = [rng.randint(0, 3), rng.randint(0, 3)]
        at = [rng.randint(1, 6), rng.randint(1, 6)]
        kind = rng.choice(["phone", "lid", "mapped lid", "pair", "pair, no stored lid", "group"])
        if kind == "phone":
            rows.append(row(phone_jid(phone), at[0], phone=phone, unread_count=unread[0]))
            expected[phone_jid(phone)] = (unread[0], at[0])
        elif kind == "lid":
            rows.append(row(lid, at[0], unread_count=unread[0]))
            expected[lid] = (unread[0], at[0])
        elif kind == "mapped lid":
            mapping[lid] = phone
            rows.append(row(lid, at[0], unread_count=unread[0]))
            expected[phone_jid(phone)] = (unread[0], at[0])
        elif kind == "group":
            jid = f"1203630{index:011d}@g.us"
            rows.append(row(jid, at[0], unread_count=unread[0]))
            expected[jid] = (unread[0], at[0])
        else:
            mapping[lid] = phone
            stored = lid if kind == "pair" else None
            rows += [
                row(lid, at[0], unread_count=unread[0]),
                row(phone_jid(phone), at[1], phone=phone, lid=stored, unread_count=unread[1]),
            ]
            expected[phone_jid(phone)] = (sum(unread), max(at))
    tie = {r.contact_jid: rng.random() for r in rows}
    return rows, mapping, tie, expected


@pytest.mark.parametrize("seed", range(150))
def test_every_contact_is_listed_once_newest_first_on_pages_of_any_size(seed):
    rows, mapping, tie, expected = random_inbox(seed)
    for limit in (1, 2, 3, 5, 100):
        services, _ = stores(rows, mapping, tie)
        pages = every_page(services, limit)
        listed = [shown for page in pages for shown in page["data"]]
        assert sorted(r["jid"] for r in listed) == sorted(expected), (seed, limit)  # once each, none missing
        for shown in listed:
            unread, at = expected[shown["jid"]]
            assert (shown["unread_count"], shown["last_activity"]) == (unread, iso(at)), (seed, limit)
        activities = [r["last_activity"] for r in listed]
        assert activities == sorted(activities, reverse=True)
        assert all(len(page["data"]) == limit for page in pages[:-1])  # full pages: has_more never lies
        assert pages[-1]["data"] or len(pages) == 1


def test_a_page_whose_rows_all_show_costs_one_query_and_one_batch_of_identities():
    rows = [row(phone_jid(f"+55119{i:08d}"), 100 - i, phone=f"+55119{i:08d}") for i in range(10)]
    services, inbox = stores(rows, {})
    page = listed(services, PRINCIPAL, INST, 4, None)
    assert len(page["data"]) == 4 and page["has_more"]
    assert inbox.calls == ["Query", "BatchGetItem identities"]  # no mapping: no other row to fetch


def test_a_pair_on_one_page_costs_no_read_of_the_other_row_and_one_apart_costs_one_batch():
    rows = [row(LID, 10, unread_count=1), row(PHONE_JID, 9, phone=PHONE, unread_count=2), row(GROUP_JID, 8)]
    services, inbox = stores(rows, {LID: PHONE})
    page = listed(services, PRINCIPAL, INST, 5, None)
    assert [(r["jid"], r["unread_count"]) for r in page["data"]] == [(PHONE_JID, 3), (GROUP_JID, 0)]
    assert inbox.calls == ["Query", "BatchGetItem identities"]

    # Apart: the phone's row is not among the rows read, so it is fetched (one BatchGetItem) to merge it in.
    rows = [row(LID, 10, unread_count=1), row(GROUP_JID, 9), row(PHONE_JID, 8, phone=PHONE, unread_count=2)]
    services, inbox = stores(rows, {LID: PHONE})
    first = listed(services, PRINCIPAL, INST, 1, None)
    assert [(r["jid"], r["lid"], r["unread_count"]) for r in first["data"]] == [(PHONE_JID, LID, 3)]
    assert inbox.calls == ["Query", "BatchGetItem identities", "BatchGetItem conversations"]
    inbox.calls.clear()
    second = listed(services, PRINCIPAL, INST, 1, first["next_cursor"])
    assert [r["jid"] for r in second["data"]] == [GROUP_JID] and second["has_more"] is False
    # The phone's row, last in the order, is passed over: its other row (the LID's, shown before) is fetched.
    assert inbox.calls == ["Query", "BatchGetItem identities", "BatchGetItem conversations"]


def test_a_long_run_of_rows_passed_over_ends_a_page_short_with_a_cursor_after_them():
    count = LIST_ROWS_READ_MAX + 50
    phones = [f"+5511{i:09d}" for i in range(count)]
    newest = [row(phone_jid(p), 10_000 + i, phone=p) for i, p in enumerate(phones)]
    older = [row(f"{i}@lid", 5_000 - i) for i in range(count)]  # each one the older half of a contact above
    services, inbox = stores(newest + older, {f"{i}@lid": p for i, p in enumerate(phones)})
    pages = every_page(services, 100)
    listed = [r["jid"] for page in pages for r in page["data"]]
    assert sorted(listed) == sorted(phone_jid(p) for p in phones)
    # The documented short page: rows to read remain, none of them to show yet.
    assert any(len(page["data"]) < 100 and page["has_more"] for page in pages)
    assert inbox.calls.count("Query") > len(pages)


def test_an_instance_of_another_account_is_not_found():
    services, _ = stores([row(PHONE_JID, 1, phone=PHONE)], {})
    other = Principal(account_id="acct_2", mode="test", locale="en")
    with pytest.raises(BzError) as info:
        list_conversations(services, other, INST, 10, None)
    assert info.value.code == "not_found"
