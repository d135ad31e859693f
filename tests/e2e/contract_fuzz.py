"""Contract fuzzing: schemathesis drives every operation of openapi.yaml against a booted local stack.

Run by tests/e2e/test_contract_fuzz.py inside a network namespace of its own (loopback only), so no
URL the fuzzer invents (a webhook endpoint, say) can send anything off this machine. Not collected on
its own (no `test_` prefix).

With the stack's test key, schemathesis generates valid and invalid requests (bodies, parameters,
headers, missing auth, wrong methods) and checks every answer: no 5xx; the status code is documented;
the content type and the required headers are as documented; the body conforms to the documented
schema; invalid input is refused; authentication is enforced; `Allow` is right. Where the API and the
contract disagreed, the wrong side was fixed: the API (each fix has its own regression test beside the code
it fixed), or a schema looser than what the API validates (tightened; the API is never loosened to match).

Schema-valid input must be accepted: a 4xx other than 401, 403, 404, 409 or 429 for a request the contract
calls valid fails the run. schemathesis' `positive_data_acceptance` is replaced by contract_fuzz_checks.py
(loaded with SCHEMATHESIS_HOOKS), which excuses exactly the rules JSON Schema cannot state (a phone number
that exists in the numbering plan, an opaque cursor we issued, a time range in order, a URL that resolves),
each listed there with why and answered by the API with the documented 422 `validation_failed` + `param`.

The event stream (`GET /stream`) is fuzzed too: schemathesis reads at most STREAM_EVENTS events or
STREAM_SECONDS of it and checks each event against the contract's `itemSchema`; a real event id is injected
as `Last-Event-ID` so that it replays events instead of waiting for new ones.

Bounded for CI: BZ_FUZZ_EXAMPLES per operation (default 40) and a fixed seed (BZ_FUZZ_SEED), so a run
is reproducible; raise both locally to search deeper.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import requests
import yaml
from support.fuzz_output import failures_first
from support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
MAX_EXAMPLES = int(os.environ.get("BZ_FUZZ_EXAMPLES", "40"))
SEED = os.environ.get("BZ_FUZZ_SEED", "20261124")
SANDBOXED = os.environ.get("BZ_FUZZ_SANDBOXED") == "1"
CHECKS = Path(__file__).with_name("contract_fuzz_checks.py")
STREAM_EVENTS = 3
STREAM_SECONDS = 2
"""A stream ends when it has sent STREAM_EVENTS events, or after STREAM_SECONDS (it never ends by itself)."""

# Recipients the sandbox network knows (delivered, read, offline, not on WhatsApp, a JID, a LID), so the
# fuzzer reaches the send path beyond phone-number validation most of the time.
PHONES = [
    "+5511988888888",
    "+55 11 97777-0001",
    "5511988880002@s.whatsapp.net",
    "+5511900000123",
    "123456789012345@lid",
]


def streaming_operations(document: dict) -> list[str]:
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if any("text/event-stream" in r.get("content", {}) for r in operation.get("responses", {}).values())
    ]


def send_with_event(stack: Stack) -> tuple[str, str]:
    """A message sent (to fuzz reads of a real one) and the id of its first event, read live off GET /stream
    (a stream starts at the log's end, so it is opened before the send)."""
    with requests.get(f"{stack.base_url}/stream", headers=stack.auth, stream=True, timeout=30) as stream:
        sent = stack.send(client_reference="fuzz-seed")
        assert sent.status_code == 202, sent.text
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("id: "):
                return sent.json()["message_id"], line.removeprefix("id: ")
    raise AssertionError("the stream ended before the seed message's first event")


def url_operations(document: dict) -> list[str]:
    """Operations whose body takes a URL we would call (webhook endpoints)."""
    schemas = document["components"]["schemas"]
    found = []
    for item in document["paths"].values():
        for operation in item.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            name = body.get("$ref", "").rsplit("/", 1)[-1]
            if "url" in schemas.get(name, {}).get("properties", {}):
                found.append(operation["operationId"])
    return found


def endpoint_operations(document: dict) -> list[str]:
    """The URL operations that register a webhook endpoint (the others download a file from theirs)."""
    webhooks = [
        op["operationId"]
        for path, item in document["paths"].items()
        if path.startswith("/webhooks")
        for op in item.values()
    ]
    return [operation_id for operation_id in url_operations(document) if operation_id in webhooks]


@pytest.fixture(scope="module")
def webhook_sink():
    """A loopback endpoint that accepts every delivery, so webhooks the fuzzer registers can be called."""

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/bzapper"
    server.shutdown()


def toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def config(stack: Stack, message_id: str, event_id: str, sink: str, disabled: list[str], document: dict) -> str:
    lines = [
        f"base-url = {toml(stack.base_url)}",
        f"headers = {{ Authorization = {toml('Bearer ' + stack.key)} }}",
        "request-timeout = 20",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        "[checks.positive_data_acceptance]",  # replaced by contract_fuzz_checks.py (the rules it cannot know)
        "enabled = false",
        "[dictionaries.instances]",
        f"values = [{toml(stack.instance_id)}]",
        "[dictionaries.messages]",
        f"values = [{toml(message_id)}]",
        "[dictionaries.phones]",
        f"values = [{', '.join(toml(phone) for phone in PHONES)}]",
        "[dictionaries.endpoints]",
        f"values = [{toml(sink)}]",
        "[dictionaries.events]",
        f"values = [{toml(event_id)}]",
        "[parameters]",
        '"body.instance_id" = { dictionary = "instances", probability = 0.8 }',
        '"query.instance_id" = { dictionary = "instances", probability = 0.5 }',
        '"path.message_id" = { dictionary = "messages", probability = 0.5 }',
        '"body.to" = { dictionary = "phones", probability = 0.7 }',
        '"path.phone" = { dictionary = "phones", probability = 0.5 }',
        '"header.Last-Event-ID" = { dictionary = "events", probability = 0.5 }',
        '"query.last_event_id" = { dictionary = "events", probability = 0.5 }',
    ]
    for operation_id in endpoint_operations(document):  # the sink as a webhook's URL, not as a file to download
        lines += ["[[operations]]", f"include-operation-id = {toml(operation_id)}"]
        lines += ["[operations.parameters]", '"body.url" = { dictionary = "endpoints", probability = 0.7 }']
    for operation_id in streaming_operations(document):
        lines += ["[[operations]]", f"include-operation-id = {toml(operation_id)}"]
        lines += [f"max-stream-events = {STREAM_EVENTS}", f"request-timeout = {STREAM_SECONDS}"]
    for operation_id in disabled:
        lines += ["[[operations]]", f"include-operation-id = {toml(operation_id)}", "enabled = false"]
    return "\n".join(lines) + "\n"


def test_every_operation_honours_the_contract_under_generated_input(stack: Stack, webhook_sink: str, tmp_path):
    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    operations = sum(1 for item in document["paths"].values() for method in item)
    disabled = []
    if not SANDBOXED:  # no namespace to keep invented URLs on this machine: leave those operations out
        disabled += url_operations(document)
    message_id, event_id = send_with_event(stack)
    # A message with a history, so GET /messages/{message_id} is fuzzed on a real one too.
    stack.wait_for_status(message_id, "sent")

    settings = tmp_path / "schemathesis.toml"
    settings.write_text(config(stack, message_id, event_id, webhook_sink, disabled, document))
    command = [SCHEMATHESIS, "--config-file", str(settings), "--no-color", "run", str(ROOT / "openapi.yaml")]
    command += ["--seed", SEED, "--workers", "1"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(CHECKS)}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    print(output[-3000:])  # the summary, shown by the outer test
    assert result.returncode == 0, failures_first(output)
    assert f"Tested: {operations - len(disabled)}" in output, output[-5000:]
    # Still standing (and the stack fixture's teardown checks that it logged no traceback).
    assert requests.get(f"{stack.base_url}/health", timeout=10).status_code == 200
