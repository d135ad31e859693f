"""Jobs in hand stay invisible by the worker's heartbeat, and a dead worker's jobs come back within the short
visibility timeout, to be sent exactly once by the next holder.

The in-memory FIFO queue (SQS's group rule) and the worker share one fake clock; the recipient is the sandbox
network in this process (it drops a repeated WhatsApp id, as a phone does). The heartbeat's thread is
replaced by calling `beat()` every HEARTBEAT_SECONDS of fake time: nothing here sleeps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from support.memory import PHONE, open_account, send_text
from support.sandbox import FakeClock, InProcessClient, fake_network

from bzapper.adapters.memory import ManualClock, MemoryFakes, MemoryQueueReader, memory_fakes
from bzapper.domain.engine import SessionSpec
from bzapper.domain.pacing import Pacer, PacingPolicy
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.topology import JOB_VISIBILITY_SECONDS
from bzapper.worker.jobs import RETRY_BACKOFF_MAX_SECONDS, JobRunner
from bzapper.worker.visibility import HEARTBEAT_SECONDS, RENEW_WITHIN_SECONDS, VisibilityKeeper

OWN = "+5511955550001"
CRASH_COST_BOUND_SECONDS = 10
"""What a dead worker may cost a number at most (issue #17): its jobs are back within this long."""


class Died(BaseException):
    """The worker process is gone (kill -9): nothing of it runs any more, not even its `finally` blocks' I/O."""


class Hosts:
    """Stands for the worker's host processes: the sandbox engine, and a hook inside each send (after the
    network has the message, before the worker hears the ack: where a slow send spends its time)."""

    def __init__(self, engine: SandboxEngine) -> None:
        self.engine = engine
        self.during_send: Callable[[dict[str, Any]], None] | None = None
        self.sends = 0

    def holds(self, instance_id: str) -> bool:
        return True

    def call(self, instance_id: str, method: str, **kwargs: Any) -> dict[str, Any]:
        self.sends += 1
        ack = self.engine.send(instance_id, kwargs["job"])
        if self.during_send is not None:
            self.during_send(kwargs["job"])
        return {"wa_message_id": ack.wa_message_id, "server_timestamp_ms": ack.server_timestamp_ms}


@dataclass
class Reports:
    """The worker's reports, applied as the statuses consumer applies them; `on_sent` runs after a `sent` one."""

    fakes: MemoryFakes
    on_sent: Callable[[dict[str, Any]], None] | None = None
    statuses: list[tuple[str, str]] = field(default_factory=list)

    def report_now(self, shard: int, report: dict[str, Any]) -> None:
        self.fakes.messages.apply_status(report["message_id"], report["status"], report["at"])
        self.statuses.append((report["message_id"], report["status"]))
        if report["status"] == "sent" and self.on_sent is not None:
            self.on_sent(report)


class World:
    def __init__(self, clock: ManualClock, sends: int) -> None:
        self.runners: list[JobRunner] = []
        self.clock = clock
        self.fakes = memory_fakes(clock=clock)
        self.tenant = open_account(self.fakes)
        self.queue = MemoryQueueReader(clock, visibility_ms=JOB_VISIBILITY_SECONDS * 1000, fifo=True)
        self.bodies = [f"message {index}" for index in range(sends)]
        self.message_ids = [send_text(self.fakes, self.tenant, body).accepted.message_id for body in self.bodies]
        for job in self.fakes.jobs.jobs:  # the shard queue: one FIFO group per number
            self.queue.put(job, group=job["instance_id"])
        self.network = fake_network(FakeClock())
        self.engine = SandboxEngine("http://unused", client=InProcessClient(self.network))  # type: ignore[arg-type]
        self.engine.open(SessionSpec(self.tenant.instance_id, self.tenant.account_id, False, OWN), lambda event: None)
        self.engine.pump(0)

    def worker(self, pacer: Pacer | None = None) -> tuple[JobRunner, Hosts, Reports]:
        hosts, reports = Hosts(self.engine), Reports(self.fakes)
        runner = JobRunner(
            self.fakes.services,
            lambda engine: hosts,  # type: ignore[arg-type,return-value]
            self.fakes.instances.view,
            reports,  # type: ignore[arg-type]
            pacer or Pacer(PacingPolicy(), lambda: 0.0),
            clock=self.seconds,
        )
        self.runners.append(runner)
        return runner, hosts, reports

    def seconds(self) -> float:
        return self.clock() / 1000

    def received(self) -> list[str]:
        return [item["message"]["body"] for item in self.network.received(self.tenant.account_id, PHONE)]

    def statuses(self) -> list[str | None]:
        return [self.fakes.messages.status_of(message_id) for message_id in self.message_ids]


@pytest.fixture
def make_world(clock: ManualClock) -> Iterator[Callable[[int], World]]:
    made: list[World] = []

    def make(sends: int) -> World:
        made.append(World(clock, sends))
        return made[-1]

    yield make
    for each in made:
        for runner in each.runners:
            runner.shutdown()


def run_for(world: World, runner: JobRunner, seconds: int, probe: list[dict[str, Any]]) -> None:
    """`seconds` of fake time, one at a time: the heartbeat beats on its period, and another consumer of the
    queue (the shard's next holder, polling) records whatever it would be handed."""
    for _ in range(seconds):
        world.clock.advance(1000)
        if world.seconds() % HEARTBEAT_SECONDS == 0:
            runner.visibility.beat()
        probe.extend(world.queue.receive())


def test_the_heartbeat_renews_well_before_the_visibility_timeout_ends() -> None:
    # Two beats fit in the renewal window: a failed ChangeMessageVisibility is tried again before the job is due.
    assert 2 * HEARTBEAT_SECONDS <= RENEW_WITHIN_SECONDS < JOB_VISIBILITY_SECONDS
    assert JOB_VISIBILITY_SECONDS <= CRASH_COST_BOUND_SECONDS


def test_a_job_held_longer_than_the_visibility_timeout_by_a_slow_send_is_not_redelivered(
    make_world: Callable[[int], World],
) -> None:
    world = make_world(3)
    runner, hosts, _ = world.worker()
    redelivered: list[dict[str, Any]] = []

    def slow(job: dict[str, Any]) -> None:
        if job["message_id"] == world.message_ids[0]:
            run_for(world, runner, 3 * JOB_VISIBILITY_SECONDS, redelivered)

    hosts.during_send = slow
    runner.process_batch(0, world.queue, world.queue.receive(), threading.Event())

    assert redelivered == []  # neither the job being sent nor its number's later jobs went to anyone else
    assert world.received() == world.bodies
    assert world.statuses() == ["sent"] * 3
    assert world.queue.pending() == []
    assert hosts.sends == 3


def test_a_paced_group_stays_in_hand_while_it_waits_for_its_slots(make_world: Callable[[int], World]) -> None:
    world = make_world(3)
    runner, _, _ = world.worker(Pacer(PacingPolicy(min_interval_ms=2 * JOB_VISIBILITY_SECONDS * 1000), world.seconds))
    redelivered: list[dict[str, Any]] = []
    stop = threading.Event()
    stop.wait = lambda timeout=None: run_for(world, runner, round(timeout or 0), redelivered) or False  # type: ignore[method-assign,assignment]

    runner.process_batch(0, world.queue, world.queue.receive(), stop)

    assert redelivered == []
    assert world.received() == world.bodies and world.queue.pending() == []


@pytest.mark.parametrize("dies", ["after the send, before its report", "after its report, before the delete"])
def test_a_dead_workers_jobs_come_back_within_the_visibility_timeout_and_are_sent_once(
    make_world: Callable[[int], World], dies: str
) -> None:
    world = make_world(5)
    first, first_hosts, first_reports = world.worker()
    handed: list[dict[str, Any]] = []

    def die(*_: Any) -> None:
        run_for(world, first, 7, handed)  # alive a while, the heartbeat extending what it holds
        raise Died

    if dies.startswith("after the send"):
        first_hosts.during_send = lambda job: die() if job["message_id"] == world.message_ids[1] else None
    else:
        first_reports.on_sent = lambda report: die() if report["message_id"] == world.message_ids[1] else None
    with pytest.raises(Died):
        first.process_batch(0, world.queue, world.queue.receive(), threading.Event())
    assert handed == []
    died_at = world.seconds()
    assert world.received() == world.bodies[:2]  # the second reached the phone; the worker never heard back

    # The shard's next holder polls: the number is blocked until the dead worker's last extension runs out.
    second, second_hosts, _ = world.worker()
    while not handed:
        world.clock.advance(1000)
        handed = world.queue.receive()
        assert world.seconds() - died_at <= CRASH_COST_BOUND_SECONDS, "the dead worker's jobs did not come back"
    assert [json.loads(m["Body"])["message_id"] for m in handed] == world.message_ids[1:]  # in order
    second.process_batch(0, world.queue, handed, threading.Event())

    assert world.received() == world.bodies  # each exactly once: the redelivered one collapsed or skipped
    assert world.statuses() == ["sent"] * 5
    assert world.queue.pending() == []
    # Re-sent with the same WhatsApp id when its `sent` was never recorded; skipped when it was.
    assert second_hosts.sends == (4 if dies.startswith("after the send") else 3)


def test_a_stopping_worker_gives_back_the_jobs_it_has_not_started(make_world: Callable[[int], World]) -> None:
    world = make_world(3)
    runner, _, reports = world.worker()
    stop = threading.Event()
    reports.on_sent = lambda report: stop.set()  # the shard is handed over while its first job is being sent

    runner.process_batch(0, world.queue, world.queue.receive(), stop)

    assert world.received() == world.bodies[:1]
    # Visible at once to the next holder, in order, without waiting for any timeout.
    assert [json.loads(m["Body"])["message_id"] for m in world.queue.receive()] == world.message_ids[1:]


def test_a_receive_that_lands_after_the_runner_shut_down_is_given_back_at_once(
    make_world: Callable[[int], World],
) -> None:
    """A long poll in flight while the worker stops: what it brings is handed back, not an error and a wait for
    the visibility timeout."""
    world = make_world(2)
    runner, _, _ = world.worker()
    received = world.queue.receive()
    runner.shutdown()

    runner.process_batch(0, world.queue, received, threading.Event())

    assert world.received() == []
    assert [json.loads(m["Body"])["message_id"] for m in world.queue.receive()] == world.message_ids


def test_a_failed_extension_is_tried_again_before_the_job_could_come_back() -> None:
    now = [0]
    queue = MemoryQueueReader(lambda: now[0], visibility_ms=JOB_VISIBILITY_SECONDS * 1000, fifo=True)
    queue.put("job", group="number")
    keeper = VisibilityKeeper(lambda: now[0] / 1000)
    [message] = queue.receive()
    keeper.hold(queue, [message["ReceiptHandle"]], received_at=0.0)
    queue.fail_next("hide", ConnectionError("throttled"), times=2)  # SQS refuses the first two extensions

    for second in range(1, 3 * JOB_VISIBILITY_SECONDS + 1):
        now[0] = second * 1000
        if second % HEARTBEAT_SECONDS == 0:
            keeper.beat()
        assert queue.receive() == [], f"redelivered at {second} s"
    assert queue.call_count("hide") > 2


def test_the_memory_fifo_queue_holds_a_group_back_while_one_of_its_messages_is_in_flight() -> None:
    now = [0]
    queue = MemoryQueueReader(lambda: now[0], visibility_ms=10_000, fifo=True)
    for body, group in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        queue.put(body, group=group)
    [a1] = queue.receive(max_messages=1)
    [b1] = queue.receive()  # a2 waits behind a1 in flight; b is free
    assert b1["Body"] == "b1"
    queue.delete([b1["ReceiptHandle"]])
    now[0] = 9_000
    queue.hide([a1["ReceiptHandle"]], 10)  # a heartbeat: in flight until 19 s
    now[0] = 18_999
    assert queue.receive() == []
    now[0] = 19_000
    assert [m["Body"] for m in queue.receive()] == ["a1", "a2"]  # back, in order


def test_a_send_that_keeps_failing_backs_off_with_its_number_behind_it(make_world: Callable[[int], World]) -> None:
    world = make_world(2)
    runner, hosts, _ = world.worker()
    failing = True

    def broken(job: dict[str, Any]) -> None:
        if failing:
            raise RuntimeError("the engine failed unexpectedly")

    hosts.during_send = broken
    waits: list[int] = []
    handed = world.queue.receive()
    for _ in range(5):
        assert [json.loads(m["Body"])["message_id"] for m in handed] == world.message_ids  # in order, together
        runner.process_batch(0, world.queue, handed, threading.Event())
        waited = 0
        while not (handed := world.queue.receive()):
            world.clock.advance(1000)
            waited += 1
        waits.append(waited)
    assert waits == [JOB_VISIBILITY_SECONDS, 20, 40, RETRY_BACKOFF_MAX_SECONDS, RETRY_BACKOFF_MAX_SECONDS]

    failing = False
    runner.process_batch(0, world.queue, handed, threading.Event())
    assert world.statuses() == ["sent", "sent"] and world.queue.pending() == []
