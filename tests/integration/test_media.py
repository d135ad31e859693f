"""The media pipeline through the real handlers against moto: uploads (multipart and pre-signed), downloads
(302 to a signed, expiring URL, per account), media by URL (SSRF guard, size cap, sniffing), and the
store the session worker uses for inbound and outbound media."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from support.accounts import Account, make_account
from support.apigw import LambdaContext, call, http_event
from support.media import binary_event, file_server, jpeg, multipart, pad, pdf, png, webp
from support.trickle import TRICKLE_BYTES, trickle_server

from bzapper.adapters import http as http_adapter
from bzapper.adapters.aws.models import MessageModel
from bzapper.config import settings
from bzapper.domain.media import DIRECT_UPLOAD_MAX, DOWNLOAD_URL_SECONDS, UPLOAD_BODY_MAX, MiB
from bzapper.services import media as media_service
from bzapper_dev.local.functions import load_function

TO = "+5511988888888"


@pytest.fixture
def media_handler(aws):
    return load_function("media").handler


@pytest.fixture
def local_urls(monkeypatch):
    """Local mode for customer URLs only: loopback allowed (the test's file server), nothing else."""
    local = dataclasses.replace(settings(), local_mode=True)
    monkeypatch.setattr(http_adapter, "settings", lambda: local)


def _upload(handler, account: Account, content: bytes, filename: str, content_type: str):
    body, header = multipart("file", filename, content, content_type)
    event = binary_event(http_event("POST", "/media", headers=account.auth, raw_body=""), body, header)
    response = handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def _object(key: str) -> dict:
    return boto3.client("s3").get_object(Bucket=settings().bucket("media"), Key=key)


def test_an_upload_is_typed_by_its_bytes_hashed_and_kept_under_the_accounts_prefix(media_handler, svc, account):
    data = png(4, 4)
    status, media = _upload(media_handler, account, data, "photo.jpg", "image/jpeg")  # the name and type lie
    assert status == 201
    assert media["media_id"].startswith("med_")
    assert (media["mime_type"], media["size"], media["filename"]) == ("image/png", len(data), "photo.jpg")
    assert media["sha256"] == hashlib.sha256(data).hexdigest()
    stored = _object(f"{account.account_id}/test/{media['media_id']}")
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "image/png" and stored["Metadata"]["sha256"] == media["sha256"]


def test_upload_limits_empty_too_large_and_over_the_body_limit(media_handler, account):
    status, error = _upload(media_handler, account, b"", "empty.txt", "text/plain")
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "file")
    status, error = _upload(media_handler, account, pad(pdf(), DIRECT_UPLOAD_MAX + 1), "big.pdf", "application/pdf")
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "file")
    status, error = _upload(media_handler, account, pad(pdf(), UPLOAD_BODY_MAX), "bigger.pdf", "application/pdf")
    assert (status, error["code"]) == (413, "payload_too_large")
    # Everything else keeps the small body limit.
    text = {"instance_id": account.instance_id, "to": TO, "body": "x" * 300 * 1024}
    status, _, error = call(
        load_function("messages").handler, "POST", "/messages/text", body=text, headers=account.auth
    )
    assert (status, error["code"]) == (413, "payload_too_large")


def test_two_file_parts_are_refused_and_nothing_is_stored(media_handler, svc, account):
    """F13: two `file` parts made one media of one of them; now a 422 on `file`, as a JSON key given twice is."""
    one, header = multipart("file", "a.png", png(2, 2), "image/png")
    boundary = header.split("boundary=")[1]
    part = one[: one.rindex(f"--{boundary}--".encode())]
    body = part + part + f"--{boundary}--\r\n".encode()
    event = binary_event(http_event("POST", "/media", headers=account.auth, raw_body=""), body, header)
    response = media_handler(event, LambdaContext())
    error = json.loads(response["body"])
    assert (response["statusCode"], error["code"], error["param"]) == (422, "validation_failed", "file")
    listed = boto3.client("s3").list_objects_v2(Bucket=settings().bucket("media"), Prefix=account.account_id)
    assert listed.get("KeyCount", 0) == 0


