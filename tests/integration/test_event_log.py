"""The event log on moto: dense numbers per stream, holes, gaps, fences, resume — the real consumer handler."""

from __future__ import annotations

import asyncio
import json

import pytest
from support.apigw import LambdaContext

from bzapper.adapters.aws.eventlog import COUNTER_ENTRY, HOLE, EventLog, stream_id
from bzapper.adapters.aws.models import CounterModel, EventModel
from bzapper.domain.clock import now_ms
from bzapper.domain.eventlog import GapWatch, seq_key
from bzapper.domain.events import envelope
from bzapper.domain.model import Principal
from bzapper.services.stream import event_stream, start_position
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import sqs_event

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-event-log"


class FakeClock:
    def __init__(self) -> None:
        self.at = 1_000_000

    def __call__(self) -> int:
        return self.at


def _event(account, n: int, event_type: str = "message.sent") -> dict:
    return envelope(
        event_type,
        at_ms=now_ms(),
        account_id=account.account_id,
        instance_id=account.instance_id,
        livemode=False,
        data={"message_id": f"msg_{n}"},
        identity=(event_type, str(n)),
    )


def _record(event: dict, index: int = 0) -> dict:
    """What the bus rule puts in SQS: the EventBridge envelope, our event in `detail`."""
    body = {"version": "0", "id": f"eb-{index}", "detail-type": event.get("type"), "source": "bzapper", "detail": event}
    return {"MessageId": f"m{index}", "ReceiptHandle": f"rh{index}", "Body": json.dumps(body)}


def _consume(*events: dict) -> dict:
    handler = load_function("event_log").handler
    return handler(sqs_event([_record(e, i) for i, e in enumerate(events)], QUEUE_ARN, "us-east-1"), LambdaContext())


def _stream(account) -> str:
    return stream_id(account.account_id, False)


def _read_all(log: EventLog, stream: str, after: int, gaps: GapWatch) -> tuple[list[str], int]:
    rows, cursor = log.read_after(stream, after, gaps)
    return [row.event_id for row in rows], cursor


def _row(stream: str, seq: int) -> EventModel | None:
    try:
        return EventModel.get(stream, f"log#{seq_key(seq)}", consistent_read=True)
    except EventModel.DoesNotExist:
        return None


@pytest.fixture
def frozen() -> GapWatch:
    """A reader whose clock never moves: it never passes a gap by waiting."""
    return GapWatch(wait_ms=5_000, clock=FakeClock())


def test_a_batch_claims_once_per_stream_and_is_read_in_batch_order(svc, account, monkeypatch):
    from support.accounts import make_account

    other = make_account(svc)
    claims: list[tuple[str, int]] = []
    real_claim = svc.event_log.claim
    monkeypatch.setattr(svc.event_log, "claim", lambda s, n: claims.append((s, n)) or real_claim(s, n))
    mine = [_event(account, n) for n in range(4)]
    theirs = _event(other, 9)

    assert _consume(mine[0], theirs, mine[1], mine[2], mine[3]) == {"batchItemFailures": []}

    assert sorted(claims) == sorted([(_stream(account), 4), (_stream(other), 1)])  # one UpdateItem per stream
    frozen_reader = GapWatch(wait_ms=5_000, clock=FakeClock())
    assert _read_all(svc.event_log, _stream(account), 0, frozen_reader) == ([e["id"] for e in mine], 4)
    assert _read_all(svc.event_log, _stream(other), 0, frozen_reader) == ([theirs["id"]], 1)
    assert svc.event_log.head(_stream(account)) == 4
    assert svc.event_log.position_of(_stream(account), mine[2]["id"]) == 3


def test_a_reader_waits_for_an_earlier_number_committed_after_a_later_one(svc, account, frozen):
    log, stream = svc.event_log, _stream(account)
    first = [_event(account, n) for n in range(4)]
    _consume(*first)
    slow, fast = _event(account, 5), _event(account, 6)
    (five,), (six,) = log.claim(stream, 1), log.claim(stream, 1)  # two writers, claims in that order
    assert (five, six) == (5, 6)

    assert log.write(stream, six, fast) == "written"  # 6 commits first
    assert _read_all(log, stream, 4, frozen) == ([], 4)  # the reader stops before 5, and does not skip it
    assert frozen.waiting_on == (5,)
    assert log.write(stream, five, slow) == "written"
    assert _read_all(log, stream, 4, frozen) == ([slow["id"], fast["id"]], 6)
    assert frozen.waiting_on == ()


