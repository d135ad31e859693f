"""OTP codes through the whole booted stack, then a search for them everywhere the stack keeps anything.

Five codes: one the API generates, one whose code bubble the phone's own device echoes back (the sandbox's
echo range), one with its own text and an Idempotency-Key retried, one whose job fails into the priority
lane's dead-letter queue, and one the phone's owner types and sends from the phone. Then every DynamoDB
item, S3 object, queued message (dead-letter queues too), log file, inbox page, `GET /messages/{id}`,
stream event and webhook delivery is searched for each code: as digits, as hex, and inside base64 (an SQS
body, a binary attribute, an encoded job). Only the simulated phones, the outside world, have them.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
import requests
from support.leaks import dynamodb_items, leaks, s3_objects, sqs_messages, where
from support.stack import Stack

from bzapper.domain.inbox import OTP_MASK
from bzapper.topology import HELD_RECEIVES, SHARD_COUNT, priority_queue_name

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("otp")]

ORDINARY = "+5511988881001"
ECHOED = "+5511900008101"  # the phone's own device shows what was sent (fromMe echoes)
WITH_TEXT = "+5511988881003"
RESTRICTS = "+5511900004101"  # WhatsApp answers 463: the send is held, then dies into the DLQ
TYPED_TO = "+5511988881004"


class Receiver:
    """A customer's webhook endpoint on loopback: keeps every delivery's bytes."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict]:
        return [json.loads(body) for body in list(self.bodies)]

    def close(self) -> None:
        self.server.shutdown()


class Stream:
    """GET /stream on a thread, every event type, as raw text."""

    def __init__(self, stack: Stack) -> None:
        self.lines: list[str] = []
        self.response = requests.get(f"{stack.base_url}/stream", headers=stack.auth, stream=True, timeout=300)
        assert self.response.status_code == 200
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                self.lines.append(line)
        except Exception:  # closed under the reader: the stream simply ends
            pass

    def close(self) -> None:
        self.response.close()


def _api(stack: Stack, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{stack.base_url}{path}", headers=stack.auth, timeout=30, **kwargs)


def _until(check, timeout: float = 90, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(every)


def _otp(stack: Stack, headers: dict | None = None, **body) -> dict:
    answer = requests.post(
        f"{stack.base_url}/messages/otp", json=body, headers={**stack.auth, **(headers or {})}, timeout=30
    )
    assert answer.status_code == 202, answer.text
    return answer.json()


def _aws(stack: Stack, service: str):
    env = stack.env
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _received(stack: Stack, phone: str) -> list[dict]:
    answer = _api(stack, "GET", f"/sandbox/contacts/{quote(phone)}/messages")
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def _thread(stack: Stack, instance_id: str, phone: str) -> list[dict]:
    answer = _api(stack, "GET", f"/conversations/{quote(phone)}/messages", params={"instance_id": instance_id})
    return answer.json()["data"] if answer.status_code == 200 else []


def _pages(stack: Stack, path: str, params: dict) -> list[str]:
    """Every page of a listing, as text."""
    pages, cursor = [], None
    while True:
        answer = _api(stack, "GET", path, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        pages.append(answer.text)
        cursor = answer.json().get("next_cursor")
        if not cursor:
            return pages


def _settled_deliveries(stack: Stack, hook_id: str, received: int) -> str | None:
    """The deliveries page (one page, up to 100) once it holds at least `received` deliveries, none still in
    flight (the dispatcher records an attempt after the receiver answered it)."""
    answer = _api(stack, "GET", f"/webhooks/{hook_id}/deliveries", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["data"]
    settled = len(rows) >= received and all(row["status"] in ("delivered", "failed") for row in rows)
    return answer.text if settled else None


def _redrive(sqs, max_receive_count: int) -> None:
    """The priority lanes' redrive policy: how many receives a job gets before its dead-letter queue."""
    for shard in range(SHARD_COUNT):
        name = f"bzapper-local-{priority_queue_name(shard)}"
        url = sqs.get_queue_url(QueueName=f"{name}.fifo")["QueueUrl"]
        dlq = sqs.get_queue_url(QueueName=f"{name}-dlq.fifo")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receive_count})
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})


def _everything(stack: Stack, instances: list[str], message_ids: list[str], extra: dict) -> dict[str, str | bytes]:
    """What the stack keeps and shows, by place."""
    places: dict[str, str | bytes] = {}
    places.update(dynamodb_items(_aws(stack, "dynamodb")))
    places.update(s3_objects(_aws(stack, "s3")))
    places.update(sqs_messages(_aws(stack, "sqs")))
    logs = [path for path in stack.state_dir.rglob("*") if path.is_file()]
    logs.append(stack.state_dir.parent / "dev.log")
    for path in logs:
        places[f"file:{path.name}"] = Path(path).read_bytes()
    for instance_id in instances:
        for index, page in enumerate(_pages(stack, "/conversations", {"instance_id": instance_id})):
            places[f"inbox:{instance_id}:{index}"] = page
            for conversation in json.loads(page)["data"]:
                path = f"/conversations/{quote(conversation['jid'])}/messages"
                for number, thread in enumerate(_pages(stack, path, {"instance_id": instance_id})):
                    places[f"thread:{conversation['jid']}:{number}"] = thread
    for message_id in message_ids:
        places[f"message:{message_id}"] = _api(stack, "GET", f"/messages/{message_id}").text
    places.update(extra)
    return places


