"""Finding a secret (an OTP code) in whatever a system keeps: as digits, in JSON, or inside base64."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")


def leak_forms(code: str) -> list[str]:
    """The code as digits, as hex, and as base64 (standard and URL-safe) at each of the 3 byte alignments:
    only the characters that depend on the code alone, so it is found whatever surrounds it."""
    forms = [code, code.encode().hex()]
    for prefix in (b"", b"x", b"xy"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(prefix + code.encode()).decode().rstrip("=")
            start = {0: 0, 1: 2, 2: 3}[len(prefix)]
            forms.append(text[start : len(text) - 2])
    return forms


def _decoded(text: str, depth: int) -> Iterable[str]:
    """Every base64 run in `text`, decoded, and what those hold in turn (a job inside an envelope)."""
    if depth == 0:
        return
    for run in _BASE64_RUN.findall(text):
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                inner = decode(run + "=" * (-len(run) % 4)).decode("utf-8", "ignore")
            except (ValueError, binascii.Error):
                continue
            yield inner
            yield from _decoded(inner, depth - 1)


def leaks(text: str | bytes, code: str) -> bool:
    """Whether `text` holds the code in any of its forms, also inside base64 it carries (two levels)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "ignore")
    forms = leak_forms(code)
    if any(form in text for form in forms):
        return True
    return any(code in inner for inner in _decoded(text, 2))


def where(blobs: dict[str, str | bytes], codes: Iterable[str]) -> list[tuple[str, str]]:
    """(place, code) for every place that holds one of the codes."""
    return [(place, code) for place, blob in blobs.items() for code in codes if leaks(blob, code)]


# --- What a stack keeps, as text (moto in-process, or the local stack's moto server) -------------------------


def dynamodb_items(dynamodb) -> dict[str, str]:
    """Every item of every table, as the service returns it (typed JSON; binaries as base64)."""
    import json

    found = {}
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for index, item in enumerate(page["Items"]):
                found[f"dynamodb:{table}:{len(found)}:{index}"] = json.dumps(item, default=_plain)
    return found


def s3_objects(s3) -> dict[str, bytes]:
    found = {}
    for bucket in s3.list_buckets().get("Buckets", []):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for entry in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=entry["Key"])["Body"].read()
                found[f"s3:{bucket['Name']}/{entry['Key']}"] = entry["Key"].encode() + b"\n" + body
    return found


def sqs_messages(sqs, rounds: int = 3) -> dict[str, str]:
    """Every message of every queue (DLQs included), peeked: received with a zero visibility timeout, so
    the consumers still get them. A FIFO queue shows one message per group at a time: several rounds."""
    import json

    found = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        found[f"sqs:{url.rsplit('/', 1)[-1]}"] = ""  # looked at, even when empty
        for _ in range(rounds):
            answer = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
            )
            for message in answer.get("Messages", []):
                found[f"sqs:{url.rsplit('/', 1)[-1]}:{message['MessageId']}"] = json.dumps(message, default=_plain)
    return found


def _plain(value):
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    return str(value)