def test_a_redelivered_event_leaves_a_hole_that_readers_skip_at_once(svc, account, frozen):
    log, stream = svc.event_log, _stream(account)
    first, second = _event(account, 1), _event(account, 2)
    for batch in ((first,), (first,), (second,)):  # the first one is redelivered
        assert _consume(*batch) == {"batchItemFailures": []}

    assert log.head(stream) == 3
    assert _row(stream, 2).type == HOLE  # number 2 was claimed by the duplicate, which logged nothing
    assert _read_all(log, stream, 0, frozen) == ([first["id"], second["id"]], 3)  # no wait at the hole
    assert frozen.waiting_on == ()
    assert log.position_of(stream, first["id"]) == 1


def test_a_failed_record_releases_its_number_as_a_hole_and_the_rest_are_delivered(svc, account, frozen):
    log, stream = svc.event_log, _stream(account)
    good, broken, later = _event(account, 1), _event(account, 2), _event(account, 3)
    del broken["type"]  # fails while its record is written, after the batch claimed its number

    result = _consume(good, broken, later)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}  # only that record comes back
    assert _row(stream, 2).type == HOLE
    assert _read_all(log, stream, 0, frozen) == ([good["id"], later["id"]], 3)


def test_numbers_a_batch_claimed_but_did_not_use_become_holes(svc, account, frozen):
    log, stream = svc.event_log, _stream(account)
    events = [_event(account, n) for n in range(3)]
    batch = log.batch(events)
    assert batch.append(events[0]) is True
    batch.close()  # the other two records never reached the log (say, the function ran out of time)

    assert [_row(stream, seq).type for seq in (2, 3)] == [HOLE, HOLE]
    assert _read_all(log, stream, 0, frozen) == ([events[0]["id"]], 3)


def test_a_dead_writers_gap_is_fenced_after_the_wait_and_a_late_writer_claims_again(svc, account):
    log, stream = svc.event_log, _stream(account)
    clock = FakeClock()
    gaps = GapWatch(wait_ms=5_000, clock=clock)
    before, after, late = _event(account, 1), _event(account, 3), _event(account, 2)
    _consume(before)
    (dead,) = log.claim(stream, 1)  # a writer claims 2, then dies before writing
    _consume(after)  # 3

    assert _read_all(log, stream, 0, gaps) == ([before["id"]], 1)  # gap at 2 first seen now
    clock.at += 4_999
    assert _read_all(log, stream, 1, gaps) == ([], 1)
    clock.at += 1
    assert _read_all(log, stream, 1, gaps) == ([after["id"]], 3)  # past it: 2 is fenced with a hole
    assert _row(stream, dead).type == HOLE

    # The writer was only slow: its commit at 2 fails on the fence, and it logs the event at a new number.
    assert log.write(stream, dead, late) == "fenced"
    assert log.position_of(stream, late["id"]) is None  # nothing of it was written
    assert log.append(late) is True
    assert log.position_of(stream, late["id"]) == 4
    assert _read_all(log, stream, 3, gaps) == ([late["id"]], 4)  # the reader past the fence still gets it


def test_resume_after_an_event_is_exact_and_without_one_starts_at_the_head(svc, account, frozen):
    log, stream = svc.event_log, _stream(account)
    principal = Principal(account.account_id, "test", "en")
    events = [_event(account, n) for n in range(5)]
    _consume(*events[:3])
    _consume(events[0])  # a redelivery in between: a hole at 4
    _consume(*events[3:])

    assert start_position(svc, principal, events[1]["id"]) == 2
    assert _read_all(log, stream, 2, frozen) == ([e["id"] for e in events[2:]], 6)  # nothing skipped or repeated
    assert start_position(svc, principal, events[4]["id"]) == 6
    assert _read_all(log, stream, 6, frozen) == ([], 6)
    assert start_position(svc, principal, None) == 6  # from now: only what is logged after this
    newer = _event(account, 9)
    _consume(newer)
    assert _read_all(log, stream, start_position(svc, principal, None) - 1, frozen) == ([newer["id"]], 7)


def test_the_sse_generator_sends_each_event_once_with_its_id_after_a_fenced_gap(svc, account):
    svc.event_log.gap_wait_ms = 0  # injected: a reader goes past a gap at first sight
    principal = Principal(account.account_id, "test", "en")
    stream = _stream(account)
    first, second = _event(account, 1), _event(account, 2, "message.read")
    _consume(first)
    svc.event_log.claim(stream, 1)  # a dead writer's number
    _consume(second)
    polls = iter(range(3))

    async def disconnected() -> bool:
        return next(polls, None) is None

    async def collect() -> list[str]:
        body = event_stream(
            svc, principal, 0, instance_id=None, types=None, disconnected=disconnected, recheck=lambda: principal
        )
        return [chunk async for chunk in body]

    chunks = asyncio.run(collect())
    sent = [c for c in chunks if c.startswith("id: ")]
    assert [c.split("\n")[0] for c in sent] == [f"id: {first['id']}", f"id: {second['id']}"]
    assert "event: message.read" in sent[1] and json.loads(sent[1].split("data: ")[1]) == second


