"""Lambda entry point of the `stream` endpoint group (API Gateway HTTP API, payload v2)."""

from bzapper.api.apps import create_app
from bzapper.lambda_entry import http_handler

app = create_app("stream")
handler = http_handler(app)
