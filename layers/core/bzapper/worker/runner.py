"""The session worker: leases shards, opens their instances on hosts, sends their jobs, answers their commands.

Threads of one worker process:
- the lease keeper's heartbeat (bzapper.services.leases): takes its fair share of the shards;
- per held shard: its priority queue, its shard queue, its control queue, and one opener;
- the reporter: engine events and statuses back to the status-updates queue, fenced;
- per host (child process): the reader of its pipe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bzapper import bootstrap
from bzapper.config import settings
from bzapper.domain import history
from bzapper.domain.clock import now_ms
from bzapper.domain.engine import SessionSpec
from bzapper.domain.instance_settings import InstanceSettings, drops_inbound
from bzapper.domain.instances import ENGINE_UNAVAILABLE, should_open
from bzapper.domain.leases import Lease
from bzapper.domain.model import InstanceView
from bzapper.domain.pacing import Pacer, PacingPolicy
from bzapper.ports.workers import LeaseStore, QueueReader
from bzapper.services.container import Services
from bzapper.services.leases import LeaseKeeper
from bzapper.topology import control_queue_name, priority_queue_name, shard_queue_name
from bzapper.worker.control import CommandHandler
from bzapper.worker.hosts import DEFAULT_SESSIONS_PER_HOST, POLL_WAIT_SECONDS, HostPool
from bzapper.worker.jobs import JobRunner
from bzapper.worker.reports import Reporter

logger = logging.getLogger("bzapper.worker")

TEARDOWN_SECONDS = 8.0
"""A lost shard's consumers get this long to finish what they hold (under the 12 s a lease stays safe)."""


@dataclass(frozen=True)
class EngineSetup:
    """How hosts build the engine that serves instances of one engine name ("sandbox", "whatsmeow")."""

    factory: str
    """An engine name known to bzapper.bootstrap.build_engine, or a "module:callable"."""
    config: dict[str, Any] = field(default_factory=dict)
    sessions_per_host: int = DEFAULT_SESSIONS_PER_HOST
    """How many sessions share one host process: few where one engine crash takes its host down (neonize),
    many where an engine cannot crash its process (the sandbox is an HTTP client)."""


class ParkedReader:
    """A consumer thread's queue reader that tells whether the thread is parked in a receive (a long poll).

    A thread parked there holds nothing: a stopping shard need not wait up to 20 s for it, since whatever
    its receive brings after the stop is given back at once (the consumers look at the stop first)."""

    def __init__(self, reader: QueueReader) -> None:
        self.reader = reader
        self.receiving = False

    def receive(self, max_messages: int = 10, wait_seconds: int = 1) -> list[dict[str, Any]]:
        self.receiving = True
        try:
            return self.reader.receive(max_messages=max_messages, wait_seconds=wait_seconds)
        finally:
            self.receiving = False

    def hide(self, receipt_handles: list[str], seconds: int) -> None:
        self.reader.hide(receipt_handles, seconds)

    def delete(self, receipt_handles: list[str]) -> None:
        self.reader.delete(receipt_handles)


@dataclass
class ShardWork:
    shard: int
    lease: Lease
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    readers: dict[str, ParkedReader] = field(default_factory=dict)
    """Thread name → its queue reader (the opener has none)."""

    def settled(self, thread: threading.Thread) -> bool:
        """Done, or parked in a receive (holding nothing)."""
        reader = self.readers.get(thread.name)
        return not thread.is_alive() or (reader is not None and reader.receiving)


