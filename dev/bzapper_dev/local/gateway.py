"""The local stand-in for API Gateway: routes from the topology, each to its group's own app.

A request matching no route goes to the `platform` app, as API Gateway's `$default` route does on
AWS; every app's fallback answers it with 404 `not_found` or 405 in the API's error shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bzapper.paths import has_encoded_slash, routing_path
from bzapper.topology import DEFAULT_GROUP, match_route


class LocalGateway:
    def __init__(self, apps: dict[str, Any], *, mailbox_dir: Path | None = None) -> None:
        self.apps = apps
        self.mailbox_dir = mailbox_dir

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:  # the group apps need no start-up work
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/console" or scope["path"].startswith("/console/"):
            from bzapper_dev.local.console import console_app  # the console's static assets (CloudFront on AWS)

            await console_app(scope, receive, send)
            return
        if self.mailbox_dir is not None and scope["path"] == "/sandbox/mailbox":
            from bzapper_dev.local.mailbox import mailbox_app  # the local stack's own route: never on AWS

            await mailbox_app(self.mailbox_dir, scope, receive, send)
            return
        raw_path = scope.get("raw_path")
        if raw_path and has_encoded_slash(raw_path.decode("latin-1")):
            # As API Gateway does: an encoded slash stays inside its path parameter.
            scope = {**scope, "path": routing_path(raw_path.decode("latin-1"))}
        route, _ = match_route(scope.get("method", "GET"), scope["path"])
        await self.apps[route.group if route else DEFAULT_GROUP](scope, receive, send)