def test_expired_rows_and_holes_are_read_past_and_old_ids_are_unknown(svc, account, frozen):
    log, stream = svc.event_log, _stream(account)
    old = now_ms() - 8 * 24 * 3600 * 1000
    log.claim(stream, 150)
    for seq in range(1, 151):  # 8-day-old rows that local TTL never deleted
        EventModel(
            stream,
            f"log#{seq_key(seq)}",
            event_id=f"evt_old{seq}",
            type="message.sent",
            payload="{}",
            created_at=old,
            expires_at=old // 1000 + 7 * 24 * 3600,
        ).save()
    EventModel(
        stream,
        "id#evt_old1",
        event_id="evt_old1",
        payload=seq_key(1),
        created_at=old,
        expires_at=old // 1000 + 7 * 24 * 3600,
    ).save()
    fresh = _event(account, 1)
    _consume(fresh)

    cursor, seen = 0, []
    for _ in range(3):
        ids, cursor = _read_all(log, stream, cursor, frozen)
        seen += ids
    assert (seen, cursor) == ([fresh["id"]], 151)
    assert log.position_of(stream, "evt_old1") is None


def test_a_stored_clock_position_from_before_numbers_is_an_unknown_id(svc, account):
    stream = _stream(account)
    EventModel(
        stream,
        "id#evt_before",
        event_id="evt_before",
        payload="01JD5V6W4E7R8T9Y0U1I2O3P4Q",
        created_at=now_ms(),
        expires_at=now_ms() // 1000 + 3600,
    ).save()
    assert svc.event_log.position_of(stream, "evt_before") is None
    assert CounterModel.count(stream, CounterModel.entry == COUNTER_ENTRY) == 0
    assert svc.event_log.head(stream) == 0


def test_a_consumer_whose_number_was_fenced_logs_the_event_at_a_new_number(svc, account, monkeypatch):
    log, stream = svc.event_log, _stream(account)
    (stale,) = log.claim(stream, 1)  # this consumer's claim; then it stalls past GAP_WAIT
    _consume(_event(account, 2))  # another consumer logs 2
    reader = GapWatch(wait_ms=0, clock=FakeClock())
    assert _read_all(log, stream, 0, reader)[1] == 2  # the reader fenced 1 and went past
    claims = iter([range(stale, stale + 1)])
    real_claim = log.claim
    monkeypatch.setattr(log, "claim", lambda s, n: next(claims, None) or real_claim(s, n))
    late = _event(account, 1)

    assert _consume(late) == {"batchItemFailures": []}

    assert _row(stream, stale).type == HOLE
    assert log.position_of(stream, late["id"]) == 3
    assert _read_all(log, stream, 2, reader) == ([late["id"]], 3)


def _poll_until_delivered(log: EventLog, stream: str, clock: FakeClock, gaps: GapWatch) -> tuple[list[str], int, int]:
    """Polls like GET /stream (every 250 ms of the fake clock) until something is delivered, at most 200 s."""
    cursor, waited = 0, 0
    for _ in range(800):
        ids, cursor = _read_all(log, stream, cursor, gaps)
        if ids:
            return ids, cursor, waited
        clock.at += 250
        waited += 250
    return [], cursor, waited


def test_a_dead_batch_of_ten_costs_a_reader_one_wait_not_ten(svc, account):
    log, stream = svc.event_log, _stream(account)
    clock = FakeClock()
    gaps = GapWatch(wait_ms=5_000, clock=clock)
    log.claim(stream, 10)  # a batch claimed 1..10, then its Lambda was killed before any write or close()
    after = _event(account, 11)
    _consume(after)  # 11

    ids, cursor, waited = _poll_until_delivered(log, stream, clock, gaps)

    assert (ids, cursor) == ([after["id"]], 11)
    assert waited == 5_000  # the run's first number waited GAP_WAIT, then the whole run was fenced at once
    assert {_row(stream, seq).type for seq in range(1, 11)} == {HOLE}


