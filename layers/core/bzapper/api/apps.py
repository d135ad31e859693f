"""One FastAPI app per endpoint group: the unit that becomes one Lambda function.

The local runtime serves these same apps; the contract app (all groups) generates openapi.yaml.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute

from bzapper.api.errors import install_error_handlers
from bzapper.api.idempotency import refuse_undeclared_idempotency
from bzapper.api.middleware import RequestContext
from bzapper.domain.errors import BzError
from bzapper.topology import TOPOLOGY, match_route, route_pattern

TITLE = "bzapper API"
VERSION = "1.0.0"
DESCRIPTION = (
    "A multi-tenant WhatsApp messaging API. Authenticate with `Authorization: Bearer bz_live_…` "
    "(or `bz_test_…` for test mode and the sandbox network). Every error is "
    "`{code, message, locale, request_id}`: branch on `code`."
)


def group_module(group: str) -> ModuleType:
    # Imported by name so a function loads only its own routes' dependencies.
    return importlib.import_module(f"bzapper.api.routers.{group}")


def operation_id(route: APIRoute) -> str:
    """The handler's name (`send_text`, `get_message`): stable names for the SDK and the reference."""
    return route.name


def create_app(*groups: str, contract: bool = False) -> FastAPI:
    """The app for the given groups (all of them when none is given). `contract`: the app the OpenAPI document
    is generated from, whose error responses carry their body's model (a function's app does not need them)."""
    app = FastAPI(
        # After routing, before the route's own work: refuse an Idempotency-Key the route would ignore.
        dependencies=[Depends(refuse_undeclared_idempotency)],
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        generate_unique_id_function=operation_id,
    )
    for group in groups or TOPOLOGY.api_groups:
        module = group_module(group)
        _document_rate_limits(module.router)
        if contract:
            _document_error_bodies(module.router)
        app.include_router(module.router)
        # A group that emits events declares their payloads on a `webhooks` router (one route per event
        # type, the payload model as its body): they land in the contract's `webhooks` section.
        webhooks = getattr(module, "webhooks", None)
        if webhooks is not None:
            if contract:
                _document_error_bodies(webhooks)
            app.webhooks.include_router(webhooks)
    app.add_api_route("/{path:path}", _fallback, methods=_ALL_METHODS, include_in_schema=False)
    install_error_handlers(app)
    app.add_middleware(RequestContext)
    return app


_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _document_rate_limits(router: APIRouter) -> None:
    """Every authenticated request passes the per-key rate limit, so every such operation may answer 429."""
    from bzapper.api.schemas.common import error_responses

    too_many = error_responses(429)[429]
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods:
            topology_route, _ = match_route(method, route.path_format)
            if topology_route is not None and topology_route.auth:
                route.responses.setdefault(429, too_many)


def _document_error_bodies(router: APIRouter) -> None:
    """The contract's error responses name their body (`ErrorBody`). Each route gets its own responses dict (the
    routers share theirs between routes); an app includes a route with the responses it has at that moment."""
    from bzapper.api.schemas.common import with_error_body

    for route in router.routes:
        if isinstance(route, APIRoute):
            route.responses = {status: with_error_body(response) for status, response in route.responses.items()}


def allowed_methods(path: str) -> list[str]:
    """The methods of the most specific route template matching `path` (for `Allow` on a 405).

    `/messages/text` also matches `/messages/{message_id}`, but the resource it names is the literal
    one: only its own methods are advertised, as the contract lists them.
    """
    matching = [route for route in TOPOLOGY.routes if route_pattern(route.path).match(path)]
    if not matching:
        return []
    fewest = min(route.path.count("{") for route in matching)
    return sorted({route.method for route in matching if route.path.count("{") == fewest})


def _fallback(request: Request) -> None:
    """No route of this app matched: 405 when the path exists with another method, else 404."""
    _, other_methods = match_route(request.method, request.url.path)
    allowed = allowed_methods(request.url.path) if other_methods else []
    params = {"method": request.method, "path": request.url.path}
    if allowed:
        raise BzError("method_not_allowed", params=params, headers={"Allow": ", ".join(allowed)})
    raise BzError("not_found", message_key="error.route_not_found", params=params)
