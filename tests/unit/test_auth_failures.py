"""Failed authentications (bzapper.domain.auth_failures): a source that keeps failing waits, a key that works is
never held back by it, and a malformed key is refused by its shape alone."""

from __future__ import annotations

import pytest

from bzapper.domain.auth_failures import FAILURES_PER_ADDRESS, FAILURES_PER_PREFIX, FailedAuthentications
from bzapper.domain.keys import generate_key, well_formed

NOW = 1_800_000_000_000.0


def guessed(index: int) -> str:
    """A well-formed key nobody holds, each with its own prefix."""
    return f"bz_test_{index:06d}" + "x" * 37


def fail_times(guard: FailedAuthentications, address: str, count: int, start: int = 0) -> None:
    for index in range(start, start + count):
        guard.failed(address, guessed(index), NOW)


def test_an_address_waits_once_its_failures_spend_the_budget_and_only_that_address():
    guard = FailedAuthentications()
    fail_times(guard, "198.51.100.7", FAILURES_PER_ADDRESS.limit - 1)
    assert guard.refusal("198.51.100.7", guessed(900), NOW) is None  # one guess of the budget is left

    fail_times(guard, "198.51.100.7", 1, start=500)
    refusal = guard.refusal("198.51.100.7", guessed(901), NOW)
    assert refusal is not None and not refusal.allowed and refusal.retry_after_seconds >= 1
    assert refusal.limit == FAILURES_PER_ADDRESS.limit
    assert guard.refusal("198.51.100.8", guessed(902), NOW) is None


def test_a_guesser_who_keeps_going_is_looked_up_no_more_than_the_budget_a_minute():
    """The adversarial pass saw ~40 lookups a minute: each time a block ended, two guesses got through."""
    guard = FailedAuthentications()
    looked_up = 0
    for tenth_of_second in range(0, 10 * 60 * 3):  # three minutes, a guess every 100 ms
        at = NOW + tenth_of_second * 100
        if guard.refusal("198.51.100.7", guessed(tenth_of_second), at) is None:
            looked_up += 1
            guard.failed("198.51.100.7", guessed(tenth_of_second), at)
    assert looked_up <= FAILURES_PER_ADDRESS.limit * 3 + FAILURES_PER_ADDRESS.limit  # the burst, then 20 a minute


def test_a_blocked_address_may_try_again_once_its_bucket_admits():
    guard = FailedAuthentications()
    fail_times(guard, "198.51.100.7", FAILURES_PER_ADDRESS.limit + 1)
    refusal = guard.refusal("198.51.100.7", guessed(900), NOW)
    assert refusal is not None
    later = NOW + refusal.retry_after_seconds * 1000
    assert guard.refusal("198.51.100.7", guessed(900), later) is None


def test_a_key_that_authenticated_is_never_held_back_by_its_neighbours_failures():
    guard = FailedAuthentications()
    valid = generate_key("test")
    guard.succeeded(valid, NOW)
    fail_times(guard, "198.51.100.7", FAILURES_PER_ADDRESS.limit * 3)
    assert guard.refusal("198.51.100.7", guessed(999), NOW) is not None
    assert guard.refusal("198.51.100.7", valid, NOW) is None


def test_one_prefix_hammered_from_many_addresses_waits_while_other_keys_do_not():
    guard = FailedAuthentications()
    leaked = "bz_live_AAAAAA" + "y" * 37
    for index in range(FAILURES_PER_PREFIX.limit + 1):
        guard.failed(f"203.0.113.{index}", leaked, NOW)
    assert guard.refusal("192.0.2.1", leaked, NOW) is not None
    assert guard.refusal("192.0.2.1", "bz_live_BBBBBB" + "y" * 37, NOW) is None


def test_the_memory_of_blocked_sources_is_bounded_once_their_blocks_expire():
    guard = FailedAuthentications(max_sources=50)
    for round_index in range(5):  # five waves of 50 blocked addresses, ten minutes apart
        at = NOW + round_index * 600_000
        for address in range(50):
            for attempt in range(FAILURES_PER_ADDRESS.limit + 1):
                guard.failed(f"10.{round_index}.0.{address}", guessed(attempt), at)
        assert guard.refusal(f"10.{round_index}.0.0", guessed(999), at) is not None
        # this wave's addresses and the prefixes they all guessed, never every wave's
        assert len(guard._blocked) <= 50 + FAILURES_PER_ADDRESS.limit + 1


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (generate_key("live"), True),
        (generate_key("test"), True),
        ("bz_test_short", False),
        ("bz_test_" + "a" * 44, False),
        ("bz_test_" + "a" * 42 + "=", False),
        ("bz_prod_" + "a" * 43, False),
        ("bz_test_" + "a" * 42 + "\x00", False),
        ("bz_test_" + "a" * 42 + "\n", False),
        (" bz_test_" + "a" * 43, False),
    ],
    ids=["live", "test", "short", "long", "padding", "other-mode", "nul", "newline", "leading-space"],
)
def test_a_key_is_well_formed_only_in_the_shape_keys_are_made(key, expected):
    assert well_formed(key) is expected
