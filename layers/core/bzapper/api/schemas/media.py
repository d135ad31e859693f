"""Media: uploads (direct or pre-signed) and what a stored file is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Strict


class MediaOut(BaseModel):
    media_id: str
    mime_type: str = Field(description="From the file's own signature (its bytes), not its name.")
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="Hex SHA-256 of the bytes.")
    filename: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "media_id": "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "mime_type": "image/jpeg",
                "size": 482113,
                "sha256": "9f2c7a0e5b1d4c3a8e6f0b2d4c6a8e0f1b3d5c7a9e1f3b5d7c9a1e3f5b7d9c1a",
                "filename": "catalogue.jpg",
            }
        }
    )


class UploadForm(BaseModel):
    method: Literal["POST"]
    url: str = Field(description="POST a multipart form here: every `fields` entry, then the file as `file`.")
    fields: dict[str, str]


class UploadStarted(BaseModel):
    media_id: str
    upload: UploadForm
    max_size: int = Field(description="Bytes: S3 refuses a larger file.")
    expires_at: str = Field(description="Upload before this, then call POST /media/uploads/{media_id}/complete.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "media_id": "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "upload": {
                    "method": "POST",
                    "url": "https://bzapper-prod-media.s3.amazonaws.com/",
                    "fields": {
                        "key": "uploads/acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q/live/med_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "x-amz-algorithm": "AWS4-HMAC-SHA256",
                        "x-amz-credential": "ASIA.../20261124/sa-east-1/s3/aws4_request",
                        "x-amz-date": "20261124T120000Z",
                        "x-amz-security-token": "IQoJb3JpZ2luX2Vj...",
                        "policy": "eyJleHBpcmF0aW9uIjogIjIwMjYtMTEtMjRUMTM6MDA6MDBaIiwgLi4ufQ==",
                        "x-amz-signature": "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
                    },
                },
                "max_size": 16777216,
                "expires_at": "2026-11-24T13:00:00.000Z",
            }
        }
    )


class UploadComplete(Strict):
    filename: str | None = Field(default=None, min_length=1, max_length=240)
    mime_type: str | None = Field(
        default=None, max_length=127, description="Only used when the file's bytes have no known signature."
    )

    model_config = ConfigDict(json_schema_extra={"example": {"filename": "report-2026-11.pdf"}})
