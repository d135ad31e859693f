"""The sandbox WhatsApp network over HTTP: JSON in, JSON out, stdlib only.

It runs in its own thread or process, apart from the session worker, so the simulated world outlives
a worker crash. Standalone: python -m bzapper.engines.sandbox.server --port 8765
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from bzapper.engines.sandbox.network import MAX_WAIT_SECONDS, Rejected, SandboxNetwork, contact_key

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024

Endpoint = Callable[[dict[str, Any]], dict[str, Any]]


class BadRequest(Exception):
    """The request is malformed: answered with a 400, never a 500."""


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


class SandboxHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its network; one thread per connection, so long polls do not block."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], network: SandboxNetwork) -> None:
        self.network = network
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive: the client reuses one connection for every call.
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests and the local stack would drown in one line per poll."""

    # -- plumbing -------------------------------------------------------------------------------

    def _reply(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except ConnectionError:
            # The client left (a long poll it gave up on): nobody to tell.
            self.close_connection = True

    def _error(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None) -> None:
        code = status.phrase.lower().replace(" ", "_")
        self._reply(status, {"error": {"code": code, "message": message}}, headers)

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            # The body stays unread, so the stream holds no trustworthy next request.
            self.close_connection = True
            raise BadRequest(f"Content-Length must be a number of bytes up to {MAX_BODY_BYTES}")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadRequest("body must be a JSON object")
        return body

    def _dispatch(self, method: str) -> None:
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
        except BadRequest as exc:
            headers = {"Connection": "close"} if self.close_connection else None
            self._error(HTTPStatus.BAD_REQUEST, str(exc), headers)
        except Rejected as exc:
            self._reply(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": {"code": exc.code, "message": exc.code}})
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
            case ["v1", "accounts", account_id, "contacts", phone, "messages"] if account_id and phone:
                allowed, endpoint = "GET", lambda _body: self._messages(account_id, phone)
            case _:
                return None
        return endpoint if method == allowed else allowed

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

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


def serve_network(
    network: SandboxNetwork, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve the network on a daemon thread; port 0 picks a free port (read server.server_address).

    Stop it with server.shutdown(); server.server_close().
    """
    server = SandboxHTTPServer((host, port), network)
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
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies both delays")
    args = parser.parse_args(argv)

    network = SandboxNetwork(
        delivered_after=args.delivered_after, read_after=args.read_after, time_scale=args.time_scale
    )
    server, thread = serve_network(network, args.host, args.port)
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
