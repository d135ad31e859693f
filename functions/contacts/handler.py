"""Lambda entry point of the `contacts` endpoint group (API Gateway HTTP API, payload v2)."""

from bzapper.api.apps import create_app
from bzapper.lambda_entry import http_handler

app = create_app("contacts")
handler = http_handler(app)
