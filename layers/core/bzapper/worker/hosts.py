"""The supervisor's side of the hosts: spawn them, place sessions on them, call them, restart the dead.

A crashed host is replaced at once and its sessions are opened again on the new one (restored from the
engine's session store); calls that were in flight fail with HostCrashed, so their jobs are retried.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict
from typing import Any

from bzapper.domain.engine import NotConnected, PermanentFailure, SessionSpec
from bzapper.worker.host import run_host

logger = logging.getLogger("bzapper.worker.hosts")

DEFAULT_SESSIONS_PER_HOST = 50
CALL_TIMEOUT_SECONDS = 30.0
POLL_WAIT_SECONDS = 20
"""Long poll of a held shard's three queues: SQS's maximum. A message is taken the moment it arrives whatever
the wait, so a longer wait only saves empty receives: 12 queues per idle worker (4 shards) cost 2,160 an hour
at 20 s (14,400 at the former 3 s). A lost shard's teardown does not wait for a consumer parked in a receive
(it holds nothing; whatever that receive brings after the stop is given back at once)."""
# spawn, not fork: the supervisor has threads and open sockets a forked child must not inherit.
_CONTEXT = multiprocessing.get_context("spawn")


class HostCrashed(Exception):
    """The host died (or did not answer in time) while the call was in flight; the call may be retried."""


class AnswerTimeout(HostCrashed):
    """A question went unanswered in time; the host itself is left alone."""


class HostError(Exception):
    """The engine raised something that is neither a permanent failure nor a lost connection."""


def raise_error(error: dict[str, Any]) -> None:
    if error["type"] == "permanent":
        raise PermanentFailure(error["code"])
    if error["type"] == "not_connected":
        raise NotConnected(error["state"])
    raise HostError(error.get("message", "engine error"))


class HostProcess:
    """One child process and its pipe; thread-safe calls with futures matched by call id."""

    def __init__(
        self,
        engine: str,
        config: dict[str, Any],
        on_event: Callable[[dict[str, Any]], None],
        on_exit: Callable[[HostProcess], None],
    ) -> None:
        self.engine = engine
        self.sessions: dict[str, SessionSpec] = {}
        self._on_event = on_event
        self._on_exit = on_exit
        self._pending: dict[int, Future] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._conn, child_conn = _CONTEXT.Pipe(duplex=True)
        self.process = _CONTEXT.Process(
            target=run_host, args=(child_conn, engine, config), name=f"bzapper-host-{engine}", daemon=True
        )
        self.process.start()
        child_conn.close()
        self.alive = True
        self._reader = threading.Thread(target=self._read, name=f"host-{self.process.pid}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def call(
        self, method: str, timeout: float = CALL_TIMEOUT_SECONDS, *, give_up_after: float | None = None, **kwargs: Any
    ) -> Any:
        """The engine's answer. Past `timeout` the host is deemed stuck and replaced; past `give_up_after`
        (a question someone waits for) only this caller stops waiting, and the host keeps its sessions."""
        future: Future = Future()
        with self._lock:
            if not self.alive:
                raise HostCrashed(f"host {self.pid} is gone")
            call_id = next(self._ids)
            self._pending[call_id] = future
            try:
                self._conn.send(("call", call_id, method, kwargs))
            except (OSError, ValueError) as exc:
                self._pending.pop(call_id, None)
                raise HostCrashed(str(exc)) from exc
        try:
            ok, value = future.result(give_up_after if give_up_after is not None else timeout)
        except FutureTimeout:
            with self._lock:
                self._pending.pop(call_id, None)
            if give_up_after is not None:
                raise AnswerTimeout(f"host {self.pid} did not answer {method} in {give_up_after:.0f} s") from None
            # A host that stops answering is as good as dead: replace it rather than wait forever.
            logger.error("host %s did not answer %s in %.0f s; restarting it", self.pid, method, timeout)
            self.kill()
            raise HostCrashed(f"host {self.pid} timed out on {method}") from None
        if not ok:
            raise_error(value)
        return value

    def notify(self, method: str, **kwargs: Any) -> None:
        """Fire and forget (acks): its answer is dropped, and nothing waits behind the host's queue."""
        with self._lock:
            if not self.alive:
                return
            try:
                self._conn.send(("call", 0, method, kwargs))
            except (OSError, ValueError):
                return

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "event":
                try:
                    self._on_event(message[1])
                except Exception:
                    logger.exception("event handler failed")
            elif message[0] == "result":
                _, call_id, ok, value = message
                with self._lock:
                    future = self._pending.pop(call_id, None)
                if future is not None:
                    future.set_result((ok, value))
        self._died()

    def _died(self) -> None:
        with self._lock:
            if not self.alive:
                return
            self.alive = False
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(HostCrashed(f"host {self.pid} exited"))
        self.process.join(timeout=1)
        self._on_exit(self)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self._conn.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the host to close its sessions (kept for the next holder) and exit; kill it if it does not."""
        with self._lock:
            self.alive = False
            pending, self._pending = self._pending, {}
            with contextlib.suppress(OSError, ValueError):  # already gone: nothing to ask
                self._conn.send(("stop",))
        for future in pending.values():
            future.set_exception(HostCrashed(f"host {self.pid} stopped"))
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)


class HostPool:
    """Places sessions on hosts (at most `per_host` each), and re-opens a dead host's sessions on a new one."""

    def __init__(
        self,
        engine: str,
        config: dict[str, Any],
        on_event: Callable[[dict[str, Any]], None],
        per_host: int = DEFAULT_SESSIONS_PER_HOST,
    ) -> None:
        self.engine = engine
        self.config = config
        self.per_host = per_host
        self._on_event = on_event
        self._hosts: list[HostProcess] = []
        self._placement: dict[str, HostProcess] = {}
        self._lock = threading.RLock()
        self._closing = False
        self._reopening: set[str] = set()
        self.restarts = 0

    # -- placement ------------------------------------------------------------------------------

    def open(self, spec: SessionSpec) -> None:
        with self._lock:
            if self._closing:
                raise HostCrashed("the pool is shutting down")
            host = self._placement.get(spec.instance_id)
            if host is None:
                host = self._host_with_room()
                host.sessions[spec.instance_id] = spec
                self._placement[spec.instance_id] = host
        try:
            host.call("open", spec=asdict(spec))
        except Exception:
            # Not open: forget the placement, so the next sweep or command tries again from scratch.
            with self._lock:
                if self._placement.get(spec.instance_id) is host:
                    del self._placement[spec.instance_id]
                host.sessions.pop(spec.instance_id, None)
            raise

    def close(self, instance_id: str, *, logout: bool = False) -> None:
        with self._lock:
            self._reopening.discard(instance_id)
            host = self._placement.pop(instance_id, None)
            if host is not None:
                host.sessions.pop(instance_id, None)
        if host is not None and host.alive:
            host.call("logout" if logout else "close", instance_id=instance_id)

    def holds(self, instance_id: str) -> bool:
        return instance_id in self._placement or instance_id in self._reopening

    def instance_ids(self) -> list[str]:
        return list(self._placement)

    def call(self, instance_id: str, method: str, timeout: float = CALL_TIMEOUT_SECONDS, **kwargs: Any) -> Any:
        host = self._placement.get(instance_id)
        if host is None:
            raise NotConnected("not_open")
        return host.call(method, timeout=timeout, instance_id=instance_id, **kwargs)

    def update_spec(self, spec: SessionSpec) -> None:
        """A session's spec changed (its settings): a host that crashes later reopens it with this one."""
        with self._lock:
            host = self._placement.get(spec.instance_id)
            if host is not None and spec.instance_id in host.sessions:
                host.sessions[spec.instance_id] = spec

    def ack(self, instance_id: str, acks: list[Any]) -> None:
        host = self._placement.get(instance_id)
        if host is not None and acks:
            host.notify("ack", acks=acks)

    def _host_with_room(self) -> HostProcess:
        for host in self._hosts:
            if host.alive and len(host.sessions) < self.per_host:
                return host
        host = HostProcess(self.engine, self.config, self._on_event, self._host_exited)
        self._hosts.append(host)
        return host

    # -- crashes --------------------------------------------------------------------------------

    def _host_exited(self, dead: HostProcess) -> None:
        with self._lock:
            if dead in self._hosts:
                self._hosts.remove(dead)
            if self._closing or not dead.sessions:
                return
            self.restarts += 1
            logger.error(
                "host %s (%s) exited with %s; reopening %d sessions",
                dead.pid,
                self.engine,
                dead.process.exitcode,
                len(dead.sessions),
            )
            orphans = [spec for spec in dead.sessions.values() if self._placement.get(spec.instance_id) is dead]
            for spec in orphans:
                del self._placement[spec.instance_id]
            self._reopening.update(spec.instance_id for spec in orphans)
        # Reopened off the reader thread that noticed the death (spawning a host takes a while).
        threading.Thread(target=self._reopen, args=(orphans,), name="host-restart", daemon=True).start()

    def _reopen(self, specs: list[SessionSpec]) -> None:
        for spec in specs:
            with self._lock:
                # Closed (or its shard lost) since the crash: it stays closed.
                wanted = spec.instance_id in self._reopening and not self._closing
                self._reopening.discard(spec.instance_id)
            if not wanted:
                continue
            try:
                self.open(spec)
            except Exception:
                logger.exception("reopening %s failed", spec.instance_id)

    # -- life -----------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return {
            "hosts": [{"pid": h.pid, "sessions": len(h.sessions)} for h in self._hosts],
            "restarts": self.restarts,
        }

    def shutdown(self) -> None:
        with self._lock:
            self._closing = True
            hosts, self._hosts = list(self._hosts), []
            self._placement.clear()
        for host in hosts:
            host.stop()
