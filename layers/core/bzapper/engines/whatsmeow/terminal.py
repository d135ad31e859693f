"""Pairing a real phone from a terminal: the QR drawn with segno, as WhatsApp › Linked devices scans it.

`render_qr` draws one QR string (what a "pairing" state event carries); `pair_in_terminal` runs a whole
pairing with its own engine and returns once the phone is linked, for a developer pairing a number once
before the local stack uses the same store directory.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

import segno

from bzapper.domain.engine import SessionSpec

SETTLE_SECONDS = 3.0


def render_qr(qr: str, out: TextIO | None = None) -> None:
    """Draw the QR in the terminal (two rows per line, so it fits an 80x24 window)."""
    stream = out or sys.stdout
    segno.make_qr(qr, error="l").terminal(out=stream, compact=True)
    stream.write("WhatsApp › Settings › Linked devices › Link a device, then scan this code.\n")
    stream.flush()


def pair_in_terminal(
    store_dir: Path | str,
    instance_id: str,
    *,
    timeout: float = 180.0,
    out: TextIO | None = None,
) -> dict[str, Any]:
    """Pair `instance_id` (its store `<store_dir>/<instance_id>.sqlite3`) by QR; return the "connected" event.

    Already paired: returns as soon as the stored session connects. Raises TimeoutError when no phone
    linked in `timeout` seconds, RuntimeError when WhatsApp ends the pairing (its code in the message).
    """
    from bzapper.engines.whatsmeow.engine import WhatsmeowEngine

    stream = out or sys.stdout
    events: list[dict[str, Any]] = []
    engine = WhatsmeowEngine(store_dir, media_fetch=_no_media, pairing_timeout=timeout)
    try:
        engine.open(SessionSpec(instance_id=instance_id, account_id="dev", livemode=True), events.append)
        deadline = time.monotonic() + timeout
        linked: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            engine.pump(0.5)
            while events:
                event = events.pop(0)
                if event["kind"] != "state":
                    continue
                if event["state"] == "pairing" and event.get("qr"):
                    render_qr(event["qr"], stream)
                elif event["state"] == "connected":
                    linked = event
                elif event.get("error") and event["error"] != "connect_failed":
                    raise RuntimeError(event["error"])
            # The pairing's success comes before the reconnect that finishes the device's setup: wait for it.
            if linked is not None and engine.connected(instance_id):
                engine.pump(SETTLE_SECONDS)
                stream.write(f"Linked: {linked.get('phone', '')} {linked.get('push_name', '')}\n")
                return linked
        raise TimeoutError("no phone linked in time")
    finally:
        engine.shutdown()


def _no_media(media: dict[str, Any]) -> bytes:
    raise RuntimeError("no media store while pairing")
