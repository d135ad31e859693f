"""The sandbox WhatsApp network: WhatsApp's servers, the linked devices and the contacts' phones, in memory.

It is the outside world of test mode. Its state lives only here, apart from the session worker, so a
worker crash loses nothing the real network would have kept: pairings stay, acks stay given, recipients
stay deduplicating, and events wait in an offline queue until some worker polls and acks them.

Everything is deterministic: delays run on an injected clock (tests move a fake clock instead of
sleeping), ids and QR strings are hashes of what they name. Timed changes (a QR refresh, a restriction
lifting, an automatic reconnect) are timers applied lazily, in due order, before every call. No sockets
here; server.py puts this model on HTTP. docs/sandbox.md describes the behaviour for users.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bzapper.domain.content import INBOUND_TYPES, MEDIA_TYPES
from bzapper.domain.engine import NotConnected
from bzapper.engines.sandbox import derived
from bzapper_dev.sandbox.groups import GroupsMixin, _Group
from bzapper_dev.sandbox.numbers import (
    DISCONNECTS,
    ECHO,
    NOT_ON_WHATSAPP_PREFIX,
    OFFLINE,
    PASSKEY,
    PLAYS_VOICE,
    REACH_OUT_LOCK,
    REPLIES,
    RESTRICTS,
    UNMAPPED_LID,
    InvalidInput,
    contact_key,
    default_push_name,
    group_jid,
    is_group,
    is_lid,
    kind_of,
    lid_for,
    on_whatsapp,
    phone_for_lid,
    phone_jid,
)
from bzapper_dev.sandbox.presence import PresenceMixin
from bzapper_dev.sandbox.profiles import ProfilesMixin, _Profile
from bzapper_dev.sandbox.queue import EventQueue, QueuedEvent
from bzapper_dev.sandbox.statuses import StatusMixin, is_status_broadcast

__all__ = ["MAX_WAIT_SECONDS", "NOT_ON_WHATSAPP_PREFIX", "InvalidInput", "Rejected", "SandboxNetwork", "contact_key"]

# The longest a poll may wait, like SQS: long enough to spare round trips, short enough that an
# HTTP client timeout never fires first.
MAX_WAIT_SECONDS = 20.0
# A waiting poll re-checks at least this often (real seconds), so events whose due time is reached by
# an injected clock, not by a call, still wake it promptly.
WAIT_SLICE_SECONDS = 0.05

# The socket is up: receipts and messages flow (a restricted account still receives).
_ONLINE = ("connected", "restricted")
# Protocol messages: a contact does not answer them.
_NOT_REPLIED = frozenset({"reaction", "edit", "revoke"})


def _wall_ms() -> int:
    return int(time.time() * 1000)


class Rejected(Exception):
    """WhatsApp refused for good; `code` is the stable reason (not_on_whatsapp, already_paired, ...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Device:
    """A linked device (our instance) as WhatsApp's servers know it."""

    phone: str
    lid: str
    push_name: str
    # Unmapped-LID contacts whose LID <-> phone mapping this device has learned.
    known_phones: set[str] = field(default_factory=set)


@dataclass
class _Instance:
    state: str = "disconnected"
    open: bool = False  # a worker connected it (and did not disconnect it since)
    error: str | None = None
    device: _Device | None = None
    epoch: int = 0  # bumped by every state change: timers of an older epoch are void
    ever_seen: bool = False  # paired or logged out at least once: a restore phone no longer applies
    qr: str | None = None
    qr_refreshes: int = 0
    pairing_round: int = 0
    pending_code: tuple[str, str] | None = None  # (normalized pairing code, phone)
    passkey_phone: str | None = None  # a passkey-gated phone that scanned once: its next scan confirms
    # What the session applies itself (instance settings): always_online, proxy_url (never its password),
    # proxy_authenticated, reject_calls, history_sync. Recorded so a test sees the setting reached the session.
    settings: dict[str, Any] = field(default_factory=dict)
    # The history chunks handed to the device at its pairing (history_sync on), as delivered: redeliverable.
    history_chunks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(order=True)
class _Timer:
    due: float
    sequence: int
    at_ms: int = field(compare=False)
    action: str = field(compare=False)
    key: tuple[str, str] = field(compare=False)
    epoch: int = field(compare=False, default=0)
    phone: str | None = field(compare=False, default=None)


class SandboxNetwork(GroupsMixin, StatusMixin, PresenceMixin, ProfilesMixin):
    """Thread-safe in-memory WhatsApp network, namespaced by account (each test account has its own world).

    Delays are seconds of the model clock, multiplied by time_scale: delivered_after, read_after,
    played_after and reply_after count from the send; reconnect_after from the drop; qr_interval is the
    life of one QR (qr_refreshes new ones follow before the pairing gives up); restricted_for is how long
    a 463 restriction lasts.
    """

    def __init__(
        self,
        *,
        delivered_after: float = 0.2,
        read_after: float = 0.6,
        played_after: float = 1.0,
        reply_after: float = 1.2,
        reconnect_after: float = 1.0,
        qr_interval: float = 20.0,
        qr_refreshes: int = 5,
        restricted_for: float = 60.0,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        now_ms: Callable[[], int] = _wall_ms,
    ) -> None:
        self.delivered_after = delivered_after
        self.read_after = read_after
        self.played_after = played_after
        self.reply_after = reply_after
        self.reconnect_after = reconnect_after
        self.qr_interval = qr_interval
        self.qr_refreshes = qr_refreshes
        self.restricted_for = restricted_for
        self.time_scale = time_scale
        self._clock = clock
        self._now_ms = now_ms
        # One lock for everything; the condition shares it so a waiting poll releases it.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        # Never restarted, not even by reset(): ids from before a reset must not name newer things.
        self._event_ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self._queue = EventQueue(self._event_ids)
        self._reset_state()

    def _reset_state(self) -> None:
        self._queue.clear()
        self._timers: list[_Timer] = []
        self._instances: dict[tuple[str, str], _Instance] = {}
        # (account, phone) -> model time a 463 restriction of that WhatsApp account lifts.
        self._restrictions: dict[tuple[str, str], float] = {}
        # (account, phone) -> (reason, wall-clock ms it lifts) of that restriction: what the state event says.
        self._restriction_reasons: dict[tuple[str, str], tuple[str, int | None]] = {}
        # (account, sender instance, contact, wa id) -> server timestamp of the first ack.
        self._acks: dict[tuple[str, str, str, str], int] = {}
        # (account, contact) -> what that contact's phone received / sent, oldest first.
        self._inboxes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._outboxes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # (account, instance) -> the read receipts that instance sent.
        self._reads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # media id -> (mime type, bytes) of an inbound message, kept until its event is acked.
        self._media: dict[str, tuple[str, bytes]] = {}
        # (account, instance) -> the calls made to that instance, oldest first (see call()).
        self._calls: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # (account, group jid) -> the group; (account, sender instance, group jid, wa id) -> first ack.
        self._groups: dict[tuple[str, str], _Group] = {}
        self._group_acks: dict[tuple[str, str, str, str], int] = {}
        # Presence and blocking (presence.py): what each contact saw of each number, the numbers' own presence,
        # and whom each number blocks.
        self._presence_seen: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._own_presence: dict[tuple[str, str], dict[str, Any]] = {}
        self._blocked: dict[tuple[str, str], dict[str, None]] = {}
        # (account, phone) -> the profile that user shows: set by its instance or by a test (profiles.py).
        self._profiles: dict[tuple[str, str], _Profile] = {}

    # -- time -------------------------------------------------------------------------------------

    def _later(self, seconds: float) -> tuple[float, int]:
        """(model due time, wall-clock ms) of a moment `seconds` (scaled) from now."""
        delay = seconds * self.time_scale
        return self._clock() + delay, self._now_ms() + round(delay * 1000)

    def _timer(
        self, seconds: float, action: str, key: tuple[str, str], *, epoch: int = 0, phone: str | None = None
    ) -> None:
        due, at_ms = self._later(seconds)
        heapq.heappush(self._timers, _Timer(due, next(self._sequence), at_ms, action, key, epoch, phone))

    def _advance(self) -> float:
        """Apply every timer now due, oldest first; returns the model time."""
        now = self._clock()
        while self._timers and self._timers[0].due <= now:
            timer = heapq.heappop(self._timers)
            getattr(self, f"_on_{timer.action}")(timer)
        return now

    # -- instances: pairing and connection ----------------------------------------------------------

    def _instance(self, account_id: str, instance_id: str) -> _Instance:
        return self._instances.setdefault((account_id, instance_id), _Instance())

    def _event(
        self,
        key: tuple[str, str],
        payload: dict[str, Any],
        *,
        due: float | None = None,
        media_id: str | None = None,
    ) -> None:
        account_id, instance_id = key
        self._queue.put(account_id, instance_id, self._clock() if due is None else due, payload, media_id)
        self._changed.notify_all()

    def _set_state(
        self,
        key: tuple[str, str],
        inst: _Instance,
        state: str,
        *,
        error: str | None = None,
        emit: bool = True,
        due: float | None = None,
        at_ms: int | None = None,
        until: int | None = None,
    ) -> None:
        inst.state, inst.error = state, error
        inst.epoch += 1
        if not emit:
            return
        payload: dict[str, Any] = {
            "kind": "state",
            "state": state,
            "at": self._now_ms() if at_ms is None else at_ms,
        }
        if state == "pairing":
            payload["qr"] = inst.qr
        if inst.device is not None and state in _ONLINE:
            device = inst.device
            payload |= {"phone": device.phone, "lid": device.lid, "push_name": device.push_name}
        if error:
            payload["error"] = error
        if until is not None:
            payload["until"] = until  # when a restriction lifts (wall-clock ms)
        self._event(key, payload, due=due)

    def _go_online(
        self, key: tuple[str, str], inst: _Instance, *, due: float | None = None, at_ms: int | None = None
    ) -> None:
        assert inst.device is not None
        inst.qr, inst.pending_code = None, None
        if self._restricted(key[0], inst.device.phone, self._clock() if due is None else due):
            reason, until = self._restriction_reasons.get((key[0], inst.device.phone), ("account_restricted", None))
            self._set_state(key, inst, "restricted", error=reason, due=due, at_ms=at_ms, until=until)
        else:
            self._set_state(key, inst, "connected", due=due, at_ms=at_ms)

    def _restricted(self, account_id: str, phone: str, now: float) -> bool:
        return self._restrictions.get((account_id, phone), float("-inf")) > now

    def _start_pairing(self, key: tuple[str, str], inst: _Instance) -> None:
        inst.pairing_round += 1
        inst.qr_refreshes = 0
        inst.pending_code = None
        inst.qr = derived.qr_string(*key, inst.pairing_round, 0)
        self._set_state(key, inst, "pairing")
        self._timer(self.qr_interval, "qr", key, epoch=inst.epoch)

    def _on_qr(self, timer: _Timer) -> None:
        inst = self._instances.get(timer.key)
        if inst is None or inst.epoch != timer.epoch or inst.state != "pairing":
            return
        if inst.qr_refreshes < self.qr_refreshes:
            inst.qr_refreshes += 1
            inst.qr = derived.qr_string(*timer.key, inst.pairing_round, inst.qr_refreshes)
            self._set_state(timer.key, inst, "pairing", due=timer.due, at_ms=timer.at_ms)
            self._timer_at(timer, self.qr_interval, "qr", epoch=inst.epoch)
            return
        # Nobody scanned: whatsmeow closes the QR channel and the socket.
        inst.open, inst.qr, inst.pending_code = False, None, None
        self._set_state(timer.key, inst, "disconnected", error="qr_timeout", due=timer.due, at_ms=timer.at_ms)

    def _timer_at(self, after: _Timer, seconds: float, action: str, *, epoch: int) -> None:
        """A timer `seconds` after another one fired (not after now: lazily applied timers keep their spacing)."""
        delay = seconds * self.time_scale
        at_ms = after.at_ms + round(delay * 1000)
        heapq.heappush(self._timers, _Timer(after.due + delay, next(self._sequence), at_ms, action, after.key, epoch))

    def connect(self, account_id: str, instance_id: str, phone: str | None = None) -> dict[str, Any]:
        """A worker opens the instance's socket; the outcome comes as a state event (and is returned).

        Paired: "connected" (or "restricted"). Not paired: "pairing" with a QR that is refreshed every
        qr_interval, up to qr_refreshes times, then "disconnected" with error "qr_timeout". Connecting an
        instance already pairing repeats its current QR. `phone` restores a session the device still holds
        (what whatsmeow's store does) when this network has never seen the instance, e.g. after a restart.
        """
        restore = contact_key(phone) if phone is not None else None
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instance(*key)
            if inst.device is None and not inst.ever_seen and restore is not None and on_whatsapp(restore):
                inst.device = self._new_device(restore, None)
                inst.ever_seen = True
            inst.open = True
            if inst.device is not None:
                self._go_online(key, inst)
            elif inst.state == "pairing":
                self._set_state(key, inst, "pairing")
                self._timer(self.qr_interval, "qr", key, epoch=inst.epoch)
            else:
                self._start_pairing(key, inst)
            return self._describe(key, inst)

    def disconnect(self, account_id: str, instance_id: str) -> dict[str, Any]:
        """A worker closes the socket, keeping the pairing; no event (nobody is listening any more)."""
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instance(*key)
            inst.open, inst.qr, inst.pending_code = False, None, None
            self._set_state(key, inst, "logged_out" if inst.state == "logged_out" else "disconnected", emit=False)
            return self._describe(key, inst)

    def logout(self, account_id: str, instance_id: str) -> dict[str, Any]:
        """Unlink the device: the pairing is forgotten and "logged_out" is queued."""
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instance(*key)
            inst.device, inst.ever_seen = None, True
            inst.open, inst.qr, inst.pending_code = False, None, None
            self._set_state(key, inst, "logged_out")
            return self._describe(key, inst)

    def scan(
        self,
        account_id: str,
        instance_id: str,
        phone: str | None = None,
        *,
        code: str | None = None,
        push_name: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The user scans the QR (or, with `code`, confirms the pairing code on the phone).

        `history`: the phone's earlier conversations (see `_history_chunks`), handed to the newly paired device
        as `history` events when its session asked for history (settings.history_sync, applied by `configure`)
        and only at this pairing; the answer's `history` says what was handed ({sync_id, chunks, conversations,
        messages}, zeros when nothing was handed; absent without a `history`).

        Pairs the instance with `phone` (default: derived.default_phone(instance_id)); an open instance becomes
        "connected" at once, a closed one when a worker connects it. Scanning again with the same (or no)
        phone changes nothing; with another phone it is Rejected("already_paired").
        """
        wanted = contact_key(phone) if phone is not None else None
        if history is not None:
            _checked_history(history)
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instance(*key)
            if history is not None:
                self._check_history_contacts(history)
            if code is not None:
                pending = inst.pending_code
                if pending is None or pending[0] != derived.normalized_code(code) or wanted not in (None, pending[1]):
                    raise Rejected("invalid_pairing_code")
                wanted = pending[1]
            if inst.device is not None:
                if wanted in (None, inst.device.phone):
                    return self._describe(key, inst)
                raise Rejected("already_paired")
            if wanted is None and inst.state == "passkey_required":
                wanted = inst.passkey_phone  # the same phone, now confirming with its passkey
            wanted = wanted or derived.default_phone(instance_id)
            if not on_whatsapp(wanted):
                raise Rejected("not_on_whatsapp")
            if kind_of(wanted) == PASSKEY and inst.passkey_phone != wanted:
                # WhatsApp gates this linking behind the phone's passkey: the user confirms on the phone (here,
                # by scanning again with the same phone or code); the QR stops rotating meanwhile.
                inst.passkey_phone, inst.qr = wanted, None
                self._set_state(key, inst, "passkey_required", error="passkey_required", emit=inst.open)
                return self._describe(key, inst)
            inst.passkey_phone = None
            inst.device, inst.ever_seen = self._new_device(wanted, push_name), True
            if inst.open:
                self._go_online(key, inst)
            else:
                inst.qr, inst.pending_code = None, None
                self._set_state(key, inst, "disconnected", emit=False)
            described = self._describe(key, inst)
            inst.history_chunks = []
            if history and inst.settings.get("history_sync"):
                # What WhatsApp hands a newly paired device that asked for history: after its "connected".
                inst.history_chunks = self._history_chunks(key, inst, history)
                for chunk in inst.history_chunks:
                    self._event(key, copy.deepcopy(chunk))
            if history is not None:
                described["history"] = _history_summary(inst.history_chunks)
            return described

    def _history_chunks(
        self, key: tuple[str, str], inst: _Instance, history: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The history events of a pairing: HISTORY_CHUNK_CONVERSATIONS conversations a chunk, the last one final.

        A conversation is {"contact": phone or JID, "messages": [...]} or {"group": "…@g.us", "group_name"?,
        "messages": [...]}; a message is {"body", "from_me"?, "from"? (a group's participant), "wa_message_id"?,
        "push_name"?}, oldest first. Conversation k's messages are k+1 hours old, a minute apart."""
        assert inst.device is not None
        device = inst.device
        sync_id = f"sbx-{key[1]}-{inst.pairing_round}-{device.phone.lstrip('+')}"
        now = self._now_ms()
        conversations = []
        for k, raw in enumerate(_checked_history(history)):
            group = group_jid(raw["group"]) if raw.get("group") else None
            phone = None if group else self._resolve(contact_key(raw["contact"]))
            if group is None and phone is None:
                raise Rejected("not_on_whatsapp")
            chat = group or self._contact_chat(phone or "")
            messages = []
            base = now - (k + 1) * 3_600_000
            for i, item in enumerate(raw["messages"]):
                from_me = bool(item.get("from_me"))
                writer = phone
                if group and not from_me:
                    writer = self._resolve(contact_key(str(item.get("from") or "")))
                    if writer is None:
                        raise Rejected("not_on_whatsapp")
                sender = (
                    self._own_sender(device)
                    if from_me
                    else self._contact_sender(device, writer or "", item.get("push_name"))
                )
                sequence = next(self._sequence)
                messages.append(
                    {
                        "wa_message_id": item.get("wa_message_id") or derived.phone_message_id(*key, chat, sequence),
                        "chat_jid": chat,
                        "from_me": from_me,
                        "sender": sender,
                        "type": "text",
                        "content": {"body": item["body"]},
                        "at": base + i * 60_000,
                    }
                )
            conversation: dict[str, Any] = {"chat_jid": chat, "messages": messages}
            if group and raw.get("group_name"):
                conversation["chat_name"] = raw["group_name"]
            conversations.append(conversation)
        size = HISTORY_CHUNK_CONVERSATIONS
        cuts = [conversations[i : i + size] for i in range(0, len(conversations), size)] or [[]]
        return [
            {
                "kind": "history",
                "sync_id": sync_id,
                "chunk_id": f"chunk-{n}",
                "final": n == len(cuts) - 1,
                "at": now,
                "conversations": part,
            }
            for n, part in enumerate(cuts)
        ]

    def _check_history_contacts(self, history: list[dict[str, Any]]) -> None:
        """Every contact and group participant a history names is a WhatsApp user (before anything pairs)."""
        for raw in history:
            if raw.get("group") is not None:
                group_jid(raw["group"])
                writers = [str(item["from"]) for item in raw["messages"] if not item.get("from_me")]
            else:
                writers = [str(raw["contact"])]
            if any(self._resolve(contact_key(writer)) is None for writer in writers):
                raise Rejected("history_not_on_whatsapp")

    def redeliver_history(self, account_id: str, instance_id: str, chunk: int = 0) -> dict[str, Any]:
        """WhatsApp hands a history chunk again (as it may): the same event, queued once more. Returns
        {sync_id, chunk_id, final}; an instance with no such chunk is Rejected("no_history")."""
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instances.get(key)
            if inst is None or not 0 <= chunk < len(inst.history_chunks):
                raise Rejected("no_history")
            event = copy.deepcopy(inst.history_chunks[chunk])
            self._event(key, event)
            return {k: event[k] for k in ("sync_id", "chunk_id", "final")}

    def pairing_code(self, account_id: str, instance_id: str, phone: str) -> str:
        """Pair by phone number: the code ("ABCD-EFGH") the user types on that phone (then scan(code=...)).

        The instance must be open and pairing (NotConnected otherwise); an already paired one is Rejected.
        """
        wanted = contact_key(phone)
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instance(*key)
            if inst.device is not None:
                raise Rejected("already_paired")
            if not inst.open or inst.state != "pairing":
                raise NotConnected(inst.state)
            if not on_whatsapp(wanted):
                raise Rejected("not_on_whatsapp")
            code = derived.pairing_code(account_id, instance_id, wanted, inst.pairing_round)
            inst.pending_code = (derived.normalized_code(code), wanted)
            return code

    def instance(self, account_id: str, instance_id: str) -> dict[str, Any]:
        """What the network knows of an instance: state, pairing, current QR."""
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            return self._describe(key, self._instances.get(key) or _Instance())

    def _new_device(self, phone: str, push_name: str | None) -> _Device:
        return _Device(phone, lid_for(phone), push_name or default_push_name(phone, own=True))

    def _describe(self, key: tuple[str, str], inst: _Instance) -> dict[str, Any]:
        device = inst.device
        return {
            "instance_id": key[1],
            "state": inst.state,
            "open": inst.open,
            "paired": device is not None,
            "phone": device.phone if device else None,
            "lid": device.lid if device else None,
            "push_name": device.push_name if device else None,
            "error": inst.error,
            "qr": inst.qr,
        }

    def _online(self, key: tuple[str, str], *, sending: bool = False) -> _Instance:
        """The instance, if its socket is up (and, for `sending`, not restricted); NotConnected otherwise."""
        inst = self._instances.get(key)
        if inst is None or not inst.open or inst.state not in (("connected",) if sending else _ONLINE):
            raise NotConnected(inst.state if inst else "disconnected")
        return inst

    def _restrict(self, account_id: str, phone: str, reason: str = "account_restricted") -> None:
        """WhatsApp's 463: every open device of that number is restricted until the restriction lifts.

        `reason` says which: "account_restricted" (the plain restriction) or "reach_out_restricted" (the
        reach-out time lock, whose state events also say `until`)."""
        due, until = self._later(self.restricted_for)
        self._restrictions[(account_id, phone)] = due
        shown_until = until if reason == "reach_out_restricted" else None
        self._restriction_reasons[(account_id, phone)] = (reason, shown_until)
        for key, inst in self._instances.items():
            if key[0] == account_id and inst.device and inst.device.phone == phone and inst.state == "connected":
                self._set_state(key, inst, "restricted", error=reason, until=shown_until)
        self._timer(self.restricted_for, "lift", (account_id, ""), phone=phone)

    def _on_lift(self, timer: _Timer) -> None:
        account_id, phone = timer.key[0], timer.phone
        assert phone is not None
        if self._restricted(account_id, phone, timer.due):
            return  # restricted again meanwhile: a later timer lifts it
        self._restrictions.pop((account_id, phone), None)
        self._restriction_reasons.pop((account_id, phone), None)
        for key, inst in self._instances.items():
            device = inst.device
            if key[0] == account_id and device and device.phone == phone and inst.open and inst.state == "restricted":
                self._set_state(key, inst, "connected", due=timer.due, at_ms=timer.at_ms)

    def _on_reconnect(self, timer: _Timer) -> None:
        inst = self._instances.get(timer.key)
        if inst is None or inst.epoch != timer.epoch or not inst.open or inst.state != "disconnected":
            return
        self._go_online(timer.key, inst, due=timer.due, at_ms=timer.at_ms)

    # -- contacts -----------------------------------------------------------------------------------

    def _resolve(self, contact: str) -> str | None:
        """The phone of a contact key ("+..." or a JID), if it names a WhatsApp user."""
        if contact.startswith("+"):
            return contact if on_whatsapp(contact) else None
        return phone_for_lid(contact) if is_lid(contact) else None

    @staticmethod
    def _knows(device: _Device, phone: str) -> bool:
        """Does this device know the contact's LID <-> phone mapping?"""
        return kind_of(phone) != UNMAPPED_LID or phone in device.known_phones

    @staticmethod
    def _contact_chat(phone: str) -> str:
        """The chat a contact writes in: their LID when their number is hidden behind it, else their phone."""
        return lid_for(phone) if kind_of(phone) == UNMAPPED_LID else phone_jid(phone)

    def _contact_sender(self, device: _Device, phone: str, push_name: str | None) -> dict[str, Any]:
        lid = lid_for(phone)
        name = push_name or default_push_name(phone)
        if kind_of(phone) != UNMAPPED_LID:
            return {"jid": phone_jid(phone), "phone": phone, "lid": lid, "push_name": name}
        if phone in device.known_phones:
            return {"jid": lid, "phone": phone, "lid": lid, "push_name": name}
        return {"jid": lid, "lid": lid, "push_name": name}

    @staticmethod
    def _own_sender(device: _Device) -> dict[str, Any]:
        return {"jid": phone_jid(device.phone), "phone": device.phone, "lid": device.lid, "push_name": device.push_name}

    def check_numbers(self, account_id: str, instance_id: str, inputs: list[str]) -> list[dict[str, Any]]:
        """One {input, exists, phone, jid, lid} per input (E.164, phone JID or @lid JID), in order.

        jid is where to send; lid is None while the device does not know the mapping; an unknown LID or a
        malformed input does not exist.
        """
        with self._lock:
            self._advance()
            inst = self._online((account_id, instance_id))
            assert inst.device is not None
            return [self._check(inst.device, value) for value in inputs]

    def _check(self, device: _Device, value: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"input": value, "exists": False, "phone": None, "jid": None, "lid": None}
        try:
            contact = contact_key(value)
        except InvalidInput:
            return answer
        phone = self._resolve(contact)
        if phone is None:
            return answer | {"phone": contact if contact.startswith("+") else None}
        lid = lid_for(phone)
        if not self._knows(device, phone):
            if contact.startswith("+"):
                return answer | {"exists": True, "phone": phone, "jid": phone_jid(phone)}
            return answer | {"exists": True, "jid": lid, "lid": lid}
        return answer | {"exists": True, "phone": phone, "jid": phone_jid(phone), "lid": lid}

    # -- the servers: sending -------------------------------------------------------------------------

    def send(
        self, account_id: str, instance_id: str, to_jid: str, wa_message_id: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        """Deliver one message ({"type", **content}) and return WhatsApp's server ack.

        The instance must be connected (NotConnected otherwise). A repeated (account, sender, recipient,
        wa id) is what a worker that crashed before recording the ack sends again: the recipient's device
        drops it, and the ack repeats the first one. What follows depends on the recipient's range
        (docs/sandbox.md): receipts, a reply, a played receipt, an echo, a drop of the connection.
        """
        contact = to_jid if is_status_broadcast(to_jid) else contact_key(to_jid)
        with self._lock:
            now = self._advance()
            key = (account_id, instance_id)
            inst = self._online(key, sending=True)
            device = inst.device
            assert device is not None
            if is_status_broadcast(to_jid):
                return self._post_status(key, device, wa_message_id, message, now)
            if is_group(to_jid):
                return self._send_to_group(key, device, to_jid, wa_message_id, message, now)
            phone = self._resolve(contact)
            if phone is None:
                raise Rejected("not_on_whatsapp")
            kind = kind_of(phone)
            if kind == RESTRICTS:
                self._restrict(account_id, device.phone)
                raise NotConnected("restricted")
            if kind == REACH_OUT_LOCK:
                # The reach-out time lock: this message is refused for good (failed, refunded), the number is
                # restricted (reason and until on its state) and sends nothing more until the lock lifts.
                self._restrict(account_id, device.phone, "reach_out_restricted")
                raise Rejected("reach_out_restricted")
            dedupe_key = (account_id, instance_id, phone, wa_message_id)
            first_ts = self._acks.get(dedupe_key)
            if first_ts is not None:
                return {"wa_message_id": wa_message_id, "server_timestamp_ms": first_ts, "duplicate": True}
            server_ts = self._now_ms()
            self._acks[dedupe_key] = server_ts
            self._inboxes.setdefault((account_id, phone), []).append(
                {
                    "wa_message_id": wa_message_id,
                    "instance_id": instance_id,
                    "from_instance": instance_id,
                    "to_jid": to_jid,
                    "message": copy.deepcopy(message),
                    "received_at": server_ts,
                }
            )
            chat = lid_for(phone) if is_lid(contact) else phone_jid(phone)
            if kind == UNMAPPED_LID and not is_lid(contact) and phone not in device.known_phones:
                device.known_phones.add(phone)
                self._event(key, {"kind": "identity", "phone": phone, "lid": lid_for(phone), "at": server_ts})
            if kind == ECHO:
                self._echo(key, device, chat, wa_message_id, message, server_ts)
            if kind != OFFLINE:
                self._receipts(key, chat, wa_message_id, message, kind, now, server_ts)
            if kind == REPLIES and message.get("type") not in _NOT_REPLIED:
                self._reply(key, device, phone, chat, wa_message_id, server_ts)
            if kind == DISCONNECTS:
                self._set_state(key, inst, "disconnected")
                self._timer(self.reconnect_after, "reconnect", key, epoch=inst.epoch)
            return {"wa_message_id": wa_message_id, "server_timestamp_ms": server_ts, "duplicate": False}

    def _receipts(
        self,
        key: tuple[str, str],
        chat: str,
        wa_message_id: str,
        message: dict[str, Any],
        kind: str,
        sent_at: float,
        server_ts: int,
    ) -> None:
        statuses = [("delivered", self.delivered_after), ("read", self.read_after)]
        if kind == PLAYS_VOICE and message.get("type") == "audio" and message.get("voice") is True:
            statuses.append(("played", self.played_after))
        for status, after in statuses:
            delay = after * self.time_scale
            payload = {
                "kind": "receipt",
                "wa_message_id": wa_message_id,
                "chat_jid": chat,
                "status": status,
                "at": server_ts + round(delay * 1000),
            }
            self._event(key, payload, due=sent_at + delay)

    def _echo(
        self,
        key: tuple[str, str],
        device: _Device,
        chat: str,
        wa_message_id: str,
        message: dict[str, Any],
        server_ts: int,
    ) -> None:
        """The message as the phone's own device shows it: a fromMe inbound with the same id."""
        content = {name: copy.deepcopy(value) for name, value in message.items() if name != "type"}
        payload = {
            "kind": "inbound",
            "wa_message_id": wa_message_id,
            "chat_jid": chat,
            "from_me": True,
            "sender": self._own_sender(device),
            "type": message.get("type", "unknown"),
            "content": content,
            "at": server_ts,
        }
        self._event(key, payload)

    def _reply(
        self, key: tuple[str, str], device: _Device, phone: str, chat: str, wa_message_id: str, server_ts: int
    ) -> None:
        if self._blocks(key, phone):
            return  # a blocked contact's answer never arrives
        due, at_ms = self._later(self.reply_after)
        reply_id = derived.phone_message_id(*key, phone, wa_message_id, "reply")
        content = {
            "body": f"Auto-reply to {wa_message_id}",
            "reply_to": {"wa_message_id": wa_message_id, "chat_jid": chat, "from_me": True},
        }
        payload = {
            "kind": "inbound",
            "wa_message_id": reply_id,
            "chat_jid": chat,
            "from_me": False,
            "sender": self._contact_sender(device, phone, None),
            "type": "text",
            "content": content,
            "at": at_ms,
        }
        self._record_sent(key, phone, reply_id, "text", content, at_ms)
        self._event(key, payload, due=due)

    def _record_sent(
        self,
        key: tuple[str, str],
        phone: str,
        wa_message_id: str,
        message_type: str,
        content: dict,
        at_ms: int,
        group: str | None = None,
    ) -> None:
        item = {
            "wa_message_id": wa_message_id,
            "instance_id": key[1],
            "type": message_type,
            "content": copy.deepcopy(content),
            "sent_at": at_ms,
            "read_at": None,
        }
        if group:
            item["group_jid"] = group  # written in a group the instance is in, not to the instance alone
        self._outboxes.setdefault((key[0], phone), []).append(item)

    # -- the contacts' phones: inbound, reads -------------------------------------------------------

    def inject_inbound(
        self,
        account_id: str,
        instance_id: str,
        from_: str,
        message_type: str,
        content: dict[str, Any],
        *,
        from_me: bool = False,
        push_name: str | None = None,
        wa_message_id: str | None = None,
        group: str | None = None,
        group_name: str | None = None,
    ) -> str:
        """A contact (`from_`: phone or JID) writes to the instance; returns the message's WhatsApp id.

        With from_me, the account's own phone wrote into the chat with that contact. With `group` (a `@g.us`
        JID), the contact wrote in that group instead, as a participant (the network models no membership:
        any well-formed group id is a group both are in; `group_name` is its subject, reported with the
        message). Media content carries
        {"media": {"mime_type", "data_base64", "filename"?}}: the bytes stay here (GET them by the event's
        content.media.sandbox_media_id) until the event is acked. An explicit repeated wa_message_id is
        delivered again, as WhatsApp may redeliver. The instance must be paired; the event waits while it
        is offline.
        """
        if message_type not in INBOUND_TYPES:
            raise InvalidInput(f"type must be one of {sorted(INBOUND_TYPES)}")
        if not isinstance(content, dict):
            raise InvalidInput("content must be an object", "content_not_object")
        content = copy.deepcopy(content)
        if message_type == "text" and not isinstance(content.get("body"), str):
            raise InvalidInput("a text needs content.body (a string)", "text_body")
        data = _media_bytes(content) if message_type in MEDIA_TYPES else None
        group = group_jid(group) if group is not None else None
        contact = contact_key(from_)
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instances.get(key)
            if inst is None or inst.device is None:
                raise NotConnected(inst.state if inst else "disconnected")
            device = inst.device
            phone = self._resolve(contact)
            if phone is None:
                raise Rejected("not_on_whatsapp")
            sequence = next(self._sequence)
            wa_id = wa_message_id or derived.phone_message_id(*key, phone, sequence)
            at_ms = self._now_ms()
            media_id = None
            if data is not None:
                media_id = derived.media_id(account_id, instance_id, wa_id, sequence)
                self._media[media_id] = (content["media"]["mime_type"], data)
                content["media"]["sandbox_media_id"] = media_id
            payload = {
                "kind": "inbound",
                "wa_message_id": wa_id,
                "chat_jid": group or self._contact_chat(phone),
                "from_me": from_me,
                "sender": self._own_sender(device) if from_me else self._contact_sender(device, phone, push_name),
                "type": message_type,
                "content": content,
                "at": at_ms,
            }
            if group and group_name:
                payload["chat_name"] = group_name
            if not from_me:
                self._record_sent(key, phone, wa_id, message_type, content, at_ms, group)
                if group is None and self._blocks(key, phone):
                    # The number blocks this contact: its message never arrives (one tick on the sender's phone).
                    self._outboxes[(account_id, phone)][-1]["blocked"] = True
                    self._media.pop(media_id or "", None)
                    return wa_id
            self._event(key, payload, media_id=media_id)
            return wa_id

    # -- the session's own settings, and calls -----------------------------------------------------------

    def configure(self, account_id: str, instance_id: str, settings: dict[str, Any]) -> dict[str, Any]:
        """The session applies its settings (at open and on every change): recorded as given, replacing
        the former ones. The sandbox dials no proxy; `proxy_url` comes without its password."""
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instance(*key)
            inst.settings = copy.deepcopy(settings)
            return copy.deepcopy(inst.settings)

    def settings_of(self, account_id: str, instance_id: str) -> dict[str, Any]:
        """The settings the instance's session last applied ({} before any)."""
        with self._lock:
            inst = self._instances.get((account_id, instance_id))
            return copy.deepcopy(inst.settings) if inst else {}

    def call(self, account_id: str, instance_id: str, from_: str, *, video: bool = False) -> dict[str, Any]:
        """A contact calls the instance's number: an "offer" call event is queued; the call rings until the
        instance rejects it (reject_call) or the caller hangs up (end_call). Returns the call's record."""
        contact = contact_key(from_)
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            inst = self._instances.get(key)
            if inst is None or inst.device is None:
                raise NotConnected(inst.state if inst else "disconnected")
            phone = self._resolve(contact)
            if phone is None:
                raise Rejected("not_on_whatsapp")
            calls = self._calls.setdefault(key, [])
            call_id = derived.phone_message_id(*key, phone, "call", len(calls) + 1)
            at_ms = self._now_ms()
            caller = self._contact_sender(inst.device, phone, None)
            caller.pop("push_name", None)
            record = {
                "call_id": call_id,
                "from": caller,
                "phone": phone,
                "is_video": video,
                "at": at_ms,
                "state": "ringing",
                "ended_at": None,
                "reason": None,
            }
            calls.append(record)
            if self._blocks(key, phone):
                # The number blocks the caller: its phone never rings (no event), the caller's rings out.
                record.update(state="blocked", ended_at=at_ms, reason="blocked")
                return copy.deepcopy(record)
            payload = {"kind": "call", "phase": "offer", "call_id": call_id, "from": caller, "is_video": video}
            self._event(key, payload | {"at": at_ms})
            return copy.deepcopy(record)

    def reject_call(self, account_id: str, instance_id: str, call_id: str, caller_jid: str) -> None:
        """The instance rejects a ringing call: the caller's phone stops ringing; "ended" (rejected) follows."""
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            self._online(key)
            self._end_call(key, call_id, "rejected", caller_jid)

    def end_call(self, account_id: str, instance_id: str, call_id: str, reason: str = "hangup") -> dict[str, Any]:
        """The caller hangs up (a test control): "ended" with the reason."""
        with self._lock:
            self._advance()
            return copy.deepcopy(self._end_call((account_id, instance_id), call_id, reason, None))

    def _end_call(self, key: tuple[str, str], call_id: str, reason: str, caller_jid: str | None) -> dict[str, Any]:
        record = next((c for c in self._calls.get(key, []) if c["call_id"] == call_id), None)
        if record is None or (caller_jid is not None and contact_key(caller_jid) != contact_key(record["from"]["jid"])):
            raise Rejected("call_not_found")
        if record["state"] != "ringing":
            return record  # ended already: a repeated reject or hang-up changes nothing
        at_ms = self._now_ms()
        record.update(state=reason, ended_at=at_ms, reason=reason)
        payload = {
            "kind": "call",
            "phase": "ended",
            "call_id": call_id,
            "from": copy.deepcopy(record["from"]),
            "is_video": record["is_video"],
            "at": at_ms,
            "reason": reason,
            "duration_s": 0,  # never answered: the sandbox's calls are not picked up
        }
        self._event(key, payload)
        return record

    def calls(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        """The calls made to this instance, oldest first, with their state (ringing, rejected, hangup...)."""
        with self._lock:
            return copy.deepcopy(self._calls.get((account_id, instance_id), []))

    def media(self, media_id: str) -> tuple[str, bytes] | None:
        """(mime type, bytes) of an inbound message's media, while its event is not acked."""
        with self._lock:
            return self._media.get(media_id)

    def mark_read(
        self,
        account_id: str,
        instance_id: str,
        chat_jid: str,
        wa_message_ids: list[str],
        sender_jid: str | None = None,
    ) -> None:
        """The instance sends read receipts: recorded, and the contact sees those messages read.

        In a group, `sender_jid` names the participant who wrote them: without it, as on WhatsApp, the
        receipts name nobody's messages (recorded, but nothing is seen read)."""
        chat_group = group_jid(chat_jid) if is_group(chat_jid) else None
        contact = contact_key(sender_jid) if sender_jid else (None if chat_group else contact_key(chat_jid))
        with self._lock:
            self._advance()
            key = (account_id, instance_id)
            self._online(key)
            at_ms = self._now_ms()
            receipt: dict[str, Any] = {"chat_jid": chat_jid, "wa_message_ids": list(wa_message_ids), "at": at_ms}
            if sender_jid:
                receipt["sender_jid"] = sender_jid
            self._reads.setdefault(key, []).append(receipt)
            if contact is None:
                return
            phone = self._resolve(contact)
            wanted = set(wa_message_ids)
            for item in self._outboxes.get((account_id, phone or contact), []):
                if (
                    item["instance_id"] == instance_id
                    and item["wa_message_id"] in wanted
                    and item.get("group_jid") == chat_group  # a receipt in one chat says nothing of another
                    and item["read_at"] is None
                ):
                    item["read_at"] = at_ms

    def reads(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        """The read receipts this instance sent, oldest first: {chat_jid, wa_message_ids, at, sender_jid?}."""
        with self._lock:
            return copy.deepcopy(self._reads.get((account_id, instance_id), []))

    def received(self, account_id: str, phone_or_jid: str) -> list[dict[str, Any]]:
        """What one contact of this account received, oldest first (copies: callers cannot alter history)."""
        contact = contact_key(phone_or_jid)
        with self._lock:
            phone = self._resolve(contact) or contact
            return copy.deepcopy(self._inboxes.get((account_id, phone), []))

    def sent_by(self, account_id: str, phone_or_jid: str) -> list[dict[str, Any]]:
        """What one contact sent to this account's instances (injected or automatic), with read_at once read."""
        contact = contact_key(phone_or_jid)
        with self._lock:
            phone = self._resolve(contact) or contact
            return copy.deepcopy(self._outboxes.get((account_id, phone), []))

    # -- the offline queue of events for our instances ----------------------------------------------

    def _deliverable(self, event: QueuedEvent) -> bool:
        """State events always reach the instance (its own client reports them); the rest need a socket."""
        if event.payload["kind"] == "state":
            return True
        inst = self._instances.get((event.account_id, event.instance_id))
        return inst is not None and inst.open and inst.state in _ONLINE

    def poll(
        self,
        instance_ids: list[str],
        max_events: int = 100,
        visibility_timeout: float = 5.0,
        wait_seconds: float = 0.0,
    ) -> list[dict[str, Any]]:
        """Events due for these instances and not in flight, oldest first; they go in flight.

        An event not acked within visibility_timeout (model clock) comes back, so a worker that dies
        between poll and ack loses nothing. Only state events reach an instance whose socket is down; the
        others wait for it to connect. With wait_seconds (real time, at most MAX_WAIT_SECONDS) it
        long-polls: returns as soon as one event is available, or empty when the wait ends.
        """
        deadline = time.monotonic() + min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
        with self._lock:
            while True:
                now = self._advance()
                events = self._queue.take(instance_ids, max_events, visibility_timeout, now, self._deliverable)
                remaining = deadline - time.monotonic()
                if events or remaining <= 0:
                    return copy.deepcopy(events)
                timeout = min(remaining, WAIT_SLICE_SECONDS)
                next_at = self._queue.next_available_at(instance_ids, self._deliverable)
                if self._timers:
                    next_at = min(next_at if next_at is not None else float("inf"), self._timers[0].due)
                if next_at is not None:
                    # Floored: under a fake clock that nobody moves, this must not become a busy loop.
                    timeout = min(timeout, max(next_at - now, 0.001))
                self._changed.wait(timeout)

    def ack(self, event_ids: list[int]) -> int:
        """Remove these events for good; unknown (or already acked) ids are ignored. Returns how many went."""
        with self._lock:
            removed = self._queue.remove(event_ids)
            for event in removed:
                if event.media_id is not None:
                    self._media.pop(event.media_id, None)
            return len(removed)

    def reset(self) -> None:
        """Forget everything (between tests). Event ids keep increasing."""
        with self._lock:
            self._reset_state()
            self._changed.notify_all()


HISTORY_CHUNK_CONVERSATIONS = 2
"""Conversations per history chunk: a history of three conversations comes in two chunks."""
HISTORY_CONVERSATIONS_MAX = 50
HISTORY_MESSAGES_MAX = 100
"""Per conversation."""


def _checked_history(history: Any) -> list[dict[str, Any]]:
    """A scan's history description, checked (InvalidInput naming what is wrong)."""
    if not isinstance(history, list) or len(history) > HISTORY_CONVERSATIONS_MAX:
        raise InvalidInput(f"history must be a list of at most {HISTORY_CONVERSATIONS_MAX} conversations", "history")
    for raw in history:
        if not isinstance(raw, dict) or (raw.get("contact") is None) == (raw.get("group") is None):
            raise InvalidInput("each history conversation names a contact or a group", "history")
        messages = raw.get("messages")
        if not isinstance(messages, list) or not 1 <= len(messages) <= HISTORY_MESSAGES_MAX:
            raise InvalidInput(f"each history conversation has 1 to {HISTORY_MESSAGES_MAX} messages", "history")
        for item in messages:
            if not isinstance(item, dict) or not isinstance(item.get("body"), str) or not item["body"]:
                raise InvalidInput("each history message has a body", "history")
            if raw.get("group") is not None and not item.get("from_me") and not isinstance(item.get("from"), str):
                raise InvalidInput("a group's history message names who wrote it (from)", "history")
    return history


def _history_summary(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    conversations = [c for chunk in chunks for c in chunk["conversations"]]
    return {
        "sync_id": chunks[0]["sync_id"] if chunks else None,
        "chunks": len(chunks),
        "conversations": len(conversations),
        "messages": sum(len(c["messages"]) for c in conversations),
    }


def _media_bytes(content: dict[str, Any]) -> bytes:
    """Takes the bytes out of content.media (left with mime_type, size, sha256, filename?)."""
    media = content.get("media")
    if not isinstance(media, dict):
        raise InvalidInput("media content needs content.media {mime_type, data_base64, filename?}", "media_missing")
    mime_type, encoded, filename = media.get("mime_type"), media.get("data_base64"), media.get("filename")
    if not isinstance(mime_type, str) or "/" not in mime_type:
        raise InvalidInput("content.media.mime_type must be a MIME type", "media_mime_type")
    if filename is not None and (not isinstance(filename, str) or not filename):
        raise InvalidInput("content.media.filename must be a non-empty string", "media_filename")
    if not isinstance(encoded, str):
        raise InvalidInput("content.media.data_base64 must be a base64 string", "media_data_type")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("content.media.data_base64 is not valid base64", "media_data_invalid") from None
    if not data:
        raise InvalidInput("content.media.data_base64 is empty", "media_data_empty")
    content["media"] = {"mime_type": mime_type, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if filename:
        content["media"]["filename"] = filename
    return data
