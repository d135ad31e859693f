"""Media rules (pure): what each kind accepts, read from the bytes; where objects live; filenames."""

from __future__ import annotations

import pytest
from support.media import jpeg, mp3, mp4, ogg, pad, pdf, png, webp

from bzapper.domain.media import (
    KINDS,
    MediaRejected,
    MiB,
    check_kind,
    is_media_id,
    new_media_id,
    object_key,
    safe_filename,
    sniff,
    stored_type,
    upload_key,
)

PLAN_MAX = 16 * MiB


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (png(), "image/png"),
        (jpeg(), "image/jpeg"),
        (webp(), "image/webp"),
        (ogg(), "audio/ogg"),
        (mp4(), "video/mp4"),
        (mp4(b"M4A "), "audio/mp4"),
        (mp3(), "audio/mpeg"),
        (pdf(), "application/pdf"),
    ],
)
def test_the_type_comes_from_the_bytes(data, mime):
    assert sniff(data) == mime
    # Whatever the client claims or the name says, the signature wins.
    assert stored_type(data, declared="text/plain", filename="notes.txt") == mime


def test_without_a_signature_the_declared_type_then_the_name_label_a_document():
    assert sniff(b"name,phone\nMaria,+5511977770001\n") is None
    assert stored_type(b"a,b\n", declared="text/csv; charset=utf-8") == "text/csv"
    assert stored_type(b"a,b\n", declared="application/octet-stream", filename="list.csv") == "text/csv"
    assert stored_type(b"a,b\n") == "application/octet-stream"


def test_a_type_with_a_signature_is_never_taken_on_trust():
    # Bytes that are not a PNG stay unlabelled whatever the client or the name says: never an image.
    assert stored_type(b"<html><script>", declared="image/png") == "application/octet-stream"
    assert stored_type(b"<html><script>", filename="cat.png") == "application/octet-stream"
    assert stored_type(b"%%%", declared="audio/ogg", filename="voice.ogg") == "application/octet-stream"


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        ("image", png(), "image/png"),
        ("image", jpeg(), "image/jpeg"),
        ("video", mp4(), "video/mp4"),
        ("audio", mp3(), "audio/mpeg"),
        ("audio", ogg(), "audio/ogg"),
        ("audio", mp4(), "audio/mp4"),  # an audio-only MP4 signed as a video is the same container
        ("sticker", webp(), "image/webp"),
        ("document", pdf(), "application/pdf"),
        ("document", png(), "image/png"),  # any file may go as a document
    ],
)
def test_each_kind_accepts_its_types(kind, data, expected):
    mime = stored_type(data)
    assert check_kind(kind, mime, len(data), data, plan_max=PLAN_MAX) == expected


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("image", webp()),
        ("image", pdf()),
        ("video", png()),
        ("audio", b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"),
        ("sticker", png()),
    ],
)
def test_a_type_the_kind_does_not_take_is_refused_naming_what_it_takes(kind, data):
    with pytest.raises(MediaRejected) as refused:
        check_kind(kind, stored_type(data), len(data), data, plan_max=PLAN_MAX)
    assert refused.value.reason == "wrong_type"
    assert refused.value.params["allowed"] == ", ".join(sorted(KINDS[kind].mime_types))


def test_sizes_per_kind_and_never_over_the_plan():
    image = pad(png(), 16 * MiB)
    assert check_kind("image", "image/png", len(image), image, plan_max=PLAN_MAX) == "image/png"
    with pytest.raises(MediaRejected) as refused:
        check_kind("image", "image/png", len(image) + 1, image, plan_max=PLAN_MAX)
    assert refused.value.params == {"size": len(image) + 1, "limit": 16 * MiB}
    # A document may be 100 MB on a plan that allows it, not on one that allows 16 MB.
    assert check_kind("document", "application/pdf", 50 * MiB, pdf(), plan_max=100 * MiB)
    with pytest.raises(MediaRejected):
        check_kind("document", "application/pdf", 50 * MiB, pdf(), plan_max=PLAN_MAX)
    with pytest.raises(MediaRejected) as empty:
        check_kind("document", "application/pdf", 0, b"", plan_max=PLAN_MAX)
    assert empty.value.reason == "empty"


def test_stickers_are_100_kb_static_and_500_kb_animated():
    static, animated = pad(webp(), 100 * 1024), pad(webp(animated=True), 500 * 1024)
    assert check_kind("sticker", "image/webp", len(static), static, plan_max=PLAN_MAX)
    assert check_kind("sticker", "image/webp", len(animated), animated, plan_max=PLAN_MAX)
    with pytest.raises(MediaRejected):
        check_kind("sticker", "image/webp", len(static) + 1, static, plan_max=PLAN_MAX)
    with pytest.raises(MediaRejected):
        check_kind("sticker", "image/webp", len(animated) + 1, animated, plan_max=PLAN_MAX)


def test_a_voice_note_must_be_ogg_opus():
    assert check_kind("audio", "audio/ogg", len(ogg()), ogg(), plan_max=PLAN_MAX, voice=True) == "audio/ogg"
    for data in (ogg(opus=False), mp3()):
        with pytest.raises(MediaRejected) as refused:
            check_kind("audio", stored_type(data), len(data), data, plan_max=PLAN_MAX, voice=True)
        assert refused.value.reason == "voice_not_opus"


def test_objects_live_under_the_accounts_prefix_per_mode():
    media_id = new_media_id()
    assert is_media_id(media_id) and not is_media_id("msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q")
    assert object_key("acct_1", True, media_id) == f"acct_1/live/{media_id}"
    assert object_key("acct_1", False, media_id) == f"acct_1/test/{media_id}"
    # Uploads wait in their own area (expired by the bucket's lifecycle), still per account.
    assert upload_key("acct_1", False, media_id) == f"uploads/acct_1/test/{media_id}"


def test_file_names_lose_paths_and_control_characters():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\ana\\relatório final.pdf") == "relatório final.pdf"
    assert safe_filename("a\x00b\nc.txt") == "abc.txt"
    assert safe_filename("x" * 300 + ".pdf") == "x" * 240
    assert safe_filename("") is None and safe_filename("/") is None
