"""The simulated Graph API on HTTP, framework-free: one function from a request to a response.

The sandbox network server (server.py) calls `handle` for every path under `/graph` and `/graph-sim`, and
`transport()` wraps it as an httpx transport, so tests (ours and the cloud engine's) drive the sim through a
real HTTP client without a socket. Meta's endpoints answer Meta's shapes and errors; the controls under
`/graph-sim` answer the sandbox network's error shape ({"error": {"code", "message"}}).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from bzapper_dev.sandbox.graph.model import ControlError, GraphError, GraphSim, invalid_parameter

VERSION = re.compile(r"^v\d+\.\d+$")
JSON_TYPE = "application/json; charset=UTF-8"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as received, without the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # scheme://host[:port] the client reached the sim at (media URLs point back to it)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode())


def is_graph_path(path: str) -> bool:
    first = urlsplit(path).path.strip("/").split("/", 1)[0]
    return first in ("graph", "graph-sim")


def handle(sim: GraphSim, request: Request) -> Response:
    # Split before unquoting, so an encoded "/" stays inside its segment.
    parts = [unquote(p) for p in request.path.strip("/").split("/")]
    if parts and parts[-1] == "" and len(parts) > 1:
        parts = parts[:-1]
    if parts[0] == "graph-sim":
        try:
            return _control(sim, request, parts[1:])
        except ControlError as exc:
            return _json(exc.status, {"error": {"code": exc.code, "message": exc.message}})
    try:
        return _graph(sim, request, parts[1:])
    except GraphError as exc:
        return _json(exc.status, exc.body(sim.trace_id()))


# -- Meta's endpoints --------------------------------------------------------------------------------------


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return request.query.get("access_token") or None


def _json_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in content_type:
        # Graph accepts form fields too; objects travel JSON-encoded inside them.
        fields = {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
        return {k: _maybe_json(v) for k, v in fields.items()}
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise invalid_parameter("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid_parameter("the body must be a JSON object")
    return body


def _maybe_json(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _multipart(request: Request) -> dict[str, tuple[str | None, str | None, bytes]]:
    """name -> (filename, content type, bytes) of a multipart/form-data body."""
    content_type = request.headers.get("content-type", "")
    if "multipart/form-data" not in content_type:
        raise invalid_parameter("upload media as multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + request.body
    )
    if not message.is_multipart():
        raise invalid_parameter("the multipart body cannot be read")
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            parts[name] = (part.get_filename(), part.get_content_type() if part.get("content-type") else None, data)
    return parts


def _unknown_path(request: Request) -> GraphError:
    return GraphError(400, 2500, f"Unknown path components: {request.path}")


def _graph(sim: GraphSim, request: Request, parts: list[str]) -> Response:
    method = request.method
    if parts[:2] == ["whatsapp_business", "attachments"] and method == "GET":
        sim.check_token(_token(request))
        found = sim.download(request.query.get("mid", ""), request.query.get("hash", ""))
        if found is None:
            return Response(404, b"Not Found", "text/plain")
        return Response(200, found[1], found[0])
    if len(parts) < 2 or not VERSION.match(parts[0]):
        raise _unknown_path(request)
    token = sim.check_token(_token(request))
    match method, parts[1:]:
        case "GET", [object_id] if object_id:
            if sim.is_media(object_id):
                return _json(200, sim.media_info(object_id, request.base_url))
            return _json(200, sim.node(object_id, token, request.query.get("fields")))
        case "DELETE", [object_id] if object_id:
            return _json(200, sim.delete_media(object_id))
        case "POST", [phone_number_id, "messages"]:
            return _json(200, sim.send(phone_number_id, token, _json_body(request)))
        case "POST", [phone_number_id, "media"]:
            return _json(200, _upload(sim, phone_number_id, token, request))
        case "GET", [waba_id, "message_templates"]:
            return _json(200, sim.list_templates(waba_id, token, request.query))
        case "POST", [waba_id, "message_templates"]:
            return _json(200, sim.create_template(waba_id, token, _json_body(request)))
        case "GET", [waba_id, "phone_numbers"]:
            return _json(200, sim.waba_phone_numbers(waba_id, token))
    raise _unknown_path(request)


def _upload(sim: GraphSim, phone_number_id: str, token: str, request: Request) -> dict[str, Any]:
    parts = _multipart(request)
    product = parts.get("messaging_product")
    if product is None or product[2].decode(errors="replace") != "whatsapp":
        raise invalid_parameter("messaging_product must be whatsapp")
    file = parts.get("file")
    if file is None:
        raise GraphError(400, 100, "(#100) The parameter file is required.")
    declared = parts.get("type")
    mime_type = declared[2].decode(errors="replace") if declared else (file[1] or "")
    if "/" not in mime_type:
        raise invalid_parameter("type must be the file's MIME type")
    answer: dict[str, Any] = sim.upload(phone_number_id, token, mime_type, file[2])
    return answer


# -- the test controls ---------------------------------------------------------------------------------------


def _control_body(request: Request) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ControlError(400, "bad_request", "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "bad_request", "body must be a JSON object")
    return body


def _control(sim: GraphSim, request: Request, parts: list[str]) -> Response:
    method = request.method
    match method, parts:
        case "POST", ["numbers", phone_number_id, "inbound"] if phone_number_id:
            return _json(200, sim.inbound(phone_number_id, _control_body(request)))
        case "GET", ["numbers", phone_number_id] if phone_number_id:
            return _json(200, sim.number_state(phone_number_id))
        case "POST", ["numbers", phone_number_id] if phone_number_id:
            return _json(200, sim.provision(phone_number_id, _control_body(request)))
        case "GET", ["numbers", phone_number_id, "messages"] if phone_number_id:
            return _json(200, {"data": sim.sent_by(phone_number_id)})
        case "GET", ["clock"]:
            return _json(200, sim.clock_state())
        case "POST", ["clock"]:
            seconds = _control_body(request).get("advance_seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ControlError(400, "bad_request", "advance_seconds must be a non-negative number")
            return _json(200, sim.advance(float(seconds)))
        case "GET", ["webhooks"]:
            query = request.query
            try:
                after = int(query.get("after") or 0)
            except ValueError:
                raise ControlError(400, "bad_request", "after must be a webhook id") from None
            found = sim.webhooks(query.get("phone_number_id") or None, query.get("field") or None, after)
            return _json(200, {"data": found})
        case "POST", ["webhooks", webhook_id, "redeliver"]:
            if not webhook_id.isdigit():
                raise ControlError(404, "not_found", f"no webhook {webhook_id}")
            return _json(200, sim.redeliver(int(webhook_id)))
        case "POST", ["templates", template_id, "status"]:
            body = _control_body(request)
            status, reason = body.get("status"), body.get("reason")
            if not isinstance(status, str) or (reason is not None and not isinstance(reason, str)):
                raise ControlError(400, "bad_request", "status (and reason, if given) must be strings")
            return _json(200, sim.set_template_status(template_id, status, reason))
        case "GET", ["config"]:
            return _json(200, sim.config())
        case "POST", ["config"]:
            body = _control_body(request)
            url = body.get("callback_url")
            if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
                raise ControlError(400, "bad_request", "callback_url must be an http(s) URL or null")
            return _json(200, sim.set_callback(url))
        case "POST", ["reset"]:
            sim.reset()
            return _json(200, {"ok": True})
    raise ControlError(404, "not_found", f"no such endpoint: {method} {request.path}")


# -- an httpx transport (tests, no socket) -----------------------------------------------------------------


def transport(sim: GraphSim) -> httpx.MockTransport:
    """The sim as an httpx transport: `httpx.Client(transport=transport(sim), base_url="http://sim.test")`."""

    def answer(request: httpx.Request) -> httpx.Response:
        url = request.url
        base = f"{url.scheme}://{url.netloc.decode()}"
        ours = Request(
            request.method,
            url.path,
            {k: v for k, v in url.params.multi_items()},
            {k.lower(): v for k, v in request.headers.items()},
            request.read(),
            base,
        )
        if not is_graph_path(url.path):
            return httpx.Response(
                404, json={"error": {"code": "not_found", "message": f"no such endpoint: {url.path}"}}
            )
        result = handle(sim, ours)
        return httpx.Response(
            result.status, content=result.body, headers={"Content-Type": result.content_type, **result.headers}
        )

    return httpx.MockTransport(answer)
