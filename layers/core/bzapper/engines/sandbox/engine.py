"""The sandbox engine: a session worker's view of the simulated WhatsApp network (engine port v2).

The network keeps every event until it is acked, so this engine holds no state worth losing: the open
sessions (their sinks) and nothing else. `pump` long-polls the network for the open sessions and hands
each event to its session's sink, as the engine-event dicts of engines/base.py with `ack` = the network's
event id; inbound media is downloaded to a temp file named by `media_path` (the worker deletes it).
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from bzapper.domain.engine import EngineEvent, EventSink, NotConnected, PermanentFailure, ServerAck, SessionSpec
from bzapper.domain.instances import can_send
from bzapper.engines.sandbox import derived
from bzapper.engines.sandbox.client import SandboxNetworkClient, SandboxNetworkError

logger = logging.getLogger(__name__)

# The network's own limit on one long poll.
_MAX_POLL_WAIT_SECONDS = 20.0
_POLL_BATCH = 100


@cache
def shared_client(url: str) -> SandboxNetworkClient:
    """One connection pool per process and network."""
    return SandboxNetworkClient(url)


@dataclass
class _Session:
    spec: SessionSpec
    emit: EventSink
    logging_out: bool = False  # kept until its "logged_out" event is delivered, then dropped
    settings: dict[str, Any] = field(default_factory=dict)
    """SessionSpec.settings, then each apply_settings: reject_calls is read when a call comes."""


class SandboxEngine:
    name = "sandbox"

    def __init__(
        self,
        url: str,
        *,
        unseal: Callable[[str], str] | None = None,
        visibility_timeout: float = 30.0,
        media_dir: str | None = None,
        client: SandboxNetworkClient | None = None,
        media_fetch: Callable[[dict[str, Any]], bytes] | None = None,
    ) -> None:
        """`unseal` turns an OTP's code_sealed into the code (without it, the code bubble records the sealed
        value); `visibility_timeout` is how long a delivered, unacked event stays with this engine before the
        network offers it again; `media_dir` is where inbound media files go (the system's temp dir by default);
        `client` replaces the process's shared HTTP client (tests pass an in-process one); `media_fetch` reads a
        stored media's bytes (a new profile picture), as whatsmeow's does.
        """
        self.media_fetch = media_fetch
        self.client = client if client is not None else shared_client(url)
        self.unseal = unseal
        self.visibility_timeout = visibility_timeout
        self.media_dir = media_dir
        self._lock = threading.Lock()  # pump runs on its own thread, beside the serialized calls
        self._sessions: dict[str, _Session] = {}
        self._stopped = threading.Event()

    # -- sessions -------------------------------------------------------------------------------

    def open(self, spec: SessionSpec, emit: EventSink) -> None:
        with self._lock:
            current = self._sessions.get(spec.instance_id)
            if current is not None and not current.logging_out:
                return
            self._sessions[spec.instance_id] = _Session(spec, emit, settings=dict(spec.settings or {}))
        try:
            self.client.connect(spec.account_id, spec.instance_id, spec.phone)
            if spec.settings:
                self.client.configure(spec.account_id, spec.instance_id, _network_settings(spec.settings))
        except BaseException:
            with self._lock:
                self._sessions.pop(spec.instance_id, None)
            raise

    def close(self, instance_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(instance_id, None)
        if session is not None:
            self.client.disconnect(session.spec.account_id, instance_id)

    def logout(self, instance_id: str) -> None:
        session = self._session(instance_id)
        self.client.logout(session.spec.account_id, instance_id)
        with self._lock:
            if self._sessions.get(instance_id) is session:
                session.logging_out = True

    def pairing_code(self, instance_id: str, phone: str) -> str:
        session = self._session(instance_id)
        try:
            return self.client.pairing_code(session.spec.account_id, instance_id, phone)
        except SandboxNetworkError as error:
            _raise_permanent(error)
            raise

    def _session(self, instance_id: str) -> _Session:
        with self._lock:
            session = self._sessions.get(instance_id)
        if session is None or session.logging_out:
            raise NotConnected("disconnected")
        return session

    # -- messages -------------------------------------------------------------------------------

    def send(self, instance_id: str, job: dict[str, Any]) -> ServerAck:
        """Send one job from an open session."""
        self._session(instance_id)
        return self._send(job)

    def _send(self, job: dict[str, Any]) -> ServerAck:
        if not can_send("sandbox", job["type"]):
            # Refused at accept time; a job that got here anyway fails (refunded), as whatsmeow's does.
            raise PermanentFailure("not_supported")
        content = job["content"]
        if job["type"] != "otp":
            return self._deliver(job, job["wa_message_id"], {"type": job["type"], **content})
        # Two WhatsApp messages: the text, then the code alone (its id derived, so a re-send repeats it).
        sealed = content["code_sealed"]
        # Without the unsealing hook the recipient gets the sealed value: still never the code in clear here.
        # Opened first: a code that cannot be opened (expired, another key) sends nothing, not a text alone.
        code = {"body": self.unseal(sealed)} if self.unseal else {"code_sealed": sealed}
        ack = self._deliver(job, job["wa_message_id"], {"type": "text", "body": content["body"]})
        bubble = {"type": "text", **code}
        self._deliver(job, derived.otp_code_message_id(job["wa_message_id"]), bubble)
        return ack

    def _deliver(self, job: dict[str, Any], wa_message_id: str, message: dict[str, Any]) -> ServerAck:
        try:
            ack = self.client.send(job["account_id"], job["instance_id"], job["to_jid"], wa_message_id, message)
        except SandboxNetworkError as error:
            _raise_permanent(error)
            raise
        return ServerAck(wa_message_id=ack["wa_message_id"], server_timestamp_ms=int(ack["server_timestamp_ms"]))

    def check_numbers(self, instance_id: str, inputs: list[str]) -> list[dict[str, Any]]:
        session = self._session(instance_id)
        return self.client.check_numbers(session.spec.account_id, instance_id, inputs)

    def mark_read(
        self, instance_id: str, chat_jid: str, wa_message_ids: list[str], sender_jid: str | None = None
    ) -> None:
        session = self._session(instance_id)
        self.client.mark_read(session.spec.account_id, instance_id, chat_jid, wa_message_ids, sender_jid)

    def apply_settings(self, instance_id: str, settings: dict[str, Any]) -> None:
        session = self._session(instance_id)
        session.settings = dict(settings)
        self.client.configure(session.spec.account_id, instance_id, _network_settings(settings))

    # -- groups: the network's own calls, its refusals as PermanentFailure(code) ----------------------

    def _group_call(self, instance_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        session = self._session(instance_id)
        try:
            return getattr(self.client, method)(session.spec.account_id, instance_id, *args, **kwargs)
        except SandboxNetworkError as error:
            _raise_permanent(error)
            if error.status_code == 400:
                raise PermanentFailure("invalid_input") from error  # our own check missed it: never a retry
            raise

    def create_group(self, instance_id: str, subject: str, participants: list[str]) -> dict[str, Any]:
        return self._group_call(instance_id, "create_group", subject, participants)

    def group_info(self, instance_id: str, group_jid: str) -> dict[str, Any]:
        return self._group_call(instance_id, "group_info", group_jid)

    def joined_groups(self, instance_id: str) -> list[dict[str, Any]]:
        return self._group_call(instance_id, "joined_groups")

    def update_group(self, instance_id: str, group_jid: str, changes: dict[str, Any]) -> dict[str, Any]:
        picture = changes.get("picture")
        if isinstance(picture, dict):  # the network keeps a group's picture as our media id
            changes = {**changes, "picture": str(picture["media_id"])}
        return self._group_call(instance_id, "update_group", group_jid, changes)

    def update_group_participants(
        self, instance_id: str, group_jid: str, action: str, participants: list[str]
    ) -> list[dict[str, Any]]:
        return self._group_call(instance_id, "update_participants", group_jid, action, participants)

    def group_invite_link(self, instance_id: str, group_jid: str, reset: bool = False) -> str:
        return self._group_call(instance_id, "invite_link", group_jid, reset=reset)

    def join_group(self, instance_id: str, invite_link: str) -> dict[str, Any]:
        return self._group_call(instance_id, "join_with_link", invite_link)

    def leave_group(self, instance_id: str, group_jid: str) -> None:
        self._group_call(instance_id, "leave_group", group_jid)

    # -- presence and the blocklist (docs/presence.md) ---------------------------------------------------

    def send_chat_presence(self, instance_id: str, chat_jid: str, state: str) -> None:
        self._group_call(instance_id, "send_chat_presence", chat_jid, state)

    def send_presence(self, instance_id: str, state: str) -> None:
        self._group_call(instance_id, "send_presence", state)

    def get_blocklist(self, instance_id: str) -> list[dict[str, Any]]:
        return self._group_call(instance_id, "get_blocklist")

    def update_blocklist(self, instance_id: str, jid: str, action: str) -> dict[str, Any]:
        return self._group_call(instance_id, "update_blocklist", jid, action)

    # -- profiles: the network's own calls, its refusals as PermanentFailure(code) --------------------

    def own_profile(self, instance_id: str) -> dict[str, Any]:
        return self._group_call(instance_id, "own_profile")

    def update_profile(self, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        wanted = dict(changes)
        if wanted.get("picture") is not None:
            if self.media_fetch is None:
                raise PermanentFailure("not_supported")  # no media store given to this engine
            media = wanted["picture"]
            data = self.media_fetch(media)
            wanted["picture"] = {"mime_type": media["mime_type"], "data_base64": base64.b64encode(data).decode()}
        return self._group_call(instance_id, "update_profile", wanted)

    def contact_profile(self, instance_id: str, jid: str) -> dict[str, Any]:
        return self._group_call(instance_id, "contact_profile", jid)

    def profile_picture(self, instance_id: str, jid: str, picture: dict[str, Any]) -> str:
        session = self._session(instance_id)
        mime_type, data = self.client.profile_picture(session.spec.account_id, jid, str(picture["id"]))
        return self._write_temp(data, mime_type)

    # -- events ---------------------------------------------------------------------------------

    def pump(self, wait_seconds: float) -> None:
        with self._lock:
            instance_ids = list(self._sessions)
        if not instance_ids:
            self._stopped.wait(wait_seconds)
            return
        events = self.client.poll(
            instance_ids,
            max_events=_POLL_BATCH,
            visibility_timeout=self.visibility_timeout,
            wait_seconds=min(max(wait_seconds, 0.0), _MAX_POLL_WAIT_SECONDS),
        )
        for wire in events:
            with self._lock:
                session = self._sessions.get(wire["instance_id"])
            if session is None or wire.get("account_id") != session.spec.account_id:
                continue  # closed meanwhile: the event stays in the network for the next open
            try:
                event = self._engine_event(wire)
                if event["kind"] == "call" and event.get("phase") == "offer" and session.settings.get("reject_calls"):
                    self._reject(session, event)
                session.emit(event)
            except Exception:
                # Not acked: the network offers it again after the visibility timeout.
                logger.exception("sandbox event %s of %s not delivered", wire.get("event_id"), wire["instance_id"])
                continue
            if session.logging_out and event["kind"] == "state" and event["state"] == "logged_out":
                with self._lock:
                    if self._sessions.get(wire["instance_id"]) is session:
                        del self._sessions[wire["instance_id"]]

    def _engine_event(self, wire: dict[str, Any]) -> EngineEvent:
        event = {name: value for name, value in wire.items() if name not in ("event_id", "account_id")}
        event["ack"] = wire["event_id"]
        media = event.get("content", {}).get("media") if event["kind"] == "inbound" else None
        if isinstance(media, dict) and "sandbox_media_id" in media:
            event["content"]["media"] = {name: value for name, value in media.items() if name != "sandbox_media_id"}
            event["media_path"] = self._download(media["sandbox_media_id"], media.get("mime_type"))
        return event

    def _reject(self, session: _Session, event: EngineEvent) -> None:
        """settings.reject_calls: the call is rejected here, before it is even reported (the phone stops
        ringing at once); a call that has already ended is reported as it is."""
        try:
            self.client.reject_call(
                session.spec.account_id, event["instance_id"], event["call_id"], event["from"]["jid"]
            )
        except SandboxNetworkError as error:
            if error.status_code != 422:
                raise  # not delivered: offered again, and rejected then
            return
        event["rejected"] = True

    def _download(self, media_id: str, mime_type: str | None) -> str:
        _, data = self.client.media(media_id)
        return self._write_temp(data, mime_type)

    def _write_temp(self, data: bytes, mime_type: str | None) -> str:
        suffix = mimetypes.guess_extension(mime_type or "") or ""
        fd, path = tempfile.mkstemp(prefix="bz-sandbox-", suffix=suffix, dir=self.media_dir)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
        except BaseException:
            os.unlink(path)
            raise
        return path

    def ack(self, acks: list[Any]) -> None:
        if acks:
            self.client.ack([int(value) for value in acks])

    def shutdown(self) -> None:
        self._stopped.set()
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            try:
                self.client.disconnect(session.spec.account_id, session.spec.instance_id)
            except Exception:
                logger.exception("sandbox disconnect of %s failed at shutdown", session.spec.instance_id)


def _network_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """What the network records of a session's settings: never the proxy's (sealed) password."""
    return {
        "always_online": bool(settings.get("always_online")),
        "reject_calls": bool(settings.get("reject_calls")),
        "proxy_url": settings.get("proxy_url"),
        "proxy_authenticated": bool(settings.get("proxy_secret")),
        "history_sync": bool(settings.get("history_sync")),  # the device asks for history when it pairs
    }


def _raise_permanent(error: SandboxNetworkError) -> None:
    """A 422 is WhatsApp's final refusal: PermanentFailure. Anything else stays an error to retry."""
    if error.status_code == 422:
        raise PermanentFailure(error.code or "rejected") from error
