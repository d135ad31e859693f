"""Media: uploads (multipart up to 4 MiB, or pre-signed straight to S3 for larger files) and downloads
(a fresh pre-signed URL behind a stable id). See docs/messages.md, "Media"."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, File, Path, Request, UploadFile
from fastapi.responses import RedirectResponse

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.presenters.media import media_out, upload_started_out
from bzapper.api.schemas.common import error_responses
from bzapper.api.schemas.media import MediaOut, UploadComplete, UploadStarted
from bzapper.bootstrap import services
from bzapper.domain.errors import validation_failed
from bzapper.domain.media import DIRECT_UPLOAD_MAX, DOWNLOAD_URL_SECONDS, file_chunks
from bzapper.domain.model import Principal
from bzapper.services import media as service

router = APIRouter(tags=["media"], route_class=JsonRoute)

MEDIA_ID = Path(examples=["med_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])


async def one_file_part(request: Request, _: Principal = Depends(authenticate)) -> None:
    """Two `file` parts are two files for one media: ambiguous, refused as a JSON key given twice is (the form is
    parsed once and kept on the request, so this costs no second read)."""
    form = await request.form()
    if len(form.getlist("file")) > 1:
        raise validation_failed("file", "error.duplicate_file_part")


@router.post(
    "/media",
    status_code=201,
    response_model=MediaOut,
    summary="Upload a file (multipart, up to 4 MiB)",
    description=f"Send the file as the `file` part of a `multipart/form-data` body (at most {DIRECT_UPLOAD_MAX} "
    "bytes; larger files: POST /media/uploads). The type is read from the file's bytes. Use the `media_id` "
    "in any media send; the file is checked against that kind's limits then.",
    responses=error_responses(401, 413, 422),
    dependencies=[Depends(one_file_part)],
    openapi_extra={
        "requestBody": {"content": {"multipart/form-data": {"example": {"file": "(the bytes of catalogue.jpg)"}}}}
    },
)
def upload_media(
    file: UploadFile = File(
        description="The file; its part's filename is kept for documents. Not empty (a 422 on `file` otherwise)."
    ),
    principal: Principal = Depends(authenticate),
) -> MediaOut:
    media = service.upload(services(), principal, file_chunks(file.file), file.content_type, file.filename)
    return MediaOut(**media_out(media))


@router.post(
    "/media/uploads",
    status_code=201,
    response_model=UploadStarted,
    summary="Start a pre-signed upload (large files)",
    description="POST the file straight to S3 with the returned form (every field, then the file as `file`), "
    "up to `max_size` bytes, then call POST /media/uploads/{media_id}/complete.",
    responses=error_responses(401),
)
def start_upload(principal: Principal = Depends(authenticate)) -> UploadStarted:
    return UploadStarted(**upload_started_out(service.start_upload(services(), principal)))


@router.post(
    "/media/uploads/{media_id}/complete",
    response_model=MediaOut,
    summary="Complete a pre-signed upload",
    description="Reads the uploaded file once (type from its bytes, size, SHA-256) and makes it usable as "
    "`media_id`. Completing again answers the same.",
    responses=error_responses(401, 404, 422),
)
def complete_upload(
    media_id: str = MEDIA_ID,
    request: UploadComplete = Body(default_factory=UploadComplete),  # an empty POST completes as it is
    principal: Principal = Depends(authenticate),
) -> MediaOut:
    media = service.complete_upload(services(), principal, media_id, request.mime_type, request.filename)
    return MediaOut(**media_out(media))


@router.get(
    "/media/{media_id}",
    status_code=302,
    response_class=RedirectResponse,
    summary="Download a file (302 to a fresh pre-signed URL)",
    description=f"A stable reference to a file of this account (uploaded, or received from WhatsApp): "
    f"redirects to a pre-signed URL valid for {DOWNLOAD_URL_SECONDS} seconds. Another account's id is a 404.",
    responses={
        302: {
            "description": "Follow `Location` (no Authorization header needed there).",
            "headers": {"Location": {"description": "The pre-signed URL.", "schema": {"type": "string"}}},
        },
        **error_responses(401, 404),
    },
)
def download_media(media_id: str = MEDIA_ID, principal: Principal = Depends(authenticate)) -> RedirectResponse:
    url = service.download_url(services(), principal, media_id)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "private, no-store"})
