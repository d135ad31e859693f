"""Response streaming for the topology's streaming routes (`Route.streaming`): `GET /stream` on AWS.

API Gateway's HTTP API buffers a response whole and ends an integration at 30 s, so Server-Sent Events
cannot pass through it. The function of a streaming group therefore differs from the others in two ways:

- It runs its ASGI app (the same `functions/<group>/handler.py:app` the local runtime serves) under
  uvicorn, started by `functions/<group>/run.sh`, behind the AWS Lambda Web Adapter: a layer AWS
  publishes, whose `/opt/bootstrap` (the exec wrapper) runs the script and whose extension turns each
  invocation into an HTTP request to uvicorn, streaming the response back as it is written
  (`AWS_LWA_INVOKE_MODE=response_stream`). uvicorn comes from a layer of its own
  (`infra/bundling.server_layer`), so the shared dependencies layer stays the runtime set.
- A Lambda Function URL in RESPONSE_STREAM mode is its public way in (the stack's `StreamUrl` output).
  Its auth type is NONE: the app checks the Bearer key itself, exactly as it does behind the HTTP API.

The HTTP API keeps the group's routes (the contract's route table), but the adapter answers every
invocation in the streaming format, which API Gateway cannot relay: clients use the Function URL.
"""

from __future__ import annotations

import os

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from bzapper.topology import Topology
from infra import bundling

WEB_ADAPTER_ACCOUNT = "753240598075"
"""The AWS account that publishes the Lambda Web Adapter layers in every commercial region."""
WEB_ADAPTER_LAYER_NAME = "LambdaAdapterLayerArm64"
"""The arm64 build, matching `infra.components.function.ARCHITECTURE`."""
WEB_ADAPTER_PORT = 8080
HANDLER = "run.sh"
"""`functions/<group>/run.sh`, which the adapter's `/opt/bootstrap` executes from the task root."""

TIMEOUT = Duration.minutes(15)
"""Lambda's maximum: a stream lives as long as one invocation."""
STREAM_MAX_SECONDS = 870
"""`BZ_STREAM_MAX_SECONDS`: the app ends a stream 30 s before the function would time out, so a stream
ends cleanly (the client reconnects with Last-Event-ID) instead of as a function error."""
MEMORY_MIB = 512
"""An open stream is billed for its whole life, mostly spent waiting between reads of the event log:
half the API functions' memory halves that cost, and the cold start matters little over 15 minutes."""

ENVIRONMENT = {
    "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
    "AWS_LWA_INVOKE_MODE": "response_stream",
    "AWS_LWA_PORT": str(WEB_ADAPTER_PORT),
    # Ready once uvicorn listens (it imports the app first): no probe request through the app.
    "AWS_LWA_READINESS_CHECK_PROTOCOL": "tcp",
    "BZ_STREAM_MAX_SECONDS": str(STREAM_MAX_SECONDS),
    # The X-Ray SDK finds no trace context outside the Python runtime (the adapter holds it): without
    # this, each AWS call would log a missing-segment error. Lambda's own trace segments remain.
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def web_adapter_layer_arn(scope: Construct, version: int) -> str:
    """The adapter's arm64 layer in the stack's region (and partition), at `version`."""
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:lambda:{stack.region}:{WEB_ADAPTER_ACCOUNT}:layer:{WEB_ADAPTER_LAYER_NAME}:{version}"


def output_id(group: str) -> str:
    """The stack output holding a streaming group's URL: `stream` → `StreamUrl`."""
    return "".join(part.capitalize() for part in group.split("_")) + "Url"


def problems(topology: Topology) -> list[str]:
    """What keeps a streaming group from being served this way (empty when nothing does)."""
    found = []
    for group in topology.streaming_groups:
        plain = [f"{r.method} {r.path}" for r in topology.routes if r.group == group and not r.streaming]
        if plain:
            # The adapter streams every response of the function, which API Gateway cannot relay.
            found.append(f"group {group!r} mixes streaming and non-streaming routes ({', '.join(plain)})")
        script = bundling.ROOT / "functions" / group / HANDLER
        if not script.is_file() or not os.access(script, os.X_OK):
            found.append(f"group {group!r}: functions/{group}/{HANDLER} must exist and be executable")
    return found


class StreamingUrl(Construct):
    """The Function URL of a streaming group's function: RESPONSE_STREAM, the app's own authentication."""

    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        self.function_url = lambda_.FunctionUrl(
            self,
            "Url",
            function=function,
            auth_type=lambda_.FunctionUrlAuthType.NONE,
            invoke_mode=lambda_.InvokeMode.RESPONSE_STREAM,
        )
        self.url = self.function_url.url

    def allow_cors(self, configuration: lambda_.CfnUrl.CorsProperty) -> None:
        """Answer browsers of the web console's origin (infra/components/cors.py); Lambda answers the preflight."""
        url = self.function_url.node.default_child
        assert isinstance(url, lambda_.CfnUrl)
        url.cors = configuration
