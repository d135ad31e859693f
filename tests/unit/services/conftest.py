"""Every service test gets a fresh in-memory system on a clock it moves by hand (`clock`, tests/unit/conftest.py)."""

from __future__ import annotations

import pytest

from bzapper.adapters.memory import ManualClock, MemoryFakes, memory_fakes


@pytest.fixture
def fakes(clock: ManualClock) -> MemoryFakes:
    return memory_fakes(clock=clock)
