from __future__ import annotations

from fastapi import APIRouter

from bzapper.api.schemas import Health

router = APIRouter(tags=["platform"])


@router.get("/health", response_model=Health, summary="Liveness (no authentication)")
def health() -> Health:
    return Health(status="ok")
