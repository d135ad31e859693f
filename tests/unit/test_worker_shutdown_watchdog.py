"""A stopping worker exits within its grace even when its shutdown hangs (its backends gone: the local stack
stopping, found by an adversarial pass: a worker kept retrying for minutes after SIGTERM)."""

from __future__ import annotations

import threading

from bzapper.worker.__main__ import SHUTDOWN_GRACE_SECONDS, ShutdownWatchdog


def test_a_shutdown_that_hangs_past_the_grace_exits_the_process():
    stop, exited = threading.Event(), threading.Event()
    codes: list[int] = []

    def exit(code: int) -> None:
        codes.append(code)
        exited.set()

    ShutdownWatchdog(stop, grace_seconds=0.05, exit=exit).start()
    stop.set()  # SIGTERM; the shutdown never calls done()
    assert exited.wait(10) and codes == [1]


def test_a_shutdown_that_finishes_in_time_exits_normally():
    stop, exited = threading.Event(), threading.Event()
    watchdog = ShutdownWatchdog(stop, grace_seconds=0.5, exit=lambda code: exited.set())
    watchdog.start()
    stop.set()
    watchdog.done()
    assert not exited.wait(1.0)


def test_the_grace_ends_before_the_container_is_killed():
    assert SHUTDOWN_GRACE_SECONDS < 30  # ECS's stopTimeout (infra/components/worker.py) sends SIGKILL at 30 s