def test_a_presigned_upload_is_completed_once_and_checked_like_any_other(media_handler, svc, account):
    status, _, started = call(media_handler, "POST", "/media/uploads", headers=account.auth)
    assert status == 201
    fields = started["upload"]["fields"]
    assert started["upload"]["method"] == "POST" and started["max_size"] == 16 * MiB
    assert fields["key"] == f"uploads/{account.account_id}/test/{started['media_id']}"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, 16 * MiB] in policy["conditions"]  # S3 refuses a larger file

    complete = f"/media/uploads/{started['media_id']}/complete"
    status, _, error = call(media_handler, "POST", complete, headers=account.auth)
    assert (status, error["code"]) == (404, "not_found")  # nothing uploaded yet

    data = pad(jpeg(), 6 * MiB)  # larger than POST /media takes
    boto3.client("s3").put_object(Bucket=settings().bucket("media"), Key=fields["key"], Body=data)  # what S3 does
    status, _, media = call(media_handler, "POST", complete, body={"filename": "big.jpg"}, headers=account.auth)
    assert status == 200
    assert media == {
        "media_id": started["media_id"],
        "mime_type": "image/jpeg",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": "big.jpg",
    }
    assert call(media_handler, "POST", complete, headers=account.auth)[2] == media  # again: the same
    listed = boto3.client("s3").list_objects_v2(Bucket=settings().bucket("media"), Prefix="uploads/")
    assert listed.get("KeyCount", 0) == 0  # the upload area is left empty

    other = make_account(svc)
    status, _, error = call(media_handler, "POST", complete, headers=other.auth)
    assert (status, error["code"]) == (404, "not_found")


def test_download_redirects_to_a_fresh_signed_expiring_url_of_this_account_only(media_handler, svc, account):
    _, media = _upload(media_handler, account, pdf(), "nota fiscal.pdf", "application/pdf")
    status, headers, _ = call(media_handler, "GET", f"/media/{media['media_id']}", headers=account.auth)
    assert status == 302
    assert headers["cache-control"] == "private, no-store"
    location = urlsplit(headers["location"])
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert location.path.endswith(f"/{account.account_id}/test/{media['media_id']}")
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == str(DOWNLOAD_URL_SECONDS)
    assert len(query["X-Amz-Signature"]) == 64 and "X-Amz-Credential" in query
    assert query["response-content-disposition"] == "attachment; filename*=UTF-8''nota%20fiscal.pdf"

    other = make_account(svc)
    for who, media_id in ((other, media["media_id"]), (account, "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q"), (account, "x")):
        status, _, error = call(media_handler, "GET", f"/media/{media_id}", headers=who.auth)
        assert (status, error["code"]) == (404, "not_found")
    live_key = svc.accounts.create_key(account.account_id, "live")
    status, _, _ = call(
        media_handler, "GET", f"/media/{media['media_id']}", headers={"Authorization": f"Bearer {live_key}"}
    )
    assert status == 404  # test files are not live files


def test_media_by_url_is_fetched_once_sniffed_and_stored(messages_handler, svc, account, local_urls):
    data = png(2, 2)
    with file_server({"/catalogue.jpg": (data, "image/jpeg")}) as server:
        body = {"instance_id": account.instance_id, "to": TO, "url": f"{server.url}/catalogue.jpg", "caption": "c"}
        headers = {**account.auth, "Idempotency-Key": "url-1"}
        first = call(messages_handler, "POST", "/messages/image", body=body, headers=headers)
        again = call(messages_handler, "POST", "/messages/image", body=body, headers=headers)
    assert first[0] == again[0] == 202 and first[2] == again[2]
    assert server.hits == ["/catalogue.jpg"]  # the replay fetched nothing
    media = MessageModel.get(first[2]["message_id"]).content["media"]
    assert media["mime_type"] == "image/png" and media["sha256"] == hashlib.sha256(data).hexdigest()
    assert media["filename"] == "catalogue.jpg" and media["key"] == f"{account.account_id}/test/{media['media_id']}"
    assert svc.media.read(media) == data
    assert svc.media.describe(account.account_id, False, media["media_id"]) == media