def test_no_code_is_kept_anywhere_but_on_the_recipients_phone(stack: Stack):
    sqs = _aws(stack, "sqs")
    receiver = Receiver()
    hook = _api(stack, "POST", "/webhooks", json={"url": receiver.url})
    assert hook.status_code == 201, hook.text
    stream = Stream(stack)
    given = {name: f"{secrets.randbelow(10**10):010d}" for name in ("echoed", "with_text", "dead", "typed")}
    # The codes chosen for this run are nowhere yet: a match later cannot be a coincidence of old data.
    assert where(_everything(stack, [stack.instance_id], [], {}), given.values()) == []
    try:
        # 1. Generated by the API (10 digits), to an ordinary contact.
        generated = _otp(stack, instance_id=stack.instance_id, to=ORDINARY, length=10, client_reference="login-1")
        codes = {"generated": generated["code"], **given}
        # 2. To a contact whose phone echoes: the code bubble comes back as a fromMe message.
        echoed = _otp(stack, instance_id=stack.instance_id, to=ECHOED, code=given["echoed"])
        # 3. Its own text, retried with the same Idempotency-Key (answered without any code).
        retry = {"Idempotency-Key": f"login-{secrets.token_hex(4)}"}
        request = {"to": WITH_TEXT, "code": given["with_text"], "body": "Acme: seu código chegou.", "ttl_seconds": 300}
        with_text = _otp(stack, headers=retry, **request)
        assert _otp(stack, headers=retry, **request) == with_text and "code" not in with_text
        # 4. Typed on the phone itself and sent from there (a fromMe message the API did not send).
        typed = _api(
            stack,
            "POST",
            f"/sandbox/instances/{stack.instance_id}/inbound",
            json={"from": TYPED_TO, "from_me": True, "type": "text", "body": given["typed"]},
        )
        assert typed.status_code == 202, typed.text

        for accepted in (generated, echoed, with_text):
            stack.wait_for_status(accepted["message_id"], "delivered", timeout=90)
        # The echo and the typed code reach the inbox masked, shown as sent from the phone.
        for phone in (ECHOED, TYPED_TO):
            bubble = _until(
                lambda phone=phone: [m for m in _thread(stack, stack.instance_id, phone) if m["sent_from"] == "phone"]
            )
            assert bubble[0]["content"] == {"body": OTP_MASK}

        # 5. A send that dies: WhatsApp restricts the number, the lane gives up after one receive (an
        # operator's setting for this test), the job reaches the dead-letter queue and fails there.
        created = _api(stack, "POST", "/instances", json={"name": "Dies", "engine": "sandbox"})
        assert created.status_code == 201, created.text
        doomed = created.json()["id"]
        _until(lambda: _api(stack, "GET", f"/instances/{doomed}").json()["status"] == "pairing")
        assert _api(stack, "POST", f"/sandbox/instances/{doomed}/scan", json={}).status_code == 200
        _until(lambda: _api(stack, "GET", f"/instances/{doomed}").json()["status"] == "connected")
        _redrive(sqs, 1)
        try:
            dead = _otp(stack, instance_id=doomed, to=RESTRICTS, code=given["dead"])
            failed = _until(
                lambda: (m := _api(stack, "GET", f"/messages/{dead['message_id']}").json())["status"] == "failed" and m,
                timeout=150,
            )
        finally:
            _redrive(sqs, HELD_RECEIVES)
        assert failed["error"] == {"code": "send_failed"}

        # Every event reached the webhook: the dead job's failure and the masked echoes included.
        _until(
            lambda: (
                {e["data"].get("message_id") for e in receiver.events() if e["type"] == "message.failed"}
                >= {dead["message_id"]}
                and sum(e["type"] == "message.received" for e in receiver.events()) >= 2
            )
        )

        # The outside world has them: each recipient's phone got the text, then the code alone.
        phones = {ORDINARY: codes["generated"], ECHOED: codes["echoed"], WITH_TEXT: codes["with_text"]}
        for phone, code in phones.items():
            text, bubble = (item["message"] for item in _received(stack, phone))
            assert bubble == {"type": "text", "body": code}
            assert code not in text["body"]
        assert _received(stack, RESTRICTS) == []
        # ... and the search would find a code where one is: the phones' view is the control.
        assert all(leaks(json.dumps(_received(stack, phone)), code) for phone, code in phones.items())

        # The last events settled into the stream and the deliveries' records before the search looks there.
        _until(
            lambda: (
                any(OTP_MASK in line for line in stream.lines)
                and any('"message.failed"' in line and dead["message_id"] in line for line in stream.lines)
            )
        )
        delivered = {event["id"] for event in receiver.events()}
        deliveries = _until(lambda: _settled_deliveries(stack, hook.json()["id"], min(len(delivered), 100)))
        extra = {
            "stream": "\n".join(stream.lines),
            "webhooks": b"\n".join(receiver.bodies),
            "deliveries": deliveries,
            "accepted": json.dumps([echoed, with_text, dead]),
        }
        ids = [m["message_id"] for m in (generated, echoed, with_text, dead)]
        places = _everything(stack, [stack.instance_id, doomed], ids, extra)
        assert any(name.startswith("file:") and name.endswith(".log") for name in places)
        queues = {name for name in places if name.startswith("sqs:") and name.count(":") == 1}
        assert {f"sqs:bzapper-local-{priority_queue_name(s)}-dlq.fifo" for s in range(SHARD_COUNT)} <= queues
        assert where(places, codes.values()) == []
        # The stack's sealing key is in its processes' environment only: in no file, log or table either.
        worker_env = Path(f"/proc/{stack.worker_pid()}/environ").read_bytes().split(b"\0")
        key = dict(item.decode().split("=", 1) for item in worker_env if b"=" in item)["BZ_OTP_LOCAL_KEY"]
        assert len(base64.b64decode(key)) == 32
        assert [place for place, blob in places.items() if leaks(blob, key)] == []
        assert sum(e["type"] == "message.received" for e in receiver.events()) >= 2
        assert any(OTP_MASK in line for line in stream.lines)
    finally:
        stream.close()
        receiver.close()
