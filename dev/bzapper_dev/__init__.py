"""Developer and operator tools, never shipped in a Lambda layer or the worker image.

- `bzapper_dev.cli`: the `bzapper` command (`dev`, `accounts create`, `wallet credit`, `openapi`).
- `bzapper_dev.local`: the local runtime `bzapper dev` starts (moto, the gateway, the pollers, the worker).
- `bzapper_dev.sandbox`: the sandbox WhatsApp network (the simulator and its HTTP server). The session
  worker's side of it, the sandbox engine and its client, stays in the core (`bzapper.engines.sandbox`).

It imports the core (`bzapper`); the core never imports it (tests/unit/test_package_boundaries.py).
"""
