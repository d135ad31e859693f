"""CORS for the web console: the HTTP API and the stream's Function URL answer its origin, and no other.

The console is served by CloudFront from an origin of its own (infra/components/console.py), so every call it
makes to the API, and to the stream's Function URL, is cross-origin. Both services answer the preflight
themselves (API Gateway ignores CORS headers from the functions once a configuration exists), so the functions
need no CORS code. No wildcard anywhere: an API key or session token is sent as `Authorization`, never as a
cookie, so credentials are not allowed either.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_lambda as lambda_

from bzapper.topology import Route

REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Accept-Language",
    "Bz-Mode",
    "Last-Event-ID",
    # The SDK's stream asks for `Cache-Control: no-cache`: not a CORS-safelisted header, so without it here the
    # stream's preflight would fail.
    "Cache-Control",
)
"""What the console sends beyond the CORS-safelisted headers (a test compares them with openapi.yaml's)."""

EXPOSED_HEADERS = (
    "X-Request-Id",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "Idempotent-Replayed",
)
"""The API's response headers the console reads (`bzapper.api.contract.HEADERS`; a test keeps them equal): a
cross-origin script sees only the CORS-safelisted response headers unless these are exposed."""

MAX_AGE = Duration.hours(2)
"""How long a browser may reuse a preflight: Chromium's own cap (Firefox allows 24 h), so one preflight per
route and two hours rather than one per call."""


def origin(hostname: str) -> str:
    """An Origin header's value for an HTTPS host: scheme and host, no path, no trailing slash."""
    return f"https://{hostname}"


def methods(routes: Iterable[Route]) -> list[str]:
    """The methods of these routes, sorted (the preflight answers nothing else)."""
    return sorted({route.method for route in routes})


# Set on the CloudFormation resources once the console's site exists (the API and the Function URL are built
# first: the console's policy names them), hence CloudFormation's own property types rather than CDK's options.


def http_api(console_origin: str, routes: Iterable[Route]) -> apigwv2.CfnApi.CorsProperty:
    """The HTTP API's CORS configuration: the console's origin only, the methods the API's routes use."""
    return apigwv2.CfnApi.CorsProperty(
        allow_origins=[console_origin],
        allow_methods=methods(routes),
        allow_headers=list(REQUEST_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=int(MAX_AGE.to_seconds()),
    )


def function_url(console_origin: str, routes: Iterable[Route]) -> lambda_.CfnUrl.CorsProperty:
    """A streaming Function URL's CORS configuration: the same origin and headers, its own routes' methods."""
    return lambda_.CfnUrl.CorsProperty(
        allow_origins=[console_origin],
        allow_methods=methods(routes),
        allow_headers=list(REQUEST_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=int(MAX_AGE.to_seconds()),
    )
