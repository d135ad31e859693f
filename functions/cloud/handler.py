"""Lambda entry point of the `cloud` endpoint group: Meta's webhooks (API Gateway HTTP API, payload v2)."""

from bzapper.api.apps import create_app
from bzapper.lambda_entry import http_handler

app = create_app("cloud")
handler = http_handler(app)