@pytest.mark.parametrize(
    ("path", "kind", "reason"),
    [
        ("/missing.jpg", "image", "media_fetch_failed"),
        ("/to-metadata", "image", "unsafe_url"),
        ("/big.webp", "sticker", "media_too_large"),
        ("/doc.pdf", "image", "media_wrong_type"),
        ("/loop", "image", "media_fetch_failed"),
    ],
)
def test_a_url_that_cannot_be_sent_is_a_422_on_url(messages_handler, svc, account, local_urls, path, kind, reason):
    files = {"/big.webp": (pad(webp(), 600 * 1024), "image/webp"), "/doc.pdf": (pdf(), "application/pdf")}
    redirects = {"/to-metadata": "http://169.254.169.254/latest/meta-data/", "/loop": "/loop"}
    with file_server(files, redirects) as server:
        body = {"instance_id": account.instance_id, "to": TO, "url": f"{server.url}{path}"}
        status, _, error = call(messages_handler, "POST", f"/messages/{kind}", body=body, headers=account.auth)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "url")
    english = {
        "media_fetch_failed": "could not be downloaded",
        "unsafe_url": "cannot be used",
        "media_too_large": "too large",
        "media_wrong_type": "cannot be sent as",
    }
    assert english[reason] in error["message"]
    assert list(MessageModel.scan()) == []
    keys = boto3.client("s3").list_objects_v2(Bucket=settings().bucket("media")).get("KeyCount", 0)
    assert keys == 0  # nothing refused is kept


def test_a_source_trickling_its_file_is_given_up_at_the_deadline(messages_handler, account, local_urls, monkeypatch):
    # A byte every 0.1 s against a 1 s deadline: the request ends long before the 200 bytes are out (the
    # server says how far it got; nothing is timed).
    monkeypatch.setattr(media_service, "URL_FETCH_SECONDS", 1.0)
    with trickle_server("body") as server:
        body = {"instance_id": account.instance_id, "to": TO, "url": server.url}
        status, _, error = call(messages_handler, "POST", "/messages/image", body=body, headers=account.auth)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "url")
    assert "took too long" in error["message"]
    assert server.hung_up and server.sent < TRICKLE_BYTES // 2
    assert list(MessageModel.scan()) == []


def test_a_redirect_is_followed_when_every_hop_is_allowed(messages_handler, account, local_urls):
    with file_server({"/real.pdf": (pdf(), "application/pdf")}, {"/short": "/real.pdf"}) as server:
        body = {"instance_id": account.instance_id, "to": TO, "url": f"{server.url}/short"}
        status, _, accepted = call(messages_handler, "POST", "/messages/document", body=body, headers=account.auth)
    assert status == 202 and server.hits == ["/short", "/real.pdf"]
    content = MessageModel.get(accepted["message_id"]).content
    assert content["filename"] == "short" and content["media"]["mime_type"] == "application/pdf"


def test_the_workers_store_keeps_inbound_media_like_uploads_and_reads_outbound(svc, account, tmp_path):
    path = tmp_path / "received"
    path.write_bytes(jpeg())
    media = svc.media.put_file(account.account_id, False, path, "image/jpeg", filename="IMG-2026.jpg")
    assert set(media) == {"media_id", "key", "mime_type", "size", "sha256", "filename"}
    assert media["key"].startswith(f"{account.account_id}/test/") and media["filename"] == "IMG-2026.jpg"
    assert (media["size"], media["sha256"]) == (len(jpeg()), hashlib.sha256(jpeg()).hexdigest())
    assert svc.media.read(media) == jpeg()
    # No signature: WhatsApp's declared type is kept (and no filename means none in the dict).
    path.write_bytes(b"BEGIN:VCARD\nEND:VCARD\n")
    media = svc.media.put_file(account.account_id, False, path, "text/vcard")
    assert media["mime_type"] == "text/vcard" and "filename" not in media
