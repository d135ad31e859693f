"""The sandbox WhatsApp network: WhatsApp's servers and the contacts' phones, simulated in memory.

It is the outside world of test mode. Its state lives only here, apart from the session worker, so a
worker crash loses nothing the real network would have kept: acks stay given, recipients stay
deduplicating, and receipts wait in an offline queue until some worker polls and acks them.

Everything is deterministic: due times come from an injected clock, so tests move a fake clock
instead of sleeping. No sockets here; server.py puts this model on HTTP.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The longest a poll may wait, like SQS: long enough to spare round trips, short enough that an
# HTTP client timeout never fires first.
MAX_WAIT_SECONDS = 20.0
# A waiting poll re-checks at least this often (real seconds), so receipts whose due time is
# reached by an injected clock, not by a send, still wake it promptly.
WAIT_SLICE_SECONDS = 0.05

_USER_SERVERS = ("s.whatsapp.net", "c.us")
_PHONE_SEPARATORS = str.maketrans("", "", " -().")


def _wall_ms() -> int:
    return int(time.time() * 1000)


NOT_ON_WHATSAPP_PREFIX = "+5511900000"
"""Reserved range +55 11 90000-0000 … 90000-0999: numbers that are not on WhatsApp (docs/sandbox.md)."""


class Rejected(Exception):
    """WhatsApp refused the message for good; `code` is the stable reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def contact_key(phone_or_jid: str) -> str:
    """The contact a phone or JID names: "+<digits>" for a phone-number user, the JID itself otherwise.

    "5511988888888@s.whatsapp.net", "5511988888888:3@s.whatsapp.net" (a device), "5511988888888"
    and "+55 11 98888-8888" all name "+5511988888888"; a "@lid" (or any other) JID is its own key,
    since it carries no phone number.
    """
    value = phone_or_jid.strip()
    if "@" in value:
        user, _, server = value.partition("@")
        if server.lower() not in _USER_SERVERS:
            return value
        value = user.split(":", 1)[0]
    digits = value.translate(_PHONE_SEPARATORS).removeprefix("+")
    if not digits.isdigit():
        raise ValueError(f"not a phone number or JID: {phone_or_jid!r}")
    return "+" + digits


@dataclass
class _Event:
    event_id: int
    instance_id: str
    due: float  # model clock: when the receipt exists for the sender
    invisible_until: float  # model clock: in flight with a poller until then
    payload: dict[str, Any]

    def available_at(self) -> float:
        return max(self.due, self.invisible_until)


