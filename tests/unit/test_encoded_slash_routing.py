"""F14: an encoded slash (`%2F`) stays inside its path parameter, as API Gateway routes it: locally (the gateway
reads uvicorn's raw path) and on Lambda (Mangum reads the event's decoded path). No sockets."""

from __future__ import annotations

import asyncio
from typing import Any

from bzapper.lambda_entry import http_handler
from bzapper.paths import routing_path
from bzapper_dev.local.gateway import LocalGateway
from bzapper_dev.local.lambda_events import http_event


def test_the_routing_path_decodes_everything_but_an_encoded_slash():
    assert routing_path("/instances/inst_1%2Fqr") == "/instances/inst_1%2Fqr"
    assert routing_path("/groups/1203%40g.us/leave") == "/groups/1203@g.us/leave"
    assert routing_path("/messages/msg_%2f..%2F..%2Fkeys") == "/messages/msg_%2F..%2F..%2Fkeys"
    assert routing_path("/conversations/caf%C3%A9") == "/conversations/café"


class Recorder:
    """An ASGI app that answers 204 and remembers the path it was asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _through_gateway(gateway: LocalGateway, decoded: str, raw: bytes) -> None:
    scope = {"type": "http", "method": "GET", "path": decoded, "raw_path": raw, "headers": [], "query_string": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    asyncio.run(gateway(scope, receive, send))


def test_the_local_gateway_routes_the_raw_path_like_api_gateway():
    apps = {group: Recorder() for group in ("instances", "platform", "messages")}
    gateway = LocalGateway(apps)
    # uvicorn hands over `/instances/inst_1/qr` (decoded): that is the QR route, not API Gateway's choice.
    _through_gateway(gateway, "/instances/inst_1/qr", b"/instances/inst_1%2Fqr")
    assert apps["instances"].paths == ["/instances/inst_1%2Fqr"]
    _through_gateway(gateway, "/instances/inst_1/qr", b"/instances/inst_1/qr")
    assert apps["instances"].paths[-1] == "/instances/inst_1/qr"


def test_a_lambda_event_with_an_encoded_slash_reaches_the_app_undecoded():
    app = Recorder()
    handler = http_handler(app)
    event = http_event("GET", "/instances/inst_1%2Fqr")
    event["requestContext"]["http"]["path"] = "/instances/inst_1/qr"  # decoded, as Mangum would otherwise use it

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "f", 128, "r"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"

    assert handler(event, Context())["statusCode"] == 204
    assert app.paths == ["/instances/inst_1%2Fqr"]
