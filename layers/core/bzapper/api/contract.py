"""openapi.yaml, generated from the function apps: the contract can only say what the code does."""

from __future__ import annotations

from typing import Any

from fastapi.openapi.utils import get_openapi

from bzapper.api.apps import DESCRIPTION, TITLE, VERSION, create_app


def openapi_document(*groups: str) -> dict[str, Any]:
    """The contract of the given groups' apps (all groups when none is given)."""
    app = create_app(*groups)
    document = get_openapi(title=TITLE, version=VERSION, description=DESCRIPTION, routes=app.routes)
    document["servers"] = [
        {"url": "https://api.bzapper.com.br", "description": "Production"},
        {"url": "http://127.0.0.1:8000", "description": "Local stack (`make dev`)"},
    ]
    return document


def openapi_yaml() -> str:
    import yaml

    return yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True, width=110)
