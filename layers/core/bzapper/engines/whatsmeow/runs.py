"""One run of one instance's Go client: neonize's blocking `Neonize()` call on a daemon thread of ours.

We start the Go side ourselves rather than through `NewClient.connect()`: connect() parks a non-daemon
thread inside Go (a process that can then never exit), prints the login status, and takes its QR and
event callbacks from objects that are garbage-collected with the client. Everything else (sending,
uploads, lookups) goes through the `NewClient` object, which only names the Go client by its uuid.

What the Go side reports arrives on the run's thread (the Go call runs on it) and is handed to `sink`
at once: callbacks must stay short, never call back into Go, and never raise.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bzapper.engines.whatsmeow import lib

logger = logging.getLogger("bzapper.engines.whatsmeow")

RunSink = Callable[["Run", str, Any], None]
"""sink(run, kind, payload): kind is "qr" (str), "login" (str), "event" ((code, proto)) or "finished" (error str)."""

# Runs whose Go call never returned after a stop (a pairing that never logged in: goneonize then waits for a
# login forever). Their callbacks must outlive them: Go may still call into them.
PARKED: list[Run] = []


class Run:
    def __init__(
        self,
        instance_id: str,
        db_path: Path,
        device_props: bytes,
        sink: RunSink,
        log_level: str = "WARN",
        proxy: str | None = None,
        history: bool = False,
    ):
        self.instance_id = instance_id
        # What Go queues for us: history sync blobs only for an instance that imports them (settings.history_sync).
        self._subscribed = bytes((*lib.SUBSCRIBED, lib.HISTORY_SYNC) if history else lib.SUBSCRIBED)
        # The proxy the client dials WhatsApp through (settings.proxy_url with its password), kept referenced
        # for the Go call's life.
        self._proxy_struct = lib.ProxySettings(proxy_address=proxy)._to_c_struct() if proxy else None
        self._proxy = ctypes.byref(self._proxy_struct) if self._proxy_struct is not None else None
        self.db_path = db_path
        self.client = lib.NewClient(str(db_path), uuid=instance_id)
        # neonize stops the Go client when this object is garbage-collected, from whatever thread the GC runs
        # on: a write to the Go maps we do not control, and it would stop a newer run of the same uuid.
        self.client._stop_finalizer.detach()
        self.registered = threading.Event()
        """Set at the first sign of life from Go (or its end): by then the client is in goneonize's maps."""
        self.finished = threading.Event()
        self.stopped = False
        self.error = ""
        self._sink = sink
        self._device_props = device_props
        self._log_level = log_level.encode()
        self._callbacks = (
            lib.QrCallback(self._on_qr),
            lib.StatusCallback(self._on_login),
            lib.EventCallback(self._on_event),
            lib.LogCallback(lib.log_whatsmeow),
        )
        self._thread = threading.Thread(target=self._main, name=f"whatsmeow-{instance_id}", daemon=True)

    @property
    def uuid(self) -> bytes:
        return self.client.uuid

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Cancel the Go client (disconnect; forget its map entries). The caller holds the gate alone."""
        self.stopped = True
        lib.gocode.Stop(self.uuid)

    def join(self, timeout: float) -> bool:
        """Wait for the Go call to return; a run that does not is parked (kept alive) for good."""
        if self.finished.wait(timeout):
            return True
        PARKED.append(self)
        return False

    def _main(self) -> None:
        qr, login, event, log = self._callbacks
        subscribed = self._subscribed
        try:
            result = lib.gocode.Neonize(
                str(self.db_path).encode(),
                self.uuid,
                b"",  # no JID: the store holds one device, the first one is ours
                0,
                0,  # not a forced new device
                self._log_level,
                qr,
                login,
                event,
                log,
                subscribed,
                len(subscribed),
                self._device_props,
                len(self._device_props),
                b"",  # no pairing phone here: pairing codes are asked for on a connected client
                0,
                self._proxy,  # None: no proxy
            )
            self.error = (result or b"").decode(errors="replace")
        except BaseException as exc:  # the thread must end, and say so
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished.set()
            self.registered.set()
            self._deliver("finished", self.error)

    def _deliver(self, kind: str, payload: Any) -> None:
        try:
            self._sink(self, kind, payload)
        except Exception:  # an exception must never unwind into Go
            logger.exception("whatsmeow sink failed", extra={"instance_id": self.instance_id})

    def _on_qr(self, _uuid: int, data: int) -> None:
        self.registered.set()
        self._deliver("qr", ctypes.string_at(data).decode(errors="replace"))

    def _on_login(self, _uuid: int, status: int) -> None:
        self.registered.set()
        self._deliver("login", ctypes.string_at(status).decode(errors="replace"))

    def _on_event(self, _uuid: bytes, data: int, size: int, code: int) -> None:
        self.registered.set()
        kind = lib.INT_TO_EVENT.get(code)
        if kind is None:
            return
        try:
            message = kind.FromString(ctypes.string_at(data, size))
        except Exception:
            logger.exception("undecodable whatsmeow event", extra={"instance_id": self.instance_id, "code": code})
            return
        self._deliver("event", (code, message))
