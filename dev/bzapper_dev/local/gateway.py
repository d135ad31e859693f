"""The local stand-in for API Gateway: routes from the topology, each to its group's own app.

A request matching no route goes to the `platform` app, as API Gateway's `$default` route does on
AWS; every app's fallback answers it with 404 `not_found` or 405 in the API's error shape.
"""

from __future__ import annotations

from typing import Any

from bzapper.topology import DEFAULT_GROUP, match_route


class LocalGateway:
    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = apps

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:  # the group apps need no start-up work
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        route, _ = match_route(scope.get("method", "GET"), scope["path"])
        await self.apps[route.group if route else DEFAULT_GROUP](scope, receive, send)
