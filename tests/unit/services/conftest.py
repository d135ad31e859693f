"""Every service test gets a fresh in-memory system on a clock it moves by hand."""

from __future__ import annotations

import pytest

from bzapper.adapters.memory import ManualClock, MemoryFakes, memory_fakes
from bzapper.domain import clock as domain_clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The fakes' clock, and the services' too: `now_ms()` reads `time.time()` of bzapper.domain.clock."""
    manual = ManualClock()
    monkeypatch.setattr(domain_clock, "time", manual)
    return manual


@pytest.fixture
def fakes(clock: ManualClock) -> MemoryFakes:
    return memory_fakes(clock=clock)
