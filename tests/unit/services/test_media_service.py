"""Media (bzapper.services.media): a file, uploaded or fetched by URL, is read once, typed by its content, checked
for the kind it is sent as, and stored under its account's prefix; another account's media id names nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.memory import PHONE, open_account

from bzapper.api.presenters.media import media_out, upload_started_out
from bzapper.domain.errors import BzError
from bzapper.domain.media import DIRECT_UPLOAD_MAX, MediaSource, TooLarge, object_key
from bzapper.domain.sending import SendDraft
from bzapper.domain.transport import FetchFailed
from bzapper.services import media
from bzapper.services.sending import send_message

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2_000
PDF = b"%PDF-1.4\n" + b"\0" * 500
OGG_NOT_OPUS = b"OggS" + b"\0" * 200
OPUS = b"OggS" + b"\0" * 24 + b"OpusHead" + b"\0" * 200
URL = "https://cdn.example.com/files/photo.png"


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


def upload(fakes, tenant, data: bytes, declared: str | None = None, filename: str | None = None) -> dict:
    chunks = iter([data[i : i + 1024] for i in range(0, len(data), 1024)])
    return media.upload(fakes.services, tenant.principal, chunks, declared, filename)


def for_send(fakes, tenant, kind: str, **source) -> dict:
    return media.media_for_send(fakes.services, tenant.principal, kind, MediaSource(**source))


# Uploads -------------------------------------------------------------------------------------------------------


def test_an_upload_is_typed_by_its_content_not_its_claims(fakes):
    tenant = open_account(fakes)
    stored = upload(fakes, tenant, PNG, declared="application/pdf", filename="../../etc/report.pdf")
    assert (stored["mime_type"], stored["size"], stored["filename"]) == ("image/png", len(PNG), "report.pdf")
    assert stored["key"] == object_key(tenant.account_id, False, stored["media_id"])
    assert media_out(stored) == {k: stored[k] for k in ("media_id", "mime_type", "size", "sha256", "filename")}


def test_a_file_without_a_signature_keeps_its_declared_type_as_a_label(fakes):
    tenant = open_account(fakes)
    assert upload(fakes, tenant, b"a,b\n1,2\n", declared="text/csv")["mime_type"] == "text/csv"
    assert upload(fakes, tenant, b"a,b\n1,2\n", declared="image/png")["mime_type"] == "application/octet-stream"


def test_an_empty_or_oversized_upload_is_refused_and_nothing_stored(fakes):
    tenant = open_account(fakes)
    assert refusal(lambda: upload(fakes, tenant, b"")).message_key == "error.media_empty"
    error = refusal(lambda: upload(fakes, tenant, b"\0" * (DIRECT_UPLOAD_MAX + 1)))
    assert (error.param, error.message_key) == ("file", "error.media_too_large")
    assert fakes.media.objects == {}


# Pre-signed uploads -------------------------------------------------------------------------------------------------


def test_a_presigned_upload_is_checked_when_completed_and_completing_again_is_harmless(fakes, clock):
    tenant = open_account(fakes)
    started = upload_started_out(media.start_upload(fakes.services, tenant.principal))
    media_id = started["media_id"]
    assert started["max_size"] == 16 * 1024 * 1024 and started["upload"]["method"] == "POST"
    assert started["expires_at"] == "2025-01-15T13:00:00.000Z"

    assert refusal(
        lambda: media.complete_upload(fakes.services, tenant.principal, media_id, None, None)
    ).message_key == ("error.upload_missing")
    fakes.media.upload(tenant.account_id, False, media_id, PDF)
    completed = media.complete_upload(fakes.services, tenant.principal, media_id, None, "terms.pdf")
    again = media.complete_upload(fakes.services, tenant.principal, media_id, None, "other.pdf")

    assert completed["mime_type"] == "application/pdf" and completed["filename"] == "terms.pdf"
    assert again == completed and fakes.media.uploads == {}


def test_an_upload_past_the_plans_size_is_discarded(fakes):
    tenant = open_account(fakes)
    media_id = upload_started_out(media.start_upload(fakes.services, tenant.principal))["media_id"]
    fakes.media.upload(tenant.account_id, False, media_id, PDF)
    fakes.media.fail_next("read_upload", TooLarge())

    error = refusal(lambda: media.complete_upload(fakes.services, tenant.principal, media_id, None, None))

    assert error.message_key == "error.media_too_large"
    assert fakes.media.uploads == {} and fakes.media.objects == {}


def test_an_id_that_is_not_a_media_id_is_not_found(fakes):
    tenant = open_account(fakes)
    assert refusal(lambda: media.complete_upload(fakes.services, tenant.principal, "x", None, None)).code == "not_found"


# Downloads --------------------------------------------------------------------------------------------------------


def test_a_download_is_a_short_lived_url_for_the_owner_only(fakes):
    tenant, other = open_account(fakes), open_account(fakes)
    stored = upload(fakes, tenant, PNG)
    assert media.download_url(fakes.services, tenant.principal, stored["media_id"]).endswith("expires=300")
    for principal, media_id in ((other.principal, stored["media_id"]), (tenant.principal, "med_nonsense")):
        assert refusal(lambda p=principal, m=media_id: media.download_url(fakes.services, p, m)).code == "not_found"


def test_media_received_by_a_number_is_only_for_keys_that_may_use_it_uploads_for_every_key(fakes, tmp_path):
    tenant = open_account(fakes)
    two = fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="Two", status="connected")
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    received = fakes.media.put_file(tenant.account_id, False, photo, "image/png", instance_id=tenant.instance_id)
    uploaded = upload(fakes, tenant, PNG)
    only_two = replace(tenant.principal, instance_ids=frozenset({two.instance_id}))
    only_one = replace(tenant.principal, instance_ids=frozenset({tenant.instance_id}))

    assert refusal(lambda: media.download_url(fakes.services, only_two, received["media_id"])).code == "not_found"
    error = refusal(
        lambda: media.media_for_send(fakes.services, only_two, "image", MediaSource(media_id=received["media_id"]))
    )
    assert (error.param, error.message_key) == ("media_id", "error.media_not_found")
    error = refusal(lambda: media.complete_upload(fakes.services, only_two, received["media_id"], None, None))
    assert error.code == "not_found"
    for principal in (only_one, tenant.principal):
        assert media.download_url(fakes.services, principal, received["media_id"]).endswith("expires=300")
        sent = media.media_for_send(fakes.services, principal, "image", MediaSource(media_id=received["media_id"]))
        assert sent == received  # the content a send carries does not name the number
    assert media.download_url(fakes.services, only_two, uploaded["media_id"]).endswith("expires=300")
    assert (
        media.media_for_send(fakes.services, only_two, "image", MediaSource(media_id=uploaded["media_id"])) == uploaded
    )


# The media of a send ------------------------------------------------------------------------------------------------


def test_an_uploaded_file_is_checked_for_the_kind_it_is_sent_as(fakes):
    tenant = open_account(fakes)
    image = upload(fakes, tenant, PNG)["media_id"]
    assert for_send(fakes, tenant, "image", media_id=image)["media_id"] == image
    error = refusal(lambda: for_send(fakes, tenant, "video", media_id=image))
    assert (error.param, error.message_key) == ("media_id", "error.media_wrong_type")
    other = open_account(fakes)
    error = refusal(lambda: for_send(fakes, other, "image", media_id=image))
    assert (error.param, error.message_key) == ("media_id", "error.media_not_found")


def test_a_voice_note_must_be_opus(fakes):
    tenant = open_account(fakes)
    ogg = upload(fakes, tenant, OGG_NOT_OPUS)["media_id"]
    opus = upload(fakes, tenant, OPUS)["media_id"]
    assert for_send(fakes, tenant, "audio", media_id=opus, voice=True)["media_id"] == opus
    assert refusal(lambda: for_send(fakes, tenant, "audio", media_id=ogg, voice=True)).param == "voice"
    assert fakes.media.call_count("head_bytes") == 2  # the content is read only when a rule needs it


def test_a_url_is_fetched_checked_and_stored_under_the_account(fakes):
    tenant = open_account(fakes)
    fakes.http.serve(URL, PNG, content_type="image/png")
    stored = for_send(fakes, tenant, "image", url=URL)
    assert (stored["mime_type"], stored["filename"], stored["size"]) == ("image/png", "photo.png", len(PNG))
    assert fakes.media.describe(tenant.account_id, False, stored["media_id"]) == stored


@pytest.mark.parametrize(
    ("failure", "message_key"),
    [
        (FetchFailed("unsafe_url", "private"), "error.unsafe_url.private"),
        (FetchFailed("http_404"), "error.media_fetch_failed.http_status"),
        (FetchFailed("timeout"), "error.media_fetch_failed.timeout"),
        (FetchFailed("redirects"), "error.media_fetch_failed.redirects"),
    ],
)
def test_a_url_that_cannot_be_had_names_why(fakes, failure, message_key):
    tenant = open_account(fakes)
    fakes.http.serve(URL, b"", failure=failure)
    error = refusal(lambda: for_send(fakes, tenant, "image", url=URL))
    assert (error.param, error.message_key) == ("url", message_key)


def test_a_file_too_large_is_refused_before_or_while_it_is_read(fakes):
    tenant = open_account(fakes)
    limit = 500 * 1024  # a sticker's
    fakes.http.serve(URL, b"RIFF", content_length=limit + 1)
    assert refusal(lambda: for_send(fakes, tenant, "sticker", url=URL)).params["size"] == limit + 1
    fakes.http.serve(URL, b"RIFF" + b"\0" * limit, content_length=None)  # no length declared: cut off as it comes
    assert refusal(lambda: for_send(fakes, tenant, "sticker", url=URL)).message_key == "error.media_too_large"
    assert fakes.media.objects == {}


def test_a_document_sent_takes_the_files_name(fakes):
    tenant = open_account(fakes)
    stored = upload(fakes, tenant, PDF, filename="terms.pdf")
    draft = SendDraft(
        type="document", to=PHONE, instance_id=tenant.instance_id, media=MediaSource(media_id=stored["media_id"])
    )
    message_id = send_message(fakes.services, tenant.principal, draft).accepted.message_id
    content = fakes.messages.get(message_id).content
    assert content["filename"] == "terms.pdf" and content["media"] == stored


def test_the_worker_stores_inbound_media_as_the_receiving_numbers(fakes, tmp_path):
    from types import SimpleNamespace

    from bzapper.worker.runner import SessionWorker

    tenant = open_account(fakes)
    [view] = [v for v in fakes.instances.of_account(tenant.account_id, False) if v.instance_id == tenant.instance_id]
    photo = tmp_path / "in.png"
    photo.write_bytes(PNG)
    worker = SimpleNamespace(services=fakes.services)  # only its services are used to store the file
    event = {"content": {"media": {"mime_type": "image/png"}}}
    stored = SessionWorker._store_media(worker, view, str(photo), event)  # type: ignore[arg-type]
    assert "instance_id" not in stored  # the content of the inbound message is unchanged
    described = fakes.media.describe(tenant.account_id, False, stored["media_id"])
    assert described is not None and described["instance_id"] == tenant.instance_id
