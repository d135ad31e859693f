"""The event log's numbering and gap rules (bzapper.domain.eventlog): pure, no I/O."""

from __future__ import annotations

import pytest

from bzapper.domain.eventlog import GAP_WAIT_MS, GapWatch, Walk, claimed, parse_seq, seq_key, walk


class FakeClock:
    def __init__(self, at: int = 1_000_000) -> None:
        self.at = at

    def __call__(self) -> int:
        return self.at


def test_sequence_keys_sort_as_their_numbers():
    numbers = [1, 9, 10, 99, 100, 12_345, 10**14]
    assert sorted(seq_key(n) for n in numbers) == [seq_key(n) for n in numbers]
    assert all(parse_seq(seq_key(n)) == n for n in numbers)


@pytest.mark.parametrize("stored", [None, "", "01JD5V6W4E7R8T9Y0U1I2O3P4Q", "12", "-00000000000001", "1" * 16])
def test_anything_but_a_stored_number_is_no_position(stored):
    assert parse_seq(stored) is None


def test_an_add_claims_the_numbers_just_below_what_it_returned():
    assert list(claimed(12, 3)) == [10, 11, 12]
    assert list(claimed(1, 1)) == [1]
    with pytest.raises(ValueError):
        claimed(2, 3)
    with pytest.raises(ValueError):
        claimed(5, 0)


def test_a_walk_reads_the_unbroken_run_and_names_the_first_gap():
    assert walk(4, []) == Walk(4, None)  # nothing committed yet: no gap to wait on
    assert walk(4, [5, 6, 7]) == Walk(7, None)
    assert walk(4, [7, 5, 6]) == Walk(7, None)  # order of arrival does not matter
    assert walk(4, [5, 7, 8]) == Walk(5, 6, 6)  # 6 missing while 7 is there
    assert walk(4, [6]) == Walk(4, 5, 5)  # stops at once: 5 first
    assert walk(4, [2, 3, 4, 5]) == Walk(5, None)  # at or below the cursor: already read


def test_a_walk_names_the_whole_missing_run_up_to_the_next_present_number():
    assert walk(0, [11]) == Walk(0, 1, 10)  # a dead batch of ten: 1..10 missing, one run
    assert walk(4, [5, 6, 20, 21]) == Walk(6, 7, 19)
    assert walk(0, [150, 101]) == Walk(0, 1, 100)  # the first present number ends the run, whatever the order


def test_a_gap_is_waited_on_from_when_the_reader_first_saw_it():
    clock = FakeClock()
    gaps = GapWatch(wait_ms=5_000, clock=clock)
    assert gaps.may_pass(6) is False
    clock.at += 4_999
    assert gaps.may_pass(6) is False
    clock.at += 1
    assert gaps.may_pass(6) is True


def test_each_gap_has_its_own_clock_and_reading_past_it_forgets_it():
    clock = FakeClock()
    gaps = GapWatch(wait_ms=1_000, clock=clock)
    assert not gaps.may_pass(6)
    clock.at += 600
    assert not gaps.may_pass(9)  # seen later: its wait starts now
    clock.at += 400
    assert gaps.may_pass(6) and not gaps.may_pass(9)
    gaps.read_through(6)
    assert gaps.waiting_on == (9,)
    assert not gaps.may_pass(6)  # were 6 missing again (it cannot be), the wait would start over


def test_once_the_first_number_of_a_run_has_waited_the_whole_run_may_pass():
    clock = FakeClock()
    gaps = GapWatch(wait_ms=1_000, clock=clock)
    assert not gaps.may_pass(1, through=10)
    clock.at += 1_000
    assert gaps.may_pass(1, through=10)
    gaps.read_through(4)  # a reader that fenced part of the run does not wait again for the rest
    assert gaps.may_pass(5) and gaps.may_pass(10)
    assert not gaps.may_pass(11)  # past the run: a number of its own, with its own wait
    gaps.read_through(10)
    assert gaps.waiting_on == (11,)


def test_a_zero_wait_passes_at_first_sight_and_the_default_is_a_few_seconds():
    assert GapWatch(wait_ms=0, clock=FakeClock()).may_pass(3)
    assert 1_000 <= GAP_WAIT_MS <= 10_000
    assert GapWatch().wait_ms == GAP_WAIT_MS