class SessionWorker:
    def __init__(
        self,
        services: Services,
        engines: dict[str, EngineSetup],
        *,
        lease_store: LeaseStore | None = None,
        owner: str | None = None,
        lease_duration_ms: int | None = None,
        pacing: PacingPolicy | None = None,
        poll_wait_seconds: int | None = None,
    ) -> None:
        if lease_store is None:
            lease_store = bootstrap.lease_store()
        self.services = services
        self.engines = engines
        self.stop = threading.Event()
        self.keeper = LeaseKeeper(
            lease_store,
            owner=owner,
            duration_ms=lease_duration_ms,
            on_acquired=self._acquired,
            on_lost=self._lost,
        )
        # A long poll never delays a message, it only saves empty receives: SQS's maximum with a real lease.
        # The short leases of tests poll shorter, so a stopped test worker's parked receive ends soon.
        if poll_wait_seconds is None:
            short = self.keeper.duration_ms < 15_000
            poll_wait_seconds = max(1, self.keeper.duration_ms // 4000) if short else POLL_WAIT_SECONDS
        self.poll_wait = poll_wait_seconds
        self.reporter = Reporter(self.keeper.fence, self._ack, send=services.reports.send)
        self.jobs = JobRunner(
            services, self._pool_for, self._instance_of, self.reporter, Pacer(pacing or PacingPolicy(), time.monotonic)
        )
        self.commands = CommandHandler(
            services,
            open_instance=self._open,
            close_instance=self._close,
            call=self._call,
            apply_settings=self._apply_settings,
        )
        self._pools: dict[str, HostPool] = {}
        self._pools_lock = threading.Lock()
        self._shards: dict[int, ShardWork] = {}
        self._instances: dict[str, InstanceView] = {}
        self._media = ThreadPoolExecutor(2, thread_name_prefix="media")

    # -- life -----------------------------------------------------------------------------------

    def run(self, should_continue: Callable[[], bool] = lambda: True) -> None:
        self.reporter.start()
        self.jobs.start()  # the heartbeat of the jobs in hand, before any shard's consumers receive
        self.keeper.start()
        try:
            while not self.stop.is_set() and should_continue():
                self.stop.wait(0.5)
                self._drop_unsafe_shards()
        finally:
            self.shutdown()

    def _drop_unsafe_shards(self) -> None:
        """A shard whose lease is no longer safe by the local clock stops at once, even if the keeper's
        heartbeat is stuck (a partition, a starved thread): nothing of it is received or sent any more.
        And a shard the keeper holds without work here (a renewal that landed after such a stop) starts
        again, so no held shard is ever left unserved."""
        for shard, work in list(self._shards.items()):
            if self.keeper.current(shard) is None:
                logger.warning("shard %s is no longer safely held; stopping its work", shard)
                self._lost(shard, work)
        for shard in self.keeper.held():
            lease = self.keeper.current(shard)
            if shard not in self._shards and lease is not None and not self.stop.is_set():
                logger.warning("shard %s is held without work; starting it", shard)
                self._acquired(lease)

    def shutdown(self) -> None:
        self.stop.set()
        for work in list(self._shards.values()):
            work.stop.set()  # every shard winds down at once; the keeper then releases them one by one
        self.keeper.stop(release=True)  # each shard's on_lost runs first: its work stops, then it is freed
        with self._pools_lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown()
        self.reporter.stop()
        self.jobs.shutdown()

    # -- shards ---------------------------------------------------------------------------------

    def _acquired(self, lease: Lease) -> None:
        work = ShardWork(lease.shard, lease)
        self._shards[lease.shard] = work
        current = settings()

        def reader(name: str, queue: str, fifo: bool) -> ParkedReader:
            parked = ParkedReader(bootstrap.queue_reader(current.queue(queue, fifo=fifo)))
            work.readers[f"shard-{lease.shard}-{name}"] = parked
            return parked

        control = reader("control", control_queue_name(lease.shard), False)
        priority = reader("priority", priority_queue_name(lease.shard), True)
        jobs = reader("jobs", shard_queue_name(lease.shard), True)
        targets: list[tuple[str, Callable[[], None]]] = [
            ("open", lambda: self._open_shard(lease.shard)),
            ("control", lambda: self.commands.consume(control, work.stop, self.poll_wait)),
            (
                "priority",
                lambda: self.jobs.consume(lease.shard, priority, work.stop, priority=True, wait_seconds=self.poll_wait),
            ),
            ("jobs", lambda: self.jobs.consume(lease.shard, jobs, work.stop, wait_seconds=self.poll_wait)),
        ]
        for name, target in targets:
            thread = threading.Thread(target=target, name=f"shard-{lease.shard}-{name}", daemon=True)
            work.threads.append(thread)
            thread.start()

    def _lost(self, shard: int, work: ShardWork | None = None) -> None:
        """Wind the shard's work down (bounded, on the keeper's thread: its other leases wait for it)."""
        current = self._shards.get(shard)
        if current is None or (work is not None and current is not work):
            return  # already gone, or this is a newer holding of the shard
        del self._shards[shard]
        current.stop.set()
        deadline = time.monotonic() + TEARDOWN_SECONDS
        for thread in current.threads:
            # A consumer parked in its long poll is not waited for (see ParkedReader).
            while not current.settled(thread) and time.monotonic() < deadline:
                thread.join(timeout=0.05)
        for instance_id in [i for i, view in list(self._instances.items()) if view.shard == shard]:
            try:
                self._close(instance_id, False)
            except Exception:
                logger.exception("closing %s of lost shard %s failed", instance_id, shard)

    def _open_shard(self, shard: int) -> None:
        """Open the shard's instances now, then sweep again now and then: an "open" command that was lost
        (or an instance created while no one held the shard) is caught by the next sweep."""
        work = self._shards.get(shard)
        while work is not None and not work.stop.is_set():
            try:
                views = self.services.instances.of_shard(shard)
            except Exception:
                logger.exception("listing the instances of shard %s failed", shard)
                views = []
            for view in views:
                if work.stop.is_set():
                    return
                if view.instance_id in self._instances or not should_open(view.status, view.active):
                    continue
                try:
                    self._open_view(view)
                except Exception:
                    logger.exception("opening %s failed; the next sweep tries again", view.instance_id)
            work.stop.wait(settings().worker.open_sweep_seconds)  # BZ_OPEN_SWEEP_SECONDS

    # -- instances ------------------------------------------------------------------------------

    def _pool_for(self, engine: str) -> HostPool | None:
        setup = self.engines.get(engine)
        if setup is None:
            return None
        with self._pools_lock:
            pool = self._pools.get(engine)
            if pool is None and not self.stop.is_set():
                pool = HostPool(setup.factory, setup.config, self._on_event, per_host=setup.sessions_per_host)
                self._pools[engine] = pool
            return pool

    def _instance_of(self, instance_id: str) -> InstanceView | None:
        view = self._instances.get(instance_id)
        return view if view is not None else self.services.instances.view(instance_id)

    def _open(self, command: dict[str, Any], for_logout: bool, dry_run: bool = False) -> bool:
        """Open the instance a command names, if its shard is held here and the command still stands.

        Commands travel on a standard queue: late, twice, out of order. So an open (restart, pairing code)
        stands only while the instance exists and is active, whatever its status (the customer asked); a
        logout only while it is inactive or gone (a logout overtaken by a new pairing is void).
        """
        view = self.services.instances.view(command["instance_id"])
        if for_logout:
            if view is not None and view.active:
                return False
            view = view or _gone_instance(command)
        elif view is None or not view.active:
            return False
        if view.shard not in self._shards:
            return False
        return True if dry_run else self._open_view(view)

    def _open_view(self, view: InstanceView) -> bool:
        pool = self._pool_for(view.engine)
        if pool is None:
            if view.last_error != ENGINE_UNAVAILABLE:
                # Said once, on the instance (its QR would otherwise be "not ready" forever), not every sweep.
                logger.warning("no %s engine on this worker for %s", view.engine, view.instance_id)
                state = {"instance_id": view.instance_id, "state": "disconnected", "at": now_ms()}
                self.reporter.submit(view.shard, {"kind": "state", **state, "error": ENGINE_UNAVAILABLE})
            return False
        self._instances[view.instance_id] = view
        try:
            pool.open(_spec(view))
        except Exception:
            self._instances.pop(view.instance_id, None)  # not open: the next sweep or command tries again
            raise
        return True

    def _close(self, instance_id: str, logout: bool) -> None:
        view = self._instances.get(instance_id)
        if view is not None:
            pool = self._pool_for(view.engine)
            if pool is not None:
                pool.close(instance_id, logout=logout)
        if not logout:
            self._instances.pop(instance_id, None)
        # A logout's outcome ("logged_out") is still to come from the engine: the instance stays known
        # until that event is reported (see _on_event).

    def _apply_settings(self, instance_id: str) -> None:
        """A settings command: the stored settings reach the open session (and this worker's own copy)."""
        if instance_id not in self._instances:
            return  # not open here: whoever opens it reads the stored settings
        view = self.services.instances.view(instance_id)
        pool = self._pool_for(view.engine) if view else None
        if view is None or pool is None:
            return
        self._instances[instance_id] = view
        spec = _spec(view)
        pool.update_spec(spec)
        pool.call(instance_id, "apply_settings", settings=spec.settings)

    def _call(self, instance_id: str, method: str, **kwargs: Any) -> Any:
        view = self._instance_of(instance_id)
        pool = self._pool_for(view.engine) if view else None
        if view is None or pool is None:
            from bzapper.domain.engine import NotConnected

            raise NotConnected("not_open")
        return pool.call(instance_id, method, **kwargs)

    def _ack(self, instance_id: str, acks: list[Any]) -> None:
        view = self._instances.get(instance_id)
        pool = self._pool_for(view.engine) if view else None
        if pool is not None:
            pool.ack(instance_id, acks)

    # -- engine events --------------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        """Runs on a host's reader thread: turn the event into a report, never block on I/O here."""
        view = self._instances.get(event.get("instance_id", ""))
        if view is None:
            return  # not (or no longer) open here: unacked, so its next holder gets it
        kind = event.get("kind")
        if kind == "receipt":
            report = {k: event[k] for k in ("instance_id", "wa_message_id", "status", "at")}
            if event.get("participant"):
                report["participant"] = event["participant"]  # a group message: who reported it
            self.reporter.submit(view.shard, {"kind": "status", **report}, event.get("ack"))
        elif kind == "state":
            fields = ("instance_id", "state", "at", "qr", "phone", "lid", "push_name", "error", "until")
            self.reporter.submit(view.shard, {"kind": "state", **{k: event.get(k) for k in fields}}, event.get("ack"))
            pool = self._pool_for(view.engine)
            if event.get("state") == "logged_out" and (pool is None or not pool.holds(view.instance_id)):
                self._instances.pop(view.instance_id, None)  # the logout this worker was waiting for
        elif kind == "identity":
            report = {"kind": "identity", "account_id": view.account_id, "livemode": view.livemode}
            report.update({k: event[k] for k in ("instance_id", "phone", "lid", "at")})
            self.reporter.submit(view.shard, report, event.get("ack"))
        elif kind == "inbound":
            if drops_inbound(InstanceSettings.from_stored(view.settings), str(event.get("chat_jid", ""))):
                # settings.ignore_groups, applied here for every engine: never reported, so no inbox row, no
                # event and no read on the reports' path; acked so the engine does not offer it again.
                if event.get("ack") is not None:
                    self._ack(view.instance_id, [event["ack"]])
                return
            self._media.submit(self._report_inbound, view, event)
        elif kind == "history":
            self._report_history(view, event)
        elif kind == "presence":
            self._report_presence(view, event)
        elif kind in ("call", "group"):
            # A call (call.* events) or a change of a group this number is in (group.* events): reported whole.
            report = {k: v for k, v in event.items() if k != "ack"}
            report.update(kind=kind, account_id=view.account_id, livemode=view.livemode)
            self.reporter.submit(view.shard, report, event.get("ack"))

    def _report_history(self, view: InstanceView, event: dict[str, Any]) -> None:
        """A chunk of the history WhatsApp hands a newly paired device (docs/history.md): reported only with
        settings.history_sync on (read here, for every engine), group chats dropped with ignore_groups, cut into
        parts a report can carry. The engine's ack rides on the last part (the parts are sent in order)."""
        wanted = InstanceSettings.from_stored(self._instances.get(view.instance_id, view).settings)
        ack = event.get("ack")
        if not wanted.history_sync:
            if ack is not None:
                self._ack(view.instance_id, [ack])
            return
        conversations = [
            c
            for c in event.get("conversations") or []
            if isinstance(c, dict) and not drops_inbound(wanted, str(c.get("chat_jid", "")))
        ]
        parts = history.split({**event, "conversations": conversations})
        for index, part in enumerate(parts):
            part.update(kind="history", account_id=view.account_id, livemode=view.livemode)
            self.reporter.submit(view.shard, part, ack if index == len(parts) - 1 else None)

    def _report_presence(self, view: InstanceView, event: dict[str, Any]) -> None:
        """A contact's presence: reported only with settings.presence_events (never by default: volume), and never
        a group's while groups are ignored; otherwise dropped here (acked, so the engine does not offer it again)."""
        wanted = InstanceSettings.from_stored(view.settings)
        if not wanted.presence_events or drops_inbound(wanted, str(event.get("chat_jid") or "")):
            if event.get("ack") is not None:
                self._ack(view.instance_id, [event["ack"]])
            return
        report = {k: v for k, v in event.items() if k != "ack"}
        report.update(kind="presence", account_id=view.account_id, livemode=view.livemode)
        self.reporter.submit(view.shard, report, event.get("ack"))

    def _store_media(self, view: InstanceView, path: str, event: dict[str, Any]) -> dict[str, Any]:
        media = event.get("content", {}).get("media", {})
        mime_type = media.get("mime_type", "application/octet-stream")
        return self.services.media.put_file(
            view.account_id, view.livemode, path, mime_type, media.get("filename"), instance_id=view.instance_id
        )

    def _report_inbound(self, view: InstanceView, event: dict[str, Any]) -> None:
        report = {k: v for k, v in event.items() if k not in ("ack", "media_path")}
        report.update(kind="inbound", account_id=view.account_id, livemode=view.livemode)
        path = event.get("media_path")
        if path:
            try:
                report["content"] = {**report.get("content", {}), "media": self._store_media(view, path, event)}
            except Exception:
                if event.get("ack") is not None:
                    logger.exception("inbound media of %s not stored; the event comes again", view.instance_id)
                    return
                # An engine that cannot deliver again (whatsmeow): the message counts more than its media.
                logger.exception("inbound media of %s not stored; reported without it", view.instance_id)
                report["content"] = {**report.get("content", {}), "media_error": "media_unavailable"}
            finally:
                _remove(path)
        sender = event.get("sender") or {}
        if sender.get("phone") and sender.get("lid"):
            # Every message that names both sides of a contact teaches the mapping (reported once per change).
            identity = {"kind": "identity", "account_id": view.account_id, "livemode": view.livemode}
            identity.update(instance_id=view.instance_id, phone=sender["phone"], lid=sender["lid"], at=event["at"])
            self.reporter.submit(view.shard, identity)
        self.reporter.submit(view.shard, report, event.get("ack"))
        self._read_incoming(view, event)

    def _read_incoming(self, view: InstanceView, event: dict[str, Any]) -> None:
        """settings.read_incoming: a received message is marked read at once (never an echo, nor a group's
        message while groups are ignored). A receipt that fails is not retried: the message itself counts."""
        wanted = InstanceSettings.from_stored(self._instances.get(view.instance_id, view).settings)
        chat_jid = str(event.get("chat_jid", ""))
        if not wanted.read_incoming or event.get("from_me") or not event.get("wa_message_id"):
            return
        group = chat_jid.endswith("@g.us")
        participant = {"sender_jid": (event.get("sender") or {}).get("jid")} if group else {}
        try:
            ids = [event["wa_message_id"]]
            self._call(view.instance_id, "mark_read", chat_jid=chat_jid, wa_message_ids=ids, **participant)
        except Exception:
            logger.warning("automatic read receipt of %s failed", view.instance_id, exc_info=True)


def _spec(view: InstanceView) -> SessionSpec:
    wanted = InstanceSettings.from_stored(view.settings).for_engine()
    return SessionSpec(view.instance_id, view.account_id, view.livemode, view.phone, settings=wanted)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _gone_instance(command: dict[str, Any]) -> InstanceView:
    """A deleted instance, from the facts its command carries: enough to open and unlink it."""
    return InstanceView(
        instance_id=command["instance_id"],
        account_id=command["account_id"],
        livemode=bool(command["livemode"]),
        engine=command["engine"],
        shard=int(command.get("shard", -1)),
        name="",
        status="disconnected",
        phone=None,
        lid=None,
        push_name=None,
        last_error=None,
        qr=None,
        state_at=0,
        active=False,
        created_at=0,
        updated_at=0,
    )


def parent_alive(parent_pid: int) -> Callable[[], bool]:
    """A worker started by the dev runner exits when the runner is gone (no orphans)."""
    return lambda: os.getppid() == parent_pid
