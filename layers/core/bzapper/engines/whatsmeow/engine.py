"""WhatsmeowEngine: the engine port (bzapper.domain.engine) over whatsmeow, through neonize.

Threads. The host calls every method but `pump` from one thread, and `pump` from another; each Go client
runs on a daemon thread of its own (`runs.Run`) whose callbacks only queue what they get. `pump` turns the
queue into engine events (downloading inbound media on the way) and does the lifecycle work the events ask
for (stop on logout, restart after a failed connect, give up a pairing that took too long).

Go maps. goneonize aborts the process if a client starts or stops while any other call is inside Go, so
every call into Go holds the `Gate`: shared for ordinary calls, alone for a start (until the new client is
in the maps) and for a stop. Calls for an instance are only made once its run is registered, and never
before login for what needs a logged-in store (LID lookups); whatsmeow reconnects by itself after a drop,
so nothing here reconnects a client that connected once, except after a connect failure it gave up on.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import queue
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bzapper.domain.engine import EventSink, NotConnected, PermanentFailure, ServerAck, SessionSpec
from bzapper.domain.instance_settings import with_password
from bzapper.domain.phones import InvalidRecipient, parse_recipient
from bzapper.domain.profiles import is_picture_url
from bzapper.domain.status_posts import STATUS_TYPE
from bzapper.engines.whatsmeow import builders, errors, groups, jids, lib, mapping, presence, profiles
from bzapper.engines.whatsmeow.gate import Gate
from bzapper.engines.whatsmeow.runs import PARKED, Run

logger = logging.getLogger("bzapper.engines.whatsmeow")

MediaFetch = Callable[[dict[str, Any]], bytes]
PictureFetch = Callable[[str], bytes]
"""A profile picture's bytes from its URL on WhatsApp's host (bootstrap: the SSRF-guarded fetcher)."""
Unseal = Callable[[str], str]

RESTART_BACKOFF = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
STOP_JOIN_SECONDS = 5.0
RECIPIENT_CACHE = 4096
PUMP_BATCH = 500
HISTORY_QUIET_SECONDS = 120.0
"""A history sync whose last chunk never says so (progress short of 100) ends this long after its last chunk."""
SUBSCRIPTIONS = 4096  # contacts whose presence one connection subscribes to, at most


@dataclass(eq=False)
class _Session:
    spec: SessionSpec
    emit: EventSink
    run: Run | None = None
    state: str = "disconnected"
    logged_in: bool = False
    connected: bool = False
    qr: str = ""
    qr_seen: threading.Event = field(default_factory=threading.Event)
    own_jid: str = ""
    own_lid: str = ""
    push_name: str = ""
    started_at: float = 0.0
    restart_at: float | None = None
    failures: int = 0
    known_pairs: set[tuple[str, str]] = field(default_factory=set)
    recipients: OrderedDict[str, str] = field(default_factory=OrderedDict)
    settings: dict[str, Any] = field(default_factory=dict)
    """SessionSpec.settings, then each apply_settings (always_online, proxy_url + proxy_secret, reject_calls)."""
    device: str = ""
    """The linked device's JID with its device number ("5511…:7@s.whatsapp.net"): new at every pairing."""
    history_at: float | None = None
    """When this run last got a history chunk (monotonic), until the sync ended: a quiet sync ends by time."""
    history_sync: str = ""
    history_chunks: int = 0
    subscribed: set[str] = field(default_factory=set)
    """Contacts whose presence this connection subscribed to (whatsmeow forgets them when it reconnects)."""

    @property
    def own(self) -> frozenset[str]:
        return frozenset(jid for jid in (self.own_jid, self.own_lid) if jid)


