"""The status-updates FIFO keys of group reports: every participant's receipt counts on its own (a dedupe id per
status alone would let SQS drop all but the first participant's), and a group change is ordered per group and
deduplicated by what it says."""

from __future__ import annotations

from bzapper.domain.reports import group_and_dedupe

RECEIPT = {"kind": "status", "instance_id": "inst_1", "wa_message_id": "3EB0A", "status": "read", "at": 5}


def test_each_participants_receipt_has_its_own_dedupe_id():
    ana = group_and_dedupe(RECEIPT | {"participant": {"phone": "+5511988880001", "lid": "1@lid"}})
    bia = group_and_dedupe(RECEIPT | {"participant": {"lid": "2@lid"}})
    plain = group_and_dedupe(RECEIPT)
    assert ana[0] == bia[0] == plain[0] == "3EB0A"  # one message's reports stay in order
    assert len({ana[1], bia[1], plain[1]}) == 3
    assert plain[1] == "inst_1:3EB0A:read"  # one-to-one receipts keep their id


def test_a_group_change_is_ordered_per_group_and_deduplicated_by_its_content():
    change = {"kind": "group", "instance_id": "inst_1", "group_jid": "1@g.us", "change": "updated", "at": 7}
    first = group_and_dedupe(change | {"changes": {"subject": "A"}})
    again = group_and_dedupe(change | {"changes": {"subject": "A"}})
    other = group_and_dedupe(change | {"changes": {"subject": "B"}})
    assert first == again and first[0] == other[0] == "inst_1:1@g.us" and first[1] != other[1]
    assert len(first[1]) <= 128
