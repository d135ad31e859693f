import itertools
import random

from bzapper.domain.pacing import Pacer, PacingPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_policy_means_no_wait():
    assert Pacer(PacingPolicy(), Clock()).reserve("inst") == 0.0


def test_regular_sends_of_one_number_are_spaced_and_numbers_are_independent():
    pacer = Pacer(PacingPolicy(min_interval_ms=1000), Clock())
    assert [pacer.reserve("a") for _ in range(3)] == [0.0, 1.0, 2.0]
    assert pacer.reserve("b") == 0.0


def test_jitter_stays_within_its_bound():
    pacer = Pacer(PacingPolicy(min_interval_ms=500, jitter_ms=300), Clock(), random.Random(7))
    waits = [pacer.reserve("a") for _ in range(20)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(waits)]
    assert all(0.5 <= gap <= 0.8 for gap in gaps)
    assert len({round(gap, 3) for gap in gaps}) > 1  # not machine-regular


def test_priority_overtakes_waiting_regular_sends_but_keeps_spacing_from_the_last_real_send():
    clock = Clock()
    pacer = Pacer(PacingPolicy(min_interval_ms=1000), clock)
    for _ in range(5):
        pacer.reserve("a")  # slots at +0 .. +4 s: a campaign waiting
    clock.now += 0.2
    # The send at +0 happened 0.2 s ago: the OTP goes at +1.0, not after the campaign (+5).
    assert abs(pacer.reserve("a", priority=True) - 0.8) < 1e-9
