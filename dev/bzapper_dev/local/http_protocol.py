"""The local stack's HTTP parser: uvicorn's h11 protocol, except that a request it cannot parse (a NUL byte in a
header, a broken request line) is refused in the API's error shape instead of uvicorn's plain text, as every
other error is. On AWS, API Gateway parses HTTP before any of our code runs."""

from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from bzapper.api.errors import error_bytes
from bzapper.domain.errors import BzError
from bzapper.domain.ids import new_id


class ApiShapedH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        # The request could not be parsed, so neither its language nor its path is known: English, a fresh id.
        request_id = new_id("req")
        payload = error_bytes(BzError("bad_request", message_key="error.malformed_http"), "en", request_id)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"x-request-id", request_id.encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers), h11.Data(data=payload), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()
