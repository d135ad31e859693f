"""The media bucket (S3): private objects under each account's prefix, described by their own metadata.

An object's key is derived from (account, mode, media_id), so a media id from another account names no
object under the caller's prefix: there is no table to keep in step, and no way to reach across. The
bucket is private and encrypted by default (infra/components/buckets.py); clients only ever get short
pre-signed URLs. Each object carries its SHA-256 and file name as user metadata and its type as
Content-Type, which is everything the content "media" dict holds (bzapper.domain.content).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from botocore.exceptions import ClientError

from bzapper.adapters.aws.clients import client
from bzapper.config import settings
from bzapper.domain.media import (
    SNIFF_BYTES,
    Received,
    file_chunks,
    new_media_id,
    object_key,
    receive,
    safe_filename,
    sniff,
    upload_key,
)

_CHUNK = 1024 * 1024


@cache
def _transfer() -> Any:
    """Parts of a large file in parallel, within the client's connection pool (10). Imported on first use:
    the S3 transfer manager costs tens of milliseconds, and most functions never store a file."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(max_concurrency=4)


def _media(key: str, media_id: str, mime_type: str, size: int, sha256: str, filename: str | None) -> dict[str, Any]:
    media: dict[str, Any] = {"media_id": media_id, "key": key, "mime_type": mime_type, "size": size, "sha256": sha256}
    if filename:
        media["filename"] = filename
    return media


class MediaStore:
    """Every read and write of media objects; the API, the worker and the tests share it."""

    @property
    def bucket(self) -> str:
        return settings().bucket("media")

    # --- Writing ------------------------------------------------------------------------------------

    def put_received(
        self,
        account_id: str,
        livemode: bool,
        received: Received,
        mime_type: str,
        filename: str | None = None,
        media_id: str | None = None,
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        """Stores a received file under the account's prefix; returns the content "media" dict."""
        media_id = media_id or new_media_id()
        key = object_key(account_id, livemode, media_id)
        filename = safe_filename(filename)
        metadata = {"sha256": received.sha256}
        if filename:
            metadata["filename"] = quote(filename)  # S3 metadata is ASCII
        if instance_id:
            metadata["instance-id"] = instance_id  # the number that received it (keys limited to others never see it)
        received.file.seek(0)
        client("s3").upload_fileobj(
            received.file,
            self.bucket,
            key,
            ExtraArgs={"ContentType": mime_type, "Metadata": metadata},
            Config=_transfer(),
        )
        return _media(key, media_id, mime_type, received.size, received.sha256, filename)

    def put_bytes(
        self, account_id: str, livemode: bool, data: bytes, mime_type: str, filename: str | None = None
    ) -> dict[str, Any]:
        received = receive(iter([data]), len(data))
        try:
            return self.put_received(account_id, livemode, received, mime_type, filename)
        finally:
            received.close()

    def put_file(
        self,
        account_id: str,
        livemode: bool,
        path: str | Path,
        mime_type: str,
        filename: str | None = None,
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        """Inbound media the worker downloaded from WhatsApp: stored like an upload. The type is the
        content's own when it has a signature, else the one WhatsApp declared."""
        with open(path, "rb") as file:
            received = receive(file_chunks(file), max_bytes=1 << 62)
        try:
            return self.put_received(
                account_id, livemode, received, sniff(received.head) or mime_type, filename, instance_id=instance_id
            )
        finally:
            received.close()

    # --- Reading ------------------------------------------------------------------------------------

    def read(self, media: dict[str, Any]) -> bytes:
        """The object's bytes (the worker sending it)."""
        return client("s3").get_object(Bucket=self.bucket, Key=media["key"])["Body"].read()

    def head_bytes(self, media: dict[str, Any], length: int = SNIFF_BYTES) -> bytes:
        """The first bytes of the object, for the checks that depend on its content (voice, stickers)."""
        answer = client("s3").get_object(Bucket=self.bucket, Key=media["key"], Range=f"bytes=0-{length - 1}")
        return answer["Body"].read()

    def describe(self, account_id: str, livemode: bool, media_id: str) -> dict[str, Any] | None:
        """The "media" dict of an object of this account, or None (unknown id, or another account's)."""
        key = object_key(account_id, livemode, media_id)
        try:
            head = client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        metadata = head.get("Metadata", {})
        filename = unquote(metadata["filename"]) if metadata.get("filename") else None
        media = _media(
            key, media_id, head["ContentType"], int(head["ContentLength"]), metadata.get("sha256", ""), filename
        )
        if metadata.get("instance-id"):
            media["instance_id"] = metadata["instance-id"]
        return media

    def download_url(self, media: dict[str, Any], expires_seconds: int) -> str:
        """A pre-signed GET (SigV4) for the object, serving it with its type and file name."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": media["key"],
            "ResponseContentType": media["mime_type"],
        }
        # Always a download, never rendered on the bucket's origin (a file's type may be only a label).
        disposition = "attachment"
        if media.get("filename"):
            disposition += f"; filename*=UTF-8''{quote(media['filename'])}"
        params["ResponseContentDisposition"] = disposition
        return client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires_seconds)

    # --- Pre-signed uploads -------------------------------------------------------------------------

    def upload_form(
        self, account_id: str, livemode: bool, media_id: str, max_bytes: int, expires_seconds: int
    ) -> dict[str, Any]:
        """A pre-signed POST to the upload area: S3 itself refuses a file over `max_bytes`."""
        return client("s3").generate_presigned_post(
            Bucket=self.bucket,
            Key=upload_key(account_id, livemode, media_id),
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_seconds,
        )

    def read_upload(self, account_id: str, livemode: bool, media_id: str, max_bytes: int) -> Received | None:
        """The uploaded file, read once (hashing and sniffing), or None when nothing was uploaded."""
        try:
            answer = client("s3").get_object(Bucket=self.bucket, Key=upload_key(account_id, livemode, media_id))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        body = answer["Body"]
        try:
            return receive(body.iter_chunks(_CHUNK), max_bytes)
        finally:
            body.close()

    def promote_upload(
        self, account_id: str, livemode: bool, media_id: str, received: Received, mime_type: str, filename: str | None
    ) -> dict[str, Any]:
        """Moves a checked upload to its final key, with its metadata, and removes the upload."""
        filename = safe_filename(filename)
        metadata = {"sha256": received.sha256}
        if filename:
            metadata["filename"] = quote(filename)
        key = object_key(account_id, livemode, media_id)
        source = upload_key(account_id, livemode, media_id)
        s3 = client("s3")
        s3.copy(
            {"Bucket": self.bucket, "Key": source},
            self.bucket,
            key,
            ExtraArgs={"ContentType": mime_type, "Metadata": metadata, "MetadataDirective": "REPLACE"},
            Config=_transfer(),
        )
        s3.delete_object(Bucket=self.bucket, Key=source)
        return _media(key, media_id, mime_type, received.size, received.sha256, filename)

    def discard_upload(self, account_id: str, livemode: bool, media_id: str) -> None:
        client("s3").delete_object(Bucket=self.bucket, Key=upload_key(account_id, livemode, media_id))
