"""The sandbox WhatsApp network over HTTP: JSON in, JSON out, stdlib only.

It runs in its own thread or process, apart from the session worker, so the simulated world outlives
a worker crash. The same server answers the simulated Cloud API (Meta's Graph API) under `/graph` and its
test controls under `/graph-sim` (bzapper_dev.sandbox.graph).
Standalone: python -m bzapper_dev.sandbox.server --port 8765
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bzapper.config import settings
from bzapper.domain.engine import NotConnected
from bzapper_dev.sandbox.graph import GraphSim
from bzapper_dev.sandbox.graph import http as graph_http
from bzapper_dev.sandbox.graph.delivery import WebhookPump
from bzapper_dev.sandbox.network import MAX_WAIT_SECONDS, InvalidInput, Rejected, SandboxNetwork, contact_key

logger = logging.getLogger(__name__)

# Inbound media travels base64 inside the JSON body of /v1/inbound.
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Raw:
    """An answer that is bytes, not JSON (media)."""

    content_type: str
    data: bytes


Endpoint = Callable[[dict[str, Any]], dict[str, Any] | Raw]


class BadRequest(Exception):
    """The request is malformed: answered with a 400, never a 500."""


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    if body.get(key) is None:
        return None
    return _str(body, key)


def _bool(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{key} must be true or false")
    return value


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key} must be a non-empty string")
    return value


def _checked_contact(phone_or_jid: str) -> str:
    try:
        contact_key(phone_or_jid)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return phone_or_jid


def _jid(body: dict[str, Any], key: str) -> str:
    return _checked_contact(_str(body, key))


def _number(body: dict[str, Any], key: str, default: float) -> float:
    value = body.get(key, default)
    # bool is an int in Python, but true is no number of seconds.
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadRequest(f"{key} must be a non-negative number")
    return float(value)


def _list_of(body: dict[str, Any], key: str, kind: type) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, kind) for v in value):
        raise BadRequest(f"{key} must be a list of {kind.__name__}")
    return value


_GROUP_OPS = frozenset(
    {"create", "info", "joined", "update", "participants", "invite-link", "join", "leave", "contact-join"}
)


_PRESENCE_OPS = frozenset({"chat", "own", "blocklist", "block", "show"})


class _NotFound(Exception):
    """A well-formed request for something that is not there (expired media)."""


class SandboxHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its network; one thread per connection, so long polls do not block."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], network: SandboxNetwork, graph: GraphSim | None = None) -> None:
        self.network = network
        self.graph = graph if graph is not None else GraphSim()
        self.pump = WebhookPump(self.graph)
        super().__init__(address, _Handler)

    def shutdown(self) -> None:
        self.pump.stop()
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request (a worker killed or stopping during its long poll) is normal;
        socketserver would print its traceback to stderr. Anything else is logged as the error it is."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        logger.exception("sandbox network: request from %s failed", client_address)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive: the client reuses one connection for every call.
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests and the local stack would drown in one line per poll."""

    # -- plumbing -------------------------------------------------------------------------------

    def _reply(self, status: int, payload: dict[str, Any] | Raw, headers: dict[str, str] | None = None) -> None:
        raw = payload if isinstance(payload, Raw) else Raw("application/json", json.dumps(payload).encode())
        data = raw.data
        self.send_response(status)
        self.send_header("Content-Type", raw.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except ConnectionError:
            # The client left (a long poll it gave up on): nobody to tell.
            self.close_connection = True

    def _error(
        self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None, problem: str | None = None
    ) -> None:
        code = status.phrase.lower().replace(" ", "_")
        error = {"code": code, "message": message} | ({"problem": problem} if problem else {})
        self._reply(status, {"error": error}, headers)

    def _raw_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            # The body stays unread, so the stream holds no trustworthy next request.
            self.close_connection = True
            raise BadRequest(f"Content-Length must be a number of bytes up to {MAX_BODY_BYTES}")
        return self.rfile.read(length) if length else b""

    def _body(self) -> dict[str, Any]:
        raw = self._raw_body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        return body

    def _graph(self, method: str) -> None:
        """The simulated Cloud API and its controls: the graph package answers, bytes in, bytes out."""
        try:
            body = self._raw_body()
        except BadRequest as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc), {"Connection": "close"})
            return
        url = urlsplit(self.path)
        request = graph_http.Request(
            method,
            url.path,
            {name: values[-1] for name, values in parse_qs(url.query).items()},
            {name.lower(): value for name, value in self.headers.items()},
            body,
            f"http://{self.headers.get('Host') or '{}:{}'.format(*self.server.server_address[:2])}",
        )
        try:
            response = graph_http.handle(self.server.graph, request)
        except Exception:
            logger.exception("cloud sim failed on %s %s", method, self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
            return
        self._reply(response.status, Raw(response.content_type, response.body), response.headers)

    def _dispatch(self, method: str) -> None:
        if graph_http.is_graph_path(self.path):
            self._graph(method)
            return
        # Split before unquoting, so an encoded "/" stays inside its segment.
        parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
        try:
            # Read the body even when the route is wrong: an unread body would corrupt the next request
            # on this keep-alive connection.
            body = self._body()
            route = self._route(method, parts)
            if route is None:
                self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {method} {self.path}")
                return
            if isinstance(route, str):
                self._error(HTTPStatus.METHOD_NOT_ALLOWED, f"use {route}", {"Allow": route})
                return
            self._reply(HTTPStatus.OK, route(body))
        except (BadRequest, InvalidInput) as exc:
            headers = {"Connection": "close"} if self.close_connection else None
            problem = exc.problem if isinstance(exc, InvalidInput) else None
            self._error(HTTPStatus.BAD_REQUEST, str(exc), headers, problem)
        except Rejected as exc:
            self._reply(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": {"code": exc.code, "message": exc.code}})
        except NotConnected as exc:
            error = {"code": "not_connected", "message": f"the instance is not connected ({exc.state})"}
            self._reply(HTTPStatus.CONFLICT, {"error": error | {"state": exc.state}})
        except _NotFound as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc))
        except Exception:
            logger.exception("sandbox network failed on %s %s", method, self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    def _route(self, method: str, parts: list[str]) -> Endpoint | str | None:
        """The endpoint for this path, the allowed method (str) if only the method is wrong, or None."""
        allowed: str
        endpoint: Endpoint
        match parts:
            case ["v1", "send"]:
                allowed, endpoint = "POST", self._send
            case ["v1", "poll"]:
                allowed, endpoint = "POST", self._poll
            case ["v1", "ack"]:
                allowed, endpoint = "POST", self._ack
            case ["v1", "reset"]:
                allowed, endpoint = "POST", self._reset
            case ["v1", "health"]:
                allowed, endpoint = "GET", lambda _body: {"ok": True}
            case ["v1", "connect" | "disconnect" | "logout" as action]:
                allowed, endpoint = "POST", lambda body: self._lifecycle(action, body)
            case ["v1", "scan"]:
                allowed, endpoint = "POST", self._scan
            case ["v1", "history", "redeliver"]:
                allowed, endpoint = "POST", self._redeliver_history
            case ["v1", "pairing-code"]:
                allowed, endpoint = "POST", self._pairing_code
            case ["v1", "check"]:
                allowed, endpoint = "POST", self._check
            case ["v1", "inbound"]:
                allowed, endpoint = "POST", self._inbound
            case ["v1", "read"]:
                allowed, endpoint = "POST", self._read
            case ["v1", "settings"]:
                allowed, endpoint = "POST", self._settings
            case ["v1", "call"]:
                allowed, endpoint = "POST", self._call
            case ["v1", "call", "reject" | "end" as action]:
                allowed, endpoint = "POST", lambda body: self._call_action(action, body)
            case ["v1", "accounts", account_id, "instances", instance_id, "settings"] if account_id and instance_id:
                allowed, endpoint = "GET", lambda _body: self.server.network.settings_of(account_id, instance_id)
            case ["v1", "accounts", account_id, "instances", instance_id, "calls"] if account_id and instance_id:
                allowed, endpoint = "GET", lambda _body: {"data": self.server.network.calls(account_id, instance_id)}
            case ["v1", "groups", op] if op in _GROUP_OPS:
                allowed, endpoint = "POST", lambda body: self._group_op(op, body)
            case ["v1", "presence", op] if op in _PRESENCE_OPS:
                allowed, endpoint = "POST", lambda body: self._presence_op(op, body)
            case ["v1", "accounts", account_id, "contacts", phone, "presence"] if account_id and phone:
                allowed, endpoint = "GET", lambda _body: self._contact_presence(account_id, phone)
            case ["v1", "profiles", "own" | "update" | "contact" | "picture" | "set" | "seen" as op]:
                allowed, endpoint = "POST", lambda body: self._profile_op(op, body)
            case ["v1", "media", media_id] if media_id:
                allowed, endpoint = "GET", lambda _body: self._media(media_id)
            case ["v1", "accounts", account_id, "instances", instance_id] if account_id and instance_id:
                allowed, endpoint = "GET", lambda _body: self.server.network.instance(account_id, instance_id)
            case ["v1", "accounts", account_id, "instances", instance_id, "reads"] if account_id and instance_id:
                allowed, endpoint = "GET", lambda _body: {"data": self.server.network.reads(account_id, instance_id)}
            case ["v1", "accounts", account_id, "contacts", phone, "messages"] if account_id and phone:
                allowed, endpoint = "GET", lambda _body: self._messages(account_id, phone)
            case ["v1", "accounts", account_id, "contacts", phone, "sent"] if account_id and phone:
                allowed, endpoint = "GET", lambda _body: self._sent(account_id, phone)
            case _:
                return None
        return endpoint if method == allowed else allowed

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- endpoints ------------------------------------------------------------------------------

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        message = body.get("message")
        if not isinstance(message, dict):
            raise BadRequest("message must be a JSON object")
        return self.server.network.send(
            _str(body, "account_id"),
            _str(body, "instance_id"),
            _jid(body, "to_jid"),
            _str(body, "wa_message_id"),
            message,
        )

    def _poll(self, body: dict[str, Any]) -> dict[str, Any]:
        max_events = body.get("max_events", 100)
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
            raise BadRequest("max_events must be a positive integer")
        wait_seconds = _number(body, "wait_seconds", 0.0)
        if wait_seconds > MAX_WAIT_SECONDS:
            raise BadRequest(f"wait_seconds must be at most {MAX_WAIT_SECONDS:g}")
        events = self.server.network.poll(
            _list_of(body, "instance_ids", str),
            max_events=max_events,
            visibility_timeout=_number(body, "visibility_timeout", 5.0),
            wait_seconds=wait_seconds,
        )
        return {"events": events}

    def _ack(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"acked": self.server.network.ack(_list_of(body, "event_ids", int))}

    def _reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.server.network.reset()
        return {"ok": True}

    def _messages(self, account_id: str, phone: str) -> dict[str, Any]:
        return {"data": self.server.network.received(account_id, _checked_contact(phone))}

    def _sent(self, account_id: str, phone: str) -> dict[str, Any]:
        return {"data": self.server.network.sent_by(account_id, _checked_contact(phone))}

    def _lifecycle(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        network = self.server.network
        account_id, instance_id = _str(body, "account_id"), _str(body, "instance_id")
        if action == "connect":
            phone = _optional_str(body, "phone")
            return network.connect(account_id, instance_id, _checked_contact(phone) if phone else None)
        return getattr(network, action)(account_id, instance_id)

    def _scan(self, body: dict[str, Any]) -> dict[str, Any]:
        phone = _optional_str(body, "phone")
        return self.server.network.scan(
            _str(body, "account_id"),
            _str(body, "instance_id"),
            _checked_contact(phone) if phone else None,
            code=_optional_str(body, "code"),
            push_name=_optional_str(body, "push_name"),
            history=body.get("history"),  # checked by the network
        )

    def _redeliver_history(self, body: dict[str, Any]) -> dict[str, Any]:
        chunk = body.get("chunk", 0)
        if not isinstance(chunk, int) or isinstance(chunk, bool):
            raise BadRequest("chunk must be an integer")
        return self.server.network.redeliver_history(_str(body, "account_id"), _str(body, "instance_id"), chunk)

    def _pairing_code(self, body: dict[str, Any]) -> dict[str, Any]:
        network = self.server.network
        return {"code": network.pairing_code(_str(body, "account_id"), _str(body, "instance_id"), _jid(body, "phone"))}

    def _check(self, body: dict[str, Any]) -> dict[str, Any]:
        results = self.server.network.check_numbers(
            _str(body, "account_id"), _str(body, "instance_id"), _list_of(body, "inputs", str)
        )
        return {"data": results}

    def _inbound(self, body: dict[str, Any]) -> dict[str, Any]:
        content = body.get("content", {})
        if not isinstance(content, dict):
            raise BadRequest("content must be a JSON object")
        wa_message_id = self.server.network.inject_inbound(
            _str(body, "account_id"),
            _str(body, "instance_id"),
            _jid(body, "from"),
            _str(body, "type"),
            content,
            from_me=_bool(body, "from_me"),
            push_name=_optional_str(body, "push_name"),
            wa_message_id=_optional_str(body, "wa_message_id"),
            group=_optional_str(body, "group"),
            group_name=_optional_str(body, "group_name"),
        )
        return {"wa_message_id": wa_message_id}

    def _read(self, body: dict[str, Any]) -> dict[str, Any]:
        self.server.network.mark_read(
            _str(body, "account_id"),
            _str(body, "instance_id"),
            _jid(body, "chat_jid"),
            _list_of(body, "wa_message_ids", str),
            sender_jid=_checked_contact(sender) if (sender := _optional_str(body, "sender_jid")) else None,
        )
        return {"ok": True}

    def _settings(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = body.get("settings")
        if not isinstance(wanted, dict):
            raise BadRequest("settings must be a JSON object")
        return self.server.network.configure(_str(body, "account_id"), _str(body, "instance_id"), wanted)

    def _call(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.server.network.call(
            _str(body, "account_id"), _str(body, "instance_id"), _jid(body, "from"), video=_bool(body, "video")
        )

    def _call_action(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        account_id, instance_id, call_id = _str(body, "account_id"), _str(body, "instance_id"), _str(body, "call_id")
        if action == "reject":
            self.server.network.reject_call(account_id, instance_id, call_id, _jid(body, "caller_jid"))
            return {"ok": True}
        reason = _optional_str(body, "reason") or "hangup"
        return self.server.network.end_call(account_id, instance_id, call_id, reason)

    def _group_op(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        """The groups calls of a worker (and a simulated contact's join): one POST per operation."""
        network = self.server.network
        account_id = _str(body, "account_id")
        if op == "contact-join":
            return network.contact_join(account_id, _jid(body, "phone"), _str(body, "invite_link"))
        instance_id = _str(body, "instance_id")
        match op:
            case "create":
                participants = _list_of(body, "participants", str)
                return network.create_group(account_id, instance_id, _str(body, "subject"), participants)
            case "joined":
                return {"data": network.joined_groups(account_id, instance_id)}
            case "join":
                return network.join_with_link(account_id, instance_id, _str(body, "invite_link"))
        jid = _str(body, "group_jid")
        match op:
            case "info":
                return network.group_info(account_id, instance_id, jid)
            case "update":
                changes = body.get("changes")
                if not isinstance(changes, dict):
                    raise BadRequest("changes must be a JSON object")
                return network.update_group(account_id, instance_id, jid, changes)
            case "participants":
                participants = _list_of(body, "participants", str)
                results = network.update_participants(account_id, instance_id, jid, _str(body, "action"), participants)
                return {"data": results}
            case "invite-link":
                link = network.invite_link(account_id, instance_id, jid, reset=_bool(body, "reset"))
                return {"invite_link": link}
        network.leave_group(account_id, instance_id, jid)
        return {"ok": True}

    def _presence_op(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        """Presence and the blocklist of a worker (and a simulated contact's presence): one POST per operation."""
        network = self.server.network
        account_id, instance_id = _str(body, "account_id"), _str(body, "instance_id")
        match op:
            case "chat":
                network.send_chat_presence(account_id, instance_id, _str(body, "chat_jid"), _str(body, "state"))
                return {"ok": True}
            case "own":
                network.send_presence(account_id, instance_id, _str(body, "state"))
                return {"ok": True}
            case "blocklist":
                return {"data": network.get_blocklist(account_id, instance_id)}
            case "block":
                return network.update_blocklist(account_id, instance_id, _str(body, "jid"), _str(body, "action"))
        chat = _optional_str(body, "chat")
        return network.show_presence(account_id, instance_id, _jid(body, "from"), _str(body, "state"), chat)

    def _contact_presence(self, account_id: str, phone: str) -> dict[str, Any]:
        return {"data": self.server.network.contact_presence(account_id, _checked_contact(phone))}

    def _profile_op(self, op: str, body: dict[str, Any]) -> dict[str, Any] | Raw:
        """Profiles (profiles.py): a worker's own profile, its change, a contact's, a picture's bytes; a test's
        `set` (what a simulated contact shows) and `seen` (what anyone sees of a phone)."""
        network = self.server.network
        account_id = _str(body, "account_id")
        if op in ("set", "seen"):
            phone = _jid(body, "phone")
            if op == "seen":
                return network.profile_seen(account_id, phone)
            changes = body.get("changes")
            if not isinstance(changes, dict):
                raise BadRequest("changes must be a JSON object")
            return network.set_contact_profile(account_id, phone, changes)
        if op == "picture":
            found = network.profile_picture(account_id, _jid(body, "jid"), _str(body, "picture_id"))
            if found is None:
                raise _NotFound("no such picture (the user changed or removed it)")
            return Raw(*found)
        instance_id = _str(body, "instance_id")
        if op == "own":
            return network.own_profile(account_id, instance_id)
        if op == "contact":
            return network.contact_profile(account_id, instance_id, _jid(body, "jid"))
        changes = body.get("changes")
        if not isinstance(changes, dict):
            raise BadRequest("changes must be a JSON object")
        return network.update_profile(account_id, instance_id, changes)

    def _media(self, media_id: str) -> Raw:
        found = self.server.network.media(media_id)
        if found is None:
            raise _NotFound(f"no media {media_id!r} (gone once its event is acked)")
        return Raw(*found)


def serve_network(
    network: SandboxNetwork, host: str = "127.0.0.1", port: int = 0, graph: GraphSim | None = None
) -> tuple[SandboxHTTPServer, threading.Thread]:
    """Serve the network (and the simulated Cloud API: `graph`, else one without a callback URL) on daemon
    threads; port 0 picks a free port (read server.server_address).

    Stop it with server.shutdown(); server.server_close().
    """
    server = SandboxHTTPServer((host, port), network, graph)
    server.pump.start()
    # A short poll interval: shutdown() waits for it, and tests start and stop many servers.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-network", daemon=True
    )
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The bzapper sandbox WhatsApp network.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed at start)")
    parser.add_argument("--delivered-after", type=float, default=0.2, help="seconds until 'delivered'")
    parser.add_argument("--read-after", type=float, default=0.6, help="seconds until 'read'")
    parser.add_argument("--restricted-for", type=float, default=60.0, help="seconds a 463 restriction lasts")
    parser.add_argument("--qr-interval", type=float, default=20.0, help="seconds each QR lives")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every delay")
    parser.add_argument(
        "--cloud-callback-url",
        default=settings().local.sandbox_cloud_callback_url,
        help="where the simulated Cloud API posts its signed webhooks (env BZ_SANDBOX_CLOUD_CALLBACK_URL)",
    )
    args = parser.parse_args(argv)

    network = SandboxNetwork(
        delivered_after=args.delivered_after,
        read_after=args.read_after,
        restricted_for=args.restricted_for,
        qr_interval=args.qr_interval,
        time_scale=args.time_scale,
    )
    graph = GraphSim(callback_url=args.cloud_callback_url, time_scale=args.time_scale)
    server, thread = serve_network(network, args.host, args.port, graph)
    host, port = server.server_address[:2]
    # One line a launcher can parse to learn the port when it asked for port 0.
    print(f"sandbox network listening on http://{host}:{port}", flush=True)
    # SIGTERM ends the process as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