@pytest.mark.parametrize("missing", [100, 250])
def test_a_run_of_missing_numbers_longer_than_a_read_is_seen_and_fenced(svc, account, missing):
    log, stream = svc.event_log, _stream(account)
    clock = FakeClock()
    gaps = GapWatch(wait_ms=5_000, clock=clock)
    log.claim(stream, missing)  # say, batches whose writes and holes were all throttled, or that timed out
    events = [_event(account, 1), _event(account, 2)]
    _consume(*events)

    ids, cursor, waited = _poll_until_delivered(log, stream, clock, gaps)

    assert (ids, cursor, waited) == ([e["id"] for e in events], missing + 2, 5_000)
    assert _row(stream, missing).type == HOLE


def test_a_writer_fenced_past_its_pool_gives_it_back_and_claims_fresh_numbers(svc, account, monkeypatch):
    log, stream = svc.event_log, _stream(account)
    events = [_event(account, n) for n in range(5)]
    claims: list[int] = []
    real_claim = log.claim
    monkeypatch.setattr(log, "claim", lambda s, n: claims.append(n) or real_claim(s, n))
    batch = log.batch(events)
    assert batch.append(events[0]) is True  # claims 1..5, writes 1; then the consumer stalls past GAP_WAIT
    for seq in range(2, 6):  # readers fenced the rest of its pool: every number it holds is stale
        assert log.hole(stream, seq)

    assert [batch.append(event) for event in events[1:]] == [True] * 4  # none fails, none goes to the DLQ
    batch.close()

    assert claims == [5, 4]  # one fresh claim for the retry and the rest of the batch, not one per fence
    assert [log.position_of(stream, e["id"]) for e in events] == [1, 6, 7, 8, 9]
    reader = GapWatch(wait_ms=5_000, clock=FakeClock())
    assert _read_all(log, stream, 0, reader) == ([e["id"] for e in events], 9)


def _pause_row_writes(log: EventLog, monkeypatch, meanwhile) -> None:
    """The first `log#` row put waits until `meanwhile()` has run (other consumers, readers), then goes on."""
    real = log._put_row
    state = {"paused": False}

    def put_row(*args):
        if not state["paused"]:
            state["paused"] = True
            meanwhile()
        return real(*args)

    monkeypatch.setattr(log, "_put_row", put_row)


def test_a_write_stopped_between_its_two_puts_is_finished_at_its_number_by_a_redelivery(svc, account, monkeypatch):
    log, stream = svc.event_log, _stream(account)
    event = _event(account, 1)
    reader = GapWatch(wait_ms=5_000, clock=FakeClock())
    seen = {}

    def meanwhile():  # the first writer put its `id#` item (number 1) and stalls before the row
        seen["position"] = log.position_of(stream, event["id"])
        seen["read"] = _read_all(log, stream, 0, reader)
        seen["redelivery"] = _consume(event)  # claims 2, finds the event's claim on 1 and writes the row there

    _pause_row_writes(log, monkeypatch, meanwhile)

    assert log.append(event) is True  # its own row put finds the event there: written, once
    assert seen == {"position": None, "read": ([], 0), "redelivery": {"batchItemFailures": []}}
    assert _row(stream, 2).type == HOLE  # the redelivery's number, unused
    assert _read_all(log, stream, 0, reader) == ([event["id"]], 2)
    assert log.position_of(stream, event["id"]) == 1


def test_a_stalled_write_whose_number_was_fenced_is_logged_once_at_the_redeliverys_number(svc, account, monkeypatch):
    log, stream = svc.event_log, _stream(account)
    event, other = _event(account, 1), _event(account, 2)
    reader = GapWatch(wait_ms=0, clock=FakeClock())

    def meanwhile():  # the first writer holds number 1 (its `id#` item) and stalls past GAP_WAIT
        _consume(other)  # 2
        assert _read_all(log, stream, 0, reader) == ([other["id"]], 2)  # 1 is fenced with a hole
        assert _consume(event) == {"batchItemFailures": []}  # the redelivery moves the event to its number, 3

    _pause_row_writes(log, monkeypatch, meanwhile)

    # The stalled writer's row is refused at 1 (a hole); it claims 4, finds the event logged at 3: a hole at 4.
    assert log.append(event) is False
    assert [_row(stream, seq).type for seq in (1, 4)] == [HOLE, HOLE]
    assert log.position_of(stream, event["id"]) == 3
    assert _read_all(log, stream, 2, reader) == ([event["id"]], 4)
    assert _read_all(log, stream, 0, GapWatch(wait_ms=0, clock=FakeClock())) == ([other["id"], event["id"]], 4)