class WhatsmeowEngine:
    name = "whatsmeow"

    def __init__(
        self,
        store_dir: Path | str,
        media_fetch: MediaFetch,
        media_dir: Path | str | None = None,
        unseal: Unseal | None = None,
        *,
        device_name: str = "bzapper",
        interactive: str = "native",
        start_timeout: float = 15.0,
        pairing_timeout: float = 180.0,
        max_inbound_media_bytes: int = 100 * 1024 * 1024,
        log_level: str = "WARN",
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = os.urandom,
        run_factory: Callable[..., Run] = Run,
        picture_fetch: PictureFetch | None = None,
    ) -> None:
        self.store_dir = Path(store_dir).resolve()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.media_dir = Path(media_dir).resolve() if media_dir else None
        if self.media_dir:
            self.media_dir.mkdir(parents=True, exist_ok=True)
        self.media_fetch = media_fetch
        self.picture_fetch = picture_fetch
        self.unseal = unseal
        self.interactive = interactive
        self.start_timeout = start_timeout
        self.pairing_timeout = pairing_timeout
        self.max_inbound_media_bytes = max_inbound_media_bytes
        self.log_level = log_level
        self._clock = clock
        self._random = random_bytes
        self._run_factory = run_factory
        self._props = lib.DeviceProps(os=device_name, platformType=lib.DeviceProps.CHROME).SerializeToString()
        self._gate = Gate()
        self._lock = threading.RLock()  # the sessions map and each session's fields
        self._sessions: dict[str, _Session] = {}
        self._final: dict[str, str] = {}  # the state a session ended in, for NotConnected after it is gone
        self._inbox: queue.SimpleQueue[tuple[Run, str, Any]] = queue.SimpleQueue()

    # -- the store --------------------------------------------------------------------------------------

    def store_path(self, instance_id: str) -> Path:
        """One sqlite store per instance, so one instance's store can be moved or deleted alone."""
        if not instance_id or "/" in instance_id or instance_id.startswith("."):
            raise ValueError("invalid instance id")
        return self.store_dir / f"{instance_id}.sqlite3"

    def _forget_store(self, instance_id: str) -> None:
        path = self.store_path(instance_id)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    # -- lifecycle --------------------------------------------------------------------------------------

    def open(self, spec: SessionSpec, emit: EventSink) -> None:
        with self._lock:
            session = self._sessions.get(spec.instance_id)
            if session is not None:
                session.emit = emit
                return
            session = _Session(spec=spec, emit=emit, settings=dict(spec.settings or {}))
            self._sessions[spec.instance_id] = session
            self._final.pop(spec.instance_id, None)
        self._start(session)

    def close(self, instance_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(instance_id, None)
        if session is not None:
            self._stop(session)

    def logout(self, instance_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(instance_id, None)
        if session is not None:
            run = session.run
            if run is not None and session.logged_in and session.connected:
                try:
                    self._go(run, run.client.logout)  # unlinks the device on the phone too
                except Exception as error:
                    logger.warning("whatsmeow logout failed: %s", error, extra={"instance_id": instance_id})
            self._stop(session)
            self._emit(session, mapping.state(instance_id, "logged_out", self._now_ms()))
        self._final[instance_id] = "logged_out"
        self._forget_store(instance_id)

    def shutdown(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            self._stop(session)

    def _start(self, session: _Session) -> None:
        instance_id = session.spec.instance_id
        try:
            proxy = self._proxy_of(session.settings)
        except PermanentFailure as error:
            # Never connect around the proxy the customer set: the number's own address would show.
            self._end(session, "failed", error.code)
            return
        with self._lock:
            if self._sessions.get(instance_id) is not session:
                return  # closed meanwhile (a restart due on the pump thread as the host closed it)
            path = self.store_path(instance_id)
            extra: dict[str, Any] = {"proxy": proxy} if proxy else {}
            if session.settings.get("history_sync") or not path.exists():
                # History blobs cross from Go only for a run that may get them: one that pairs (no store yet:
                # the setting may still be turned on while the QR shows; _on_history reads it when they come)
                # or one of an instance that imports history (late chunks after a reconnect).
                extra["history"] = True
            run = self._run_factory(instance_id, path, self._props, self._on_run, self.log_level, **extra)  # no Go yet
            session.run = run
            session.started_at = time.monotonic()
            session.restart_at = None
            session.logged_in = session.connected = False  # the Device event says again who we are
            session.qr = ""
            session.qr_seen.clear()
        with self._gate.exclusive():
            run.start()
            if not run.registered.wait(self.start_timeout):
                logger.warning("whatsmeow client slow to start", extra={"instance_id": instance_id})

    def _proxy_of(self, settings: dict[str, Any]) -> str | None:
        """The proxy URL to dial, its password unsealed here (the host) only."""
        proxy_url = settings.get("proxy_url")
        if not proxy_url:
            return None
        secret = settings.get("proxy_secret")
        if not secret:
            return str(proxy_url)
        if self.unseal is None:
            raise PermanentFailure("proxy_unavailable")
        try:
            return with_password(str(proxy_url), self.unseal(secret))
        except Exception as error:  # sealed by another key (a rebuilt local stack): set the proxy again
            raise PermanentFailure("proxy_unavailable") from error

    def apply_settings(self, instance_id: str, settings: dict[str, Any]) -> None:
        """always_online: presence now; reject_calls: at the next call; a new proxy: reconnect through it."""
        with self._lock:
            session = self._sessions.get(instance_id)
            if session is None:
                raise NotConnected(self._final.get(instance_id, "disconnected"))
            before, session.settings = session.settings, dict(settings)
        proxy_keys = ("proxy_url", "proxy_secret")
        if any(before.get(key) != settings.get(key) for key in proxy_keys):
            self._stop(session)
            self._start(session)  # the stored session logs in again, through the new proxy (or none)
            return
        if bool(before.get("always_online")) != bool(settings.get("always_online")):
            self._presence(session)

    def _presence(self, session: _Session) -> None:
        """always_online on: shown available; off: unavailable (WhatsApp then shows the phone's own presence)."""
        run = session.run
        if run is None or not session.logged_in or not session.connected:
            return  # sent when it connects
        wanted = lib.Presence.AVAILABLE if session.settings.get("always_online") else lib.Presence.UNAVAILABLE
        try:
            self._go(run, run.client.send_presence, wanted)
        except Exception:
            logger.warning("presence not sent", extra={"instance_id": session.spec.instance_id}, exc_info=True)

    def _stop(self, session: _Session) -> None:
        with self._lock:
            run, session.run = session.run, None
            session.connected = False
        if run is None:
            return
        with self._gate.exclusive():
            run.stop()  # also when the Go call already returned: its client may still be in the maps
        if not run.join(STOP_JOIN_SECONDS):
            logger.warning("whatsmeow client parked (goneonize never returns)", extra={"instance_id": run.instance_id})

    def _end(self, session: _Session, state: str, error: str = "", forget: bool = False) -> None:
        """A terminal state: report it, stop the client for good (no reconnect), drop the session."""
        instance_id = session.spec.instance_id
        with self._lock:
            if self._sessions.get(instance_id) is session:
                del self._sessions[instance_id]
            self._final[instance_id] = state
        self._emit(session, mapping.state(instance_id, state, self._now_ms(), error=error))
        self._stop(session)
        if forget:
            self._forget_store(instance_id)

    def connected(self, instance_id: str) -> bool:
        """Whether the instance's client is connected and logged in right now."""
        with self._lock:
            session = self._sessions.get(instance_id)
            return bool(session and session.run and session.logged_in and session.connected)

    @property
    def parked_runs(self) -> int:
        """Go calls that never returned after a stop (abandoned pairings): a host may recycle past a bound."""
        return len(PARKED)

    # -- events -----------------------------------------------------------------------------------------

    def _on_run(self, run: Run, kind: str, payload: Any) -> None:
        self._inbox.put((run, kind, payload))  # on a Go thread: queue only

    def pump(self, wait_seconds: float) -> None:
        deadline = self._next_deadline()
        timeout = wait_seconds if deadline is None else max(0.0, min(wait_seconds, deadline - time.monotonic()))
        try:
            items = [self._inbox.get(timeout=timeout)]
        except queue.Empty:
            items = []
        while items and len(items) < PUMP_BATCH:
            try:
                items.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        for run, kind, payload in items:
            try:
                self._handle(run, kind, payload)
            except Exception:
                logger.exception("whatsmeow event failed", extra={"instance_id": run.instance_id, "kind": kind})
        self._tick()

    def ack(self, acks: list[Any]) -> None:
        """whatsmeow acknowledges to WhatsApp itself: our events carry no `ack`."""

    def _current(self, run: Run) -> _Session | None:
        with self._lock:
            session = self._sessions.get(run.instance_id)
        return session if session is not None and session.run is run else None

    def _handle(self, run: Run, kind: str, payload: Any) -> None:
        session = self._current(run)
        if session is None:
            return  # a stopped run's leftovers
        if kind == "qr":
            self._on_qr(session, payload)
        elif kind == "login":
            self._on_login(session, payload)
        elif kind == "event":
            self._on_event(session, *payload)
        elif kind == "finished" and not run.stopped:
            self._on_finished(session, payload)

    def _on_qr(self, session: _Session, code: str) -> None:
        if code == session.qr:
            return
        session.qr, session.state = code, "pairing"
        session.qr_seen.set()
        self._emit(session, mapping.state(session.spec.instance_id, "pairing", self._now_ms(), qr=code))

    def _on_login(self, session: _Session, status: str) -> None:
        # goneonize's QR loop ends with "success", "timeout" or "err-…"; only success leads to a login.
        if status == "success":
            return
        if status == "timeout":
            self._end(session, "disconnected", "pairing_timeout")
        elif status == "err-client-outdated":
            self._end(session, "failed", "client_outdated")
        else:
            self._end(session, "disconnected", "pairing_failed")

    def _on_finished(self, session: _Session, error: str) -> None:
        """The Go call returned without a stop from us: the connect failed (network, store). Retry later."""
        backoff = RESTART_BACKOFF[min(session.failures, len(RESTART_BACKOFF) - 1)]
        run = session.run
        if run is not None:
            with self._gate.exclusive():
                run.stop()  # drop what the failed client left in goneonize's maps
        with self._lock:
            session.run = None
            session.connected = False
            session.failures += 1
            session.restart_at = time.monotonic() + backoff
            session.state = "disconnected"
        logger.warning("whatsmeow connect failed: %s", error[:300], extra={"instance_id": session.spec.instance_id})
        failed = mapping.state(session.spec.instance_id, "disconnected", self._now_ms(), error="connect_failed")
        self._emit(session, failed)

    def _on_event(self, session: _Session, code: int, event: Any) -> None:
        instance_id = session.spec.instance_id
        now = self._now_ms()
        if code == lib.DEVICE:
            session.logged_in = True
            session.own_jid = jids.to_str(event.JID) or session.own_jid
            session.own_lid = jids.to_str(event.LID) or session.own_lid
            if not event.JID.IsEmpty and event.JID.User:
                session.device = f"{event.JID.User}:{event.JID.Device}@{event.JID.Server}"
            session.push_name = event.PushName or session.push_name
            pair = jids.pair(session.own_jid, session.own_lid)
            if pair:
                self._learn(session, *pair)
        elif code == lib.PAIR_STATUS:
            if event.Status == lib.neonize_pb2.PairStatus.SUCCESS:
                session.logged_in = True
                session.own_jid = jids.to_str(event.ID) or session.own_jid
                self._connected(session, now)
            else:
                self._end(session, "disconnected", "pairing_failed")
        elif code == lib.CONNECTED:
            session.connected = True
            session.failures = 0
            session.subscribed.clear()  # a new connection has no presence subscriptions
            self._connected(session, now)
        elif code == lib.DISCONNECTED:
            if session.connected or session.state == "connected":
                session.connected = False
                session.state = "disconnected"
                self._emit(session, mapping.state(instance_id, "disconnected", now))
        elif code == lib.LOGGED_OUT:
            self._end(session, "logged_out", forget=True)
        elif code == lib.STREAM_REPLACED:
            self._end(session, "disconnected", "stream_replaced")  # another client took over: never fight it
        elif code == lib.TEMPORARY_BAN:
            self._end(session, "restricted", "account_restricted")
        elif code == lib.CLIENT_OUTDATED:
            self._end(session, "failed", "client_outdated")
        elif code == lib.CONNECT_FAILURE:
            self._on_connect_failure(session, event)
        elif code == lib.MESSAGE:
            self._on_message(session, event, now)
        elif code == lib.CALL_OFFER:
            self._on_call(session, mapping.call_offer(instance_id, event, now))
        elif code == lib.CALL_TERMINATE:
            self._emit(session, mapping.call_ended(instance_id, event, now))
        elif code == lib.RECEIPT:
            for pair in mapping.source_pairs(event.MessageSource):
                self._learn(session, *pair)
            for receipt in mapping.receipts(instance_id, event, now, self._lookup(session)):
                self._emit(session, receipt)
        elif code == lib.HISTORY_SYNC:
            self._on_history(session, event, now)
        elif code == lib.JOINED_GROUP:
            self._emit(session, groups.joined_event(instance_id, event, now))
        elif code == lib.GROUP_INFO:
            for change in groups.info_events(instance_id, event, session.own, now):
                self._emit(session, change)
        elif code in (lib.PRESENCE, lib.CHAT_PRESENCE):
            if not session.settings.get("presence_events"):
                return  # never asked for: dropped here, before the pipe (the worker would drop it too)
            if code == lib.PRESENCE:
                found = presence.presence_event(instance_id, event, now)
            else:
                found = presence.chat_presence_event(instance_id, event, session.own, now)
            if found is not None:
                self._emit(session, found)

    def _on_history(self, session: _Session, event: Any, now: int) -> None:
        """A chunk of the history WhatsApp hands a newly paired device (settings.history_sync): reported as it is,
        the worker cuts it into reports. The sync is named by the linked device (a new one at every pairing); it
        ends at the RECENT/FULL chunk with progress 100, or after HISTORY_QUIET_SECONDS without a chunk."""
        if not session.settings.get("history_sync"):
            return  # turned off since the run subscribed
        sync_id = session.device or session.own_jid
        if session.history_sync == f"{sync_id}#done":
            return  # ended (by time): what comes late is not imported under a sync already reported
        for pair in (jids.pair(c.pnJID, c.lidJID) for c in event.Data.conversations):
            if pair:
                self._learn(session, *pair)
        chunk = mapping.history(
            session.spec.instance_id,
            event,
            now,
            sync_id=sync_id,
            own_jid=session.own_jid,
            own=session.own,
            lookup=self._lookup(session),
        )
        if chunk is None:
            return
        session.history_sync, session.history_chunks = sync_id, session.history_chunks + 1
        session.history_at = None if chunk["final"] else time.monotonic()
        if chunk["final"]:
            session.history_sync = f"{sync_id}#done"
        self._emit(session, chunk)

    def _end_quiet_history(self, session: _Session) -> None:
        """No chunk for HISTORY_QUIET_SECONDS and none said it was the last: the sync ends with an empty final one."""
        sync_id = session.history_sync
        session.history_at, session.history_sync = None, f"{sync_id}#done"
        self._emit(
            session,
            {
                "kind": "history",
                "instance_id": session.spec.instance_id,
                "sync_id": sync_id,
                "chunk_id": "quiet-end",
                "final": True,
                "at": self._now_ms(),
                "conversations": [],
            },
        )

    def _on_connect_failure(self, session: _Session, event: Any) -> None:
        reasons = lib.neonize_pb2.ConnectFailureReason
        # Logouts, bans and outdated clients arrive as their own events too: those end the session.
        if event.Reason in (reasons.LOGGED_OUT, reasons.MAIN_DEVICE_GONE, reasons.UNKNOWN_LOGOUT, reasons.TEMP_BANNED):
            return
        if event.Reason == reasons.CLIENT_OUTDATED:
            return
        if session.run is not None:
            self._on_finished(session, f"connect failure {event.Reason}: {event.Message}")

    def _on_call(self, session: _Session, offer: dict[str, Any]) -> None:
        """settings.reject_calls: rejected at once, before it is reported (the caller's phone stops ringing)."""
        run = session.run
        if session.settings.get("reject_calls") and run is not None:
            try:
                self._go(run, run.client.reject_call, jids.to_proto(offer["from"]["jid"]), offer["call_id"])
                offer["rejected"] = True
            except Exception:
                logger.warning("call not rejected", extra={"instance_id": session.spec.instance_id}, exc_info=True)
        self._emit(session, offer)

    def _connected(self, session: _Session, now: int) -> None:
        if session.settings.get("always_online"):
            self._presence(session)
        session.state = "connected"
        session.qr = ""
        self._emit(
            session,
            mapping.state(
                session.spec.instance_id,
                "connected",
                now,
                phone=jids.phone_of(session.own_jid),
                lid=session.own_lid,
                push_name=session.push_name,
            ),
        )

    def _on_message(self, session: _Session, event: Any, now: int) -> None:
        for pair in mapping.source_pairs(event.Info.MessageSource):
            self._learn(session, *pair)
        found = mapping.inbound(session.spec.instance_id, event, now, session.own, self._lookup(session))
        if found is None:
            return
        message, media = found
        if media is not None:
            described = message["content"]["media"]
            path = self._download(session, media, int(described["size"]), described["mime_type"])
            if path:
                message["media_path"] = path
        self._emit(session, message)
        chat = str(message.get("chat_jid") or "")
        if not message.get("from_me") and jids.server_of(chat) in (jids.PHONE_SERVER, jids.LID_SERVER):
            self._subscribe(session, chat)  # a contact who writes to the number: its presence, when asked for

    def _subscribe(self, session: _Session, jid: str) -> None:
        """settings.presence_events: WhatsApp sends a contact's presence only to who subscribed to it, once per
        connection. Subscribed are the contacts who write to the number and those it shows chat presence to."""
        run = session.run
        if not session.settings.get("presence_events") or run is None or jid in session.subscribed:
            return
        if len(session.subscribed) >= SUBSCRIPTIONS:
            return
        try:
            self._go(run, run.client.subscribe_presence, jids.to_proto(jid))
            session.subscribed.add(jid)
        except Exception:
            logger.warning("presence not subscribed", extra={"instance_id": session.spec.instance_id}, exc_info=True)

    def _download(self, session: _Session, media: Any, size: int, mime_type: str) -> str | None:
        """The media of an inbound message in a temp file (the worker stores it, then deletes it)."""
        run = session.run
        if run is None or size > self.max_inbound_media_bytes:
            return None
        try:
            data = self._go(run, run.client.download_any, media)
        except Exception as error:
            logger.warning("whatsmeow media download failed: %s", error, extra={"instance_id": run.instance_id})
            return None
        suffix = mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ""
        handle, path = tempfile.mkstemp(prefix="wa-", suffix=suffix, dir=self.media_dir)
        with os.fdopen(handle, "wb") as file:
            file.write(data or b"")
        return path

    def _tick(self) -> None:
        """Deadlines: restart failed connects whose backoff is over; give up pairings that took too long."""
        now = time.monotonic()
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            if session.history_at is not None and now - session.history_at > HISTORY_QUIET_SECONDS:
                self._end_quiet_history(session)
            if session.run is None and session.restart_at is not None and now >= session.restart_at:
                self._start(session)
            elif session.run is not None and not session.logged_in and now - session.started_at > self.pairing_timeout:
                if session.qr_seen.is_set():
                    self._end(session, "disconnected", "pairing_timeout")
                else:  # never even got to a QR or a login: a connect that hangs, tried again later
                    self._stop(session)
                    self._on_finished(session, "no login and no QR in time")

    def _next_deadline(self) -> float | None:
        with self._lock:
            times = [s.restart_at for s in self._sessions.values() if s.run is None and s.restart_at is not None]
            times += [s.started_at + self.pairing_timeout for s in self._sessions.values() if s.run and not s.logged_in]
            times += [s.history_at + HISTORY_QUIET_SECONDS for s in self._sessions.values() if s.history_at is not None]
        return min(times) if times else None

    # -- identities -------------------------------------------------------------------------------------

    def _learn(self, session: _Session, phone: str, lid: str) -> None:
        if (phone, lid) in session.known_pairs:
            return
        session.known_pairs.add((phone, lid))
        self._emit(session, mapping.identity(session.spec.instance_id, phone, lid, self._now_ms()))

    def _lookup(self, session: _Session) -> mapping.LidLookup | None:
        """LID -> phone JID from the session's store; only once logged in (goneonize panics before)."""
        run = session.run
        if run is None or not session.logged_in:
            return None

        def lookup(lid: str) -> str | None:
            try:
                found = jids.to_str(self._go(run, run.client.get_pn_from_lid, jids.to_proto(lid)))
            except Exception:
                return None
            return found if jids.is_phone(found) else None

        return lookup

    def _lid_of(self, session: _Session, phone_jid: str) -> str | None:
        run = session.run
        if run is None or not session.logged_in:
            return None
        try:
            found = jids.to_str(self._go(run, run.client.get_lid_from_pn, jids.to_proto(phone_jid)))
        except Exception:
            return None
        return found if jids.is_lid(found) else None

    # -- calls ------------------------------------------------------------------------------------------

    def _usable(self, instance_id: str) -> tuple[_Session, Run]:
        """The session and its running client, or NotConnected with the state it is in."""
        with self._lock:
            session = self._sessions.get(instance_id)
            if session is None:
                raise NotConnected(self._final.get(instance_id, "disconnected"))
            run = session.run
            if run is None or not session.logged_in or not session.connected:
                raise NotConnected("pairing" if session.state == "pairing" else "disconnected")
        return session, run

    def send(self, instance_id: str, job: dict[str, Any]) -> ServerAck:
        session, run = self._usable(instance_id)
        kind, content = job["type"], job["content"]
        if kind == STATUS_TYPE and content.get("audience"):
            # neonize 0.5.2's send_message takes no participant list: whatsmeow posts to the contacts it knows.
            raise PermanentFailure("not_supported")
        # A reaction, edit or revoke is about a message already in the chat: no need to look the number up;
        # a status post goes to status@broadcast itself.
        about_a_message = kind in ("reaction", "edit", "revoke", STATUS_TYPE)
        to = job["to_jid"] if about_a_message else self._recipient(session, run, job["to_jid"])
        media_type = builders.status_media_type(content) if kind == STATUS_TYPE else builders.MEDIA_TYPE.get(kind)
        uploaded = self._upload(run, media_type, content) if media_type is not None else None
        ctx = builders.Context(
            own_jid=session.own_jid, now_ms=self._now_ms(), secret=self._random(32), interactive=self.interactive
        )
        try:
            messages = builders.build(kind, content, ctx, uploaded=uploaded, otp_code=self._otp_code(kind, content))
        except builders.UnsupportedContent as error:
            raise PermanentFailure("not_supported") from error
        ack: ServerAck | None = None
        try:
            for message in messages:
                ack = self._send_one(run, to, message)
        except PermanentFailure as failure:
            if failure.code == "reach_out_restricted":
                self._reach_out_locked(session)
            raise
        assert ack is not None
        if session.state == "restricted":
            # A send went through (a chat the lock does not cover): the number is usable again.
            self._connected(session, self._now_ms())
        return ack

    def _reach_out_locked(self, session: _Session) -> None:
        """A 463 on a send: the number is `restricted` (reason reach_out_restricted); WhatsApp says not until
        when, so no `until`. It shows `connected` again at the next send that goes through or reconnection."""
        if session.state == "restricted":
            return
        session.state = "restricted"
        now = self._now_ms()
        self._emit(session, mapping.state(session.spec.instance_id, "restricted", now, error="reach_out_restricted"))

    def _otp_code(self, kind: str, content: dict[str, Any]) -> str | None:
        if kind != "otp":
            return None
        if self.unseal is None:
            raise PermanentFailure("not_supported")  # this engine was given no key to open OTP codes
        return self.unseal(content["code_sealed"])

    def _send_one(self, run: Run, to: str, message: Any) -> ServerAck:
        response = self._go(run, run.client.send_message, jids.to_proto(to), message)
        at = mapping.to_ms(response.Timestamp, self._now_ms())
        return ServerAck(wa_message_id=response.ID, server_timestamp_ms=at)

    def _upload(self, run: Run, media_type: Any, content: dict[str, Any]) -> builders.Uploaded:
        data = self.media_fetch(content["media"])
        response = self._go(run, run.client.upload, data, media_type)
        return builders.Uploaded(
            url=response.url,
            direct_path=response.DirectPath,
            media_key=response.MediaKey,
            file_enc_sha256=response.FileEncSHA256,
            file_sha256=response.FileSHA256,
            file_length=int(response.FileLength) or len(data),
        )

    def _recipient(self, session: _Session, run: Run, to: str) -> str:
        """Where a phone-number recipient really is on WhatsApp, once per session and number.

        WhatsApp keeps some Brazilian numbers without their ninth digit: the JID it answers is the one to use.
        A number not on WhatsApp fails here, before anything is sent.
        """
        if not jids.is_phone(to):
            return to
        with self._lock:
            known = session.recipients.get(to)
            if known is not None:
                session.recipients.move_to_end(to)
                return known
        results = self._on_whatsapp(run, [jids.phone_of(to) or to])
        result = next((found for found in results if found.IsIn), None)
        if result is None:
            raise PermanentFailure("not_on_whatsapp")
        resolved = jids.to_str(result.JID) or to
        with self._lock:
            session.recipients[to] = resolved
            while len(session.recipients) > RECIPIENT_CACHE:
                session.recipients.popitem(last=False)
        lid = self._lid_of(session, resolved)
        if lid:
            self._learn(session, jids.phone_of(resolved) or "", lid)
        return resolved

    def _on_whatsapp(self, run: Run, phones: list[str]) -> list[Any]:
        return list(self._go(run, run.client.is_on_whatsapp, *phones))

    def check_numbers(self, instance_id: str, inputs: list[str]) -> list[dict[str, Any]]:
        session, run = self._usable(instance_id)
        parsed: list[Any] = []
        for value in inputs:
            try:
                parsed.append(parse_recipient(value))
            except InvalidRecipient:
                parsed.append(None)
        phones = sorted({r.phone for r in parsed if r is not None and r.phone})
        results = {}
        if phones:  # one query for every number
            for result in self._on_whatsapp(run, phones):
                results["+" + result.Query.partition("@")[0].lstrip("+")] = result  # the number as asked
        lookup = self._lookup(session)
        answers = []
        for value, recipient in zip(inputs, parsed, strict=True):
            answer: dict[str, Any] = {"input": value, "exists": False, "phone": None, "jid": None, "lid": None}
            if recipient is not None and recipient.lid:
                # Only WhatsApp hands out LIDs: one names an account; its number is known if the store has it.
                phone_jid = lookup(recipient.lid) if lookup else None
                answer.update(exists=True, jid=recipient.lid, lid=recipient.lid, phone=jids.phone_of(phone_jid or ""))
            elif recipient is not None and (result := results.get(recipient.phone or "")) is not None and result.IsIn:
                jid = jids.to_str(result.JID) or recipient.jid
                lid = self._lid_of(session, jid)
                answer.update(exists=True, phone=jids.phone_of(jid), jid=jid, lid=lid)
                if lid:
                    self._learn(session, jids.phone_of(jid) or "", lid)
            answers.append(answer)
        return answers

    def mark_read(
        self, instance_id: str, chat_jid: str, wa_message_ids: list[str], sender_jid: str | None = None
    ) -> None:
        if not wa_message_ids:
            return
        _, run = self._usable(instance_id)
        chat = jids.to_proto(chat_jid)
        # whatsmeow needs the sender only in a group (the participant who wrote); in a 1:1 chat it is the chat.
        sender = jids.to_proto(sender_jid) if sender_jid else chat
        self._go(run, run.client.mark_read, *wa_message_ids, chat=chat, sender=sender, receipt=lib.ReceiptType.READ)

    def pairing_code(self, instance_id: str, phone: str) -> str:
        with self._lock:
            session = self._sessions.get(instance_id)
        if session is None:
            raise NotConnected(self._final.get(instance_id, "disconnected"))
        if session.logged_in:
            raise NotConnected("connected")
        # A code is only given on a connected, not yet paired client: the first QR says it is.
        if not session.qr_seen.wait(self.start_timeout) or session.run is None:
            raise NotConnected("disconnected")
        run = session.run
        digits = "".join(ch for ch in phone if ch.isdigit())
        return self._go(run, run.client.PairPhone, digits, True, lib.ClientName.LINUX, lib.ClientType.CHROME)

    # -- helpers ----------------------------------------------------------------------------------------

    # -- groups (docs/groups.md): neonize's calls; what it cannot do is PermanentFailure("not_supported") -------

    def _group_jid(self, group_jid: str) -> Any:
        return jids.to_proto(group_jid)

    def _participant_jids(self, session: _Session, run: Run, inputs: list[str]) -> list[str]:
        wanted = []
        for value in inputs:
            try:
                recipient = parse_recipient(value)
            except InvalidRecipient:
                raise PermanentFailure("invalid_input") from None
            wanted.append(recipient.jid)
        return wanted

    def create_group(self, instance_id: str, subject: str, participants: list[str]) -> dict[str, Any]:
        session, run = self._usable(instance_id)
        wanted = self._participant_jids(session, run, participants)
        info = self._go(run, run.client.create_group, subject, [jids.to_proto(j) for j in wanted])
        group = groups.group_info(info)
        # whatsmeow answers the created group with its participants: those missing were not added.
        answered = list(info.Participants)
        results = groups.participant_results(participants, wanted, answered, "add")
        self._send_invites(run, group["jid"], group["subject"], results)
        return {"group": group, "participants": results}

    def _send_invites(self, run: Run, group_jid: str, subject: str, results: list[dict[str, Any]]) -> None:
        """Whom WhatsApp would not let us add gets the invite its add request names (what a phone sends)."""
        for result in results:
            expiration, code = result.pop("invite_expiration", 0), result.get("invite_code")
            if result["status"] != "invite_required" or not code:
                continue
            invite = lib.e2e.GroupInviteMessage(
                groupJID=group_jid, inviteCode=code, inviteExpiration=expiration, groupName=subject
            )
            to = (result.get("phone") and jids.phone_jid(result["phone"])) or result.get("jid") or ""
            self._go(run, run.client.send_message, jids.to_proto(to), lib.e2e.Message(groupInviteMessage=invite))

    def group_info(self, instance_id: str, group_jid: str) -> dict[str, Any]:
        _, run = self._usable(instance_id)
        return groups.group_info(self._go(run, run.client.get_group_info, self._group_jid(group_jid)))

    def joined_groups(self, instance_id: str) -> list[dict[str, Any]]:
        _, run = self._usable(instance_id)
        return [groups.group_info(info) for info in self._go(run, run.client.get_joined_groups)]

    def update_group(self, instance_id: str, group_jid: str, changes: dict[str, Any]) -> dict[str, Any]:
        _, run = self._usable(instance_id)
        if "picture" in changes and not isinstance(changes["picture"], dict):
            # neonize 0.5.2 only sets a group photo from bytes (SetGroupPhoto): removing one is not exposed.
            raise PermanentFailure("not_supported")
        picture = self.media_fetch(changes["picture"]) if "picture" in changes else None  # read before any change
        jid = self._group_jid(group_jid)
        client = run.client
        for name, value in changes.items():
            if name == "subject":
                self._go(run, client.set_group_name, jid, value)
            elif name == "description":
                self._go(run, client.set_group_topic, jid, "", "", value)  # whatsmeow fills in both topic ids
            elif name == "announce":
                self._go(run, client.set_group_announce, jid, bool(value))
            elif name == "locked":
                self._go(run, client.set_group_locked, jid, bool(value))
            elif name == "picture":
                try:
                    self._go(run, client.set_group_photo, jid, picture)
                except (NotConnected, PermanentFailure):
                    raise
                except Exception as error:
                    logger.warning("whatsmeow refused a group photo: %s", error, extra={"instance_id": instance_id})
                    raise PermanentFailure("picture_rejected") from None
            else:
                raise PermanentFailure("invalid_input")
        return groups.group_info(self._go(run, client.get_group_info, jid))

    def update_group_participants(
        self, instance_id: str, group_jid: str, action: str, participants: list[str]
    ) -> list[dict[str, Any]]:
        session, run = self._usable(instance_id)
        wanted = self._participant_jids(session, run, participants)
        change = lib.ParticipantChange(action)
        answered = self._go(
            run,
            run.client.update_group_participants,
            self._group_jid(group_jid),
            [jids.to_proto(j) for j in wanted],
            change,
        )
        results = groups.participant_results(participants, wanted, answered, action)
        if any(result["status"] == "invite_required" for result in results):
            info = self._go(run, run.client.get_group_info, self._group_jid(group_jid))
            self._send_invites(run, group_jid, info.GroupName.Name, results)
        return results

    def group_invite_link(self, instance_id: str, group_jid: str, reset: bool = False) -> str:
        _, run = self._usable(instance_id)
        link = self._go(run, run.client.get_group_invite_link, self._group_jid(group_jid), reset)
        return str(link)

    def join_group(self, instance_id: str, invite_link: str) -> dict[str, Any]:
        _, run = self._usable(instance_id)
        jid = self._go(run, run.client.join_group_with_link, groups.invite_code(invite_link))
        return groups.group_info(self._go(run, run.client.get_group_info, jid))

    def leave_group(self, instance_id: str, group_jid: str) -> None:
        _, run = self._usable(instance_id)
        self._go(run, run.client.leave_group, self._group_jid(group_jid))

    # -- presence and the blocklist (docs/presence.md) ------------------------------------------------------

    def _chat_of(self, session: _Session, run: Run, jid: str) -> str:
        """Where a chat is: a group or LID as given, a phone where WhatsApp really has it (the ninth digit)."""
        if jids.server_of(jid) in (jids.GROUP_SERVER, jids.LID_SERVER):
            return jid
        return self._recipient(session, run, jid)

    def send_chat_presence(self, instance_id: str, chat_jid: str, state: str) -> None:
        if state not in presence.CHAT_STATES:
            raise PermanentFailure("invalid_input")
        session, run = self._usable(instance_id)
        to = self._chat_of(session, run, chat_jid)
        self._go(run, run.client.send_chat_presence, jids.to_proto(to), *presence.chat_presence_args(state))
        if jids.server_of(to) != jids.GROUP_SERVER:
            self._subscribe(session, to)  # who the number types to is whose typing back it wants to see

    def send_presence(self, instance_id: str, state: str) -> None:
        if state not in ("available", "unavailable"):
            raise PermanentFailure("invalid_input")
        _, run = self._usable(instance_id)
        self._go(run, run.client.send_presence, presence.own_presence(state))

    def get_blocklist(self, instance_id: str) -> list[dict[str, Any]]:
        _, run = self._usable(instance_id)
        return presence.blocklist(self._go(run, run.client.get_blocklist))

    def update_blocklist(self, instance_id: str, jid: str, action: str) -> dict[str, Any]:
        if action not in ("block", "unblock") or jids.server_of(jid) == jids.GROUP_SERVER:
            raise PermanentFailure("invalid_input")
        session, run = self._usable(instance_id)
        to = self._chat_of(session, run, jid)
        self._go(run, run.client.update_blocklist, jids.to_proto(to), presence.blocklist_action(action))
        lid = to if jids.is_lid(to) else self._lid_of(session, to)
        return presence.person(to, lid or "") | {"blocked": action == "block"}

    # -- profiles (docs/profiles.md): neonize's calls; what it cannot do is PermanentFailure("not_supported") ---

    def _user_info(self, run: Run, jid: str) -> Any | None:
        try:
            found = self._go(run, run.client.get_user_info, jids.to_proto(jid))
        except (NotConnected, PermanentFailure):
            raise
        except Exception:
            # The about text and business name are extras: the profile is still answered without them.
            logger.warning("whatsmeow get_user_info failed", exc_info=True, extra={"instance_id": run.instance_id})
            return None
        return profiles.user_info(found, jid)

    def _picture(self, run: Run, jid: str) -> dict[str, Any] | None:
        params = lib.neonize_pb2.GetProfilePictureParams(Preview=False)
        try:
            info = self._go(run, run.client.get_profile_picture, jids.to_proto(jid), params)
        except NotConnected:
            raise
        except PermanentFailure as failure:
            if failure.code == "not_admin":
                return None  # an IQ "not-authorized" (read as a group's refusal): the owner hides it from us
            raise
        except Exception as error:
            if profiles.no_picture(error):
                return None  # none set, or hidden from this number by the owner's privacy settings
            raise
        return profiles.picture(info)

    def own_profile(self, instance_id: str) -> dict[str, Any]:
        session, run = self._usable(instance_id)
        jid = session.own_jid
        return profiles.own(jid, session.own_lid, session.push_name, self._user_info(run, jid), self._picture(run, jid))

    def update_profile(self, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        session, run = self._usable(instance_id)
        if "picture" in changes and changes["picture"] is None:
            # neonize 0.5.2 only sets a photo (SetProfilePhoto with bytes): removing one is not exposed.
            raise PermanentFailure("not_supported")
        data = self.media_fetch(changes["picture"]) if changes.get("picture") else None  # read before any change
        for name, value in changes.items():
            if name == "push_name":
                self._go(run, run.client.set_profile_name, value)
                with self._lock:
                    session.push_name = value
            elif name == "about":
                self._go(run, run.client.set_status_message, value)
            elif name == "picture":
                try:
                    self._go(run, run.client.set_profile_photo, data)
                except (NotConnected, PermanentFailure):
                    raise
                except Exception as error:
                    logger.warning("whatsmeow refused a profile photo: %s", error, extra={"instance_id": instance_id})
                    raise PermanentFailure("picture_rejected") from None
            else:
                raise PermanentFailure("invalid_input")
        return self.own_profile(instance_id)

    def contact_profile(self, instance_id: str, jid: str) -> dict[str, Any]:
        session, run = self._usable(instance_id)
        if jids.is_lid(jid):
            lookup = self._lookup(session)
            target, lid = jid, jid
            phone = jids.phone_of((lookup(jid) if lookup else None) or "")
        elif jids.is_phone(jid):
            found = next((r for r in self._on_whatsapp(run, [jids.phone_of(jid) or jid]) if r.IsIn), None)
            if found is None:
                raise PermanentFailure("not_on_whatsapp")
            target = jids.to_str(found.JID) or jid
            phone, lid = jids.phone_of(target), self._lid_of(session, target)
            if phone and lid:
                self._learn(session, phone, lid)
        else:
            raise PermanentFailure("invalid_input")
        try:
            stored = self._go(run, run.client.get_contact, jids.to_proto(target))
        except (NotConnected, PermanentFailure):
            raise
        except Exception:
            stored = None  # nothing in the session's store about them yet
        info = self._user_info(run, target)
        return profiles.contact(target, phone, lid, stored, info, self._picture(run, target))

    def profile_picture(self, instance_id: str, jid: str, picture: dict[str, Any]) -> str:
        """The picture's bytes from the URL whatsmeow answered, on WhatsApp's picture host only."""
        self._usable(instance_id)
        url = str(picture.get("url") or "")
        if not is_picture_url(url):
            raise PermanentFailure("invalid_input")
        if self.picture_fetch is None:
            raise PermanentFailure("not_supported")
        data = self.picture_fetch(url)
        handle, path = tempfile.mkstemp(prefix="wa-pic-", suffix=".jpg", dir=self.media_dir)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        return path

    def _go(self, run: Run, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One call into Go for `run`'s client, never beside a start or stop, never after its own stop.

        A stopped client is gone from goneonize's maps, and a call naming it dereferences nil in Go: the
        whole process aborts. The stop needs the gate alone, so checking under the shared gate is final.
        """
        with self._gate.shared():
            if run.stopped or run.finished.is_set():
                raise NotConnected("disconnected")
            try:
                return call(*args, **kwargs)
            except lib.NeonizeError as error:
                # `from None`: the message sent (an OTP code) must not ride along in a traceback.
                raise errors.translate(error) from None

    def _emit(self, session: _Session, event: dict[str, Any]) -> None:
        try:
            session.emit(event)
        except Exception:
            logger.exception("engine event sink failed", extra={"instance_id": session.spec.instance_id})

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
