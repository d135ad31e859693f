from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from bzapper.api.bodies import JsonRoute
from bzapper.api.schemas.common import html_responses
from bzapper.api.schemas.platform import Health

router = APIRouter(tags=["platform"], route_class=JsonRoute)

REFERENCE = "static/reference.html"
"""The rendered reference, built from openapi.yaml by `make openapi` and shipped as package data."""


@router.get("/health", response_model=Health, summary="Liveness (no authentication)")
def health() -> Health:
    return Health(status="ok")


@cache
def reference_html() -> bytes:
    return resources.files("bzapper.api").joinpath(REFERENCE).read_bytes()


@router.get(
    "/docs",
    response_model=None,
    summary="This API reference, rendered (no authentication)",
    responses=html_responses(example="<!DOCTYPE html><html lang='en'><head><title>bzapper API</title>…</html>"),
)
def docs() -> HTMLResponse:
    return HTMLResponse(reference_html(), headers={"Cache-Control": "public, max-age=300"})