class SandboxNetwork:
    """Thread-safe in-memory WhatsApp network, namespaced by account (each test account has its own world)."""

    def __init__(
        self,
        *,
        delivered_after: float = 0.2,
        read_after: float = 0.6,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        now_ms: Callable[[], int] = _wall_ms,
    ) -> None:
        self.delivered_after = delivered_after
        self.read_after = read_after
        self.time_scale = time_scale
        self._clock = clock
        self._now_ms = now_ms
        # One lock for everything; the condition shares it so a waiting poll releases it.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        # Never restarted, not even by reset(): an ack of an id from before a reset must not remove a
        # newer event that reused it.
        self._event_ids = itertools.count(1)
        self._reset_state()

    def _reset_state(self) -> None:
        # (account, sender instance, contact, wa id) -> server timestamp of the first ack.
        self._acks: dict[tuple[str, str, str, str], int] = {}
        # (account, contact) -> what that contact's phone received, oldest first.
        self._inboxes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._events: dict[int, _Event] = {}
        self._events_by_instance: dict[str, set[int]] = {}

    # -- the servers ----------------------------------------------------------------------------

    def send(
        self, account_id: str, instance_id: str, to_jid: str, wa_message_id: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        """Deliver one message and return WhatsApp's server ack.

        A repeated (account, sender, recipient, wa id) is what a worker that crashed before recording
        the ack sends again: the recipient's device drops it, and the ack repeats the first one.
        """
        contact = contact_key(to_jid)
        if contact.startswith(NOT_ON_WHATSAPP_PREFIX):
            raise Rejected("not_on_whatsapp")
        dedupe_key = (account_id, instance_id, contact, wa_message_id)
        with self._lock:
            first_ts = self._acks.get(dedupe_key)
            if first_ts is not None:
                return {"wa_message_id": wa_message_id, "server_timestamp_ms": first_ts, "duplicate": True}
            server_ts = self._now_ms()
            self._acks[dedupe_key] = server_ts
            self._inboxes.setdefault((account_id, contact), []).append(
                {
                    "wa_message_id": wa_message_id,
                    "instance_id": instance_id,
                    "from_instance": instance_id,
                    "to_jid": to_jid,
                    "message": copy.deepcopy(message),
                    "received_at": server_ts,
                }
            )
            sent_at = self._clock()
            for status, after in (("delivered", self.delivered_after), ("read", self.read_after)):
                delay = after * self.time_scale
                self._schedule(
                    instance_id,
                    due=sent_at + delay,
                    payload={
                        "account_id": account_id,
                        "type": "receipt",
                        "status": status,
                        "wa_message_id": wa_message_id,
                        "to_jid": to_jid,
                        "timestamp_ms": server_ts + round(delay * 1000),
                    },
                )
            self._changed.notify_all()
            return {"wa_message_id": wa_message_id, "server_timestamp_ms": server_ts, "duplicate": False}

    def _schedule(self, instance_id: str, *, due: float, payload: dict[str, Any]) -> None:
        event_id = next(self._event_ids)
        self._events[event_id] = _Event(event_id, instance_id, due, float("-inf"), payload)
        self._events_by_instance.setdefault(instance_id, set()).add(event_id)

    # -- the offline queue of events for our instances ------------------------------------------

    def poll(
        self,
        instance_ids: list[str],
        max_events: int = 100,
        visibility_timeout: float = 5.0,
        wait_seconds: float = 0.0,
    ) -> list[dict[str, Any]]:
        """Events due for these instances and not in flight, oldest first; they go in flight.

        An event not acked within visibility_timeout (model clock) comes back, so a worker that dies
        between poll and ack loses nothing. With wait_seconds (real time, at most MAX_WAIT_SECONDS) it
        long-polls: returns as soon as one event is available, or empty when the wait ends.
        """
        deadline = time.monotonic() + min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
        with self._lock:
            while True:
                events = self._take(instance_ids, max_events, visibility_timeout)
                remaining = deadline - time.monotonic()
                if events or remaining <= 0:
                    return events
                timeout = min(remaining, WAIT_SLICE_SECONDS)
                next_at = self._next_available_at(instance_ids)
                if next_at is not None:
                    # Floored: under a fake clock that nobody moves, this must not become a busy loop.
                    timeout = min(timeout, max(next_at - self._clock(), 0.001))
                self._changed.wait(timeout)

    def _candidates(self, instance_ids: list[str]) -> list[_Event]:
        return [
            self._events[event_id]
            for instance_id in set(instance_ids)
            for event_id in self._events_by_instance.get(instance_id, ())
        ]

    def _take(self, instance_ids: list[str], max_events: int, visibility_timeout: float) -> list[dict[str, Any]]:
        if max_events <= 0:
            return []
        now = self._clock()
        ready = sorted(
            (e for e in self._candidates(instance_ids) if e.available_at() <= now),
            key=lambda e: (e.due, e.event_id),
        )[:max_events]
        taken = []
        for event in ready:
            event.invisible_until = now + visibility_timeout
            taken.append({"event_id": event.event_id, "instance_id": event.instance_id, **event.payload})
        return taken

    def _next_available_at(self, instance_ids: list[str]) -> float | None:
        return min((e.available_at() for e in self._candidates(instance_ids)), default=None)

    def ack(self, event_ids: list[int]) -> int:
        """Remove these events for good; unknown (or already acked) ids are ignored. Returns how many went."""
        removed = 0
        with self._lock:
            for event_id in set(event_ids):
                event = self._events.pop(event_id, None)
                if event is None:
                    continue
                owned = self._events_by_instance[event.instance_id]
                owned.discard(event_id)
                if not owned:
                    del self._events_by_instance[event.instance_id]
                removed += 1
        return removed

    # -- the contacts' phones -------------------------------------------------------------------

    def received(self, account_id: str, phone_or_jid: str) -> list[dict[str, Any]]:
        """What one contact of this account received, oldest first (copies: callers cannot alter history)."""
        contact = contact_key(phone_or_jid)
        with self._lock:
            return copy.deepcopy(self._inboxes.get((account_id, contact), []))

    def reset(self) -> None:
        """Forget everything (between tests). Event ids keep increasing."""
        with self._lock:
            self._reset_state()
            self._changed.notify_all()
