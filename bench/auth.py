"""What authenticating a request costs: GET /me through the real `account` handler with an API key and with a
console session token, warm, alternating, on the bench's moto server (the user pool on it, as `bzapper dev`
makes it). The session's extra work is the offline verification of the token (RS256 against the cached JWKS)
and one cached lookup of its user's account; the key's, a cached lookup of its hash. Also the verification
alone, in CPU time."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.apigw import http_event
from bench.stats import summary_ms

PASSWORD = "Corr3ct-horse!battery"  # noqa: S105 - a bench user on a throwaway moto pool


def measure(ctx: Any, requests: int = 200) -> dict[str, Any]:
    import boto3

    from bench.backend import EndpointSession
    from bzapper import bootstrap
    from bzapper.config import reset_settings, settings
    from bzapper_dev.local.functions import load_function
    from bzapper_dev.local.identity import identity_environment, provision_identity
    from bzapper_dev.local.lambda_context import LocalLambdaContext

    pool_id, client_id = provision_identity(EndpointSession(ctx.moto_url), settings())
    jwks_url = f"{ctx.moto_url}/{pool_id}/.well-known/jwks.json"
    environment = identity_environment(pool_id, client_id, jwks_url, Path(tempfile.mkdtemp(prefix="bench-mail-")))
    os.environ.update(environment)
    reset_settings()
    bootstrap.services.cache_clear()
    services = bootstrap.services()

    cognito = boto3.client("cognito-idp", region_name=settings().region, endpoint_url=ctx.moto_url)
    email = f"bench+{int(time.time())}@bzapper.test"
    user = cognito.admin_create_user(
        UserPoolId=pool_id, Username=email, TemporaryPassword=PASSWORD, MessageAction="SUPPRESS"
    )["User"]
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    user_id = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
    services.accounts.link_user(user_id, ctx.account["account_id"], email)
    token = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]["AccessToken"]

    handler = load_function("account").handler
    context = LocalLambdaContext("account")
    credentials = {"api key": ctx.account["api_key"], "session token": token}

    def call(credential: str) -> float:
        event = http_event("GET", "/me", headers={"Authorization": f"Bearer {credential}"})
        started = time.perf_counter()
        answer = handler(event, context)
        elapsed = time.perf_counter() - started
        assert answer["statusCode"] == 200, answer
        return elapsed

    for credential in credentials.values():
        call(credential)  # warm: the JWKS fetched, the caches filled
    samples: dict[str, list[float]] = {name: [] for name in credentials}
    for index in range(requests):
        for name in credentials if index % 2 == 0 else reversed(list(credentials)):
            samples[name].append(call(credentials[name]))

    verifier = services.tokens
    assert verifier is not None
    cpu: list[float] = []
    for _ in range(requests):
        started = time.process_time()
        verifier.verify(token)
        cpu.append(time.process_time() - started)
    results = {name: summary_ms(values) for name, values in samples.items()}
    results["token verification (CPU)"] = summary_ms(cpu)
    key_p50, session_p50 = results["api key"]["p50_ms"], results["session token"]["p50_ms"]
    results["session over key p50 ms"] = round(session_p50 - key_p50, 2)
    return results
