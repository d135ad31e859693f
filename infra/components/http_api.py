"""The HTTP API: one route per topology route to its group's function, `$default` to the fallback group.

Throttled at the stage (a ceiling for the whole stage; per-account limits belong to the app) and
access-logged as one JSON line per request.
"""

from __future__ import annotations

import json
import re

import jsii
from aws_cdk import CfnOutput
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from bzapper.topology import Route
from infra.components import nag
from infra.components.logs import log_group
from infra.config import InfraConfig

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "method": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}
# The Authorization header is never logged (API Gateway does not expose it to access logs anyway).


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def route_construct_id(route: Route) -> str:
    return "Route" + re.sub(r"[^A-Za-z0-9]+", "-", f"{route.method}-{route.path}").strip("-")


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        routes: tuple[Route, ...],
        functions: dict[str, lambda_.IFunction],
        default_group: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=config.name("api"),
            description=f"bzapper {config.stage}: routes from bzapper.topology",
            create_default_stage=False,
        )
        self.access_logs = log_group(self, "AccessLogs", config=config)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(self.access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))),
            ),
        )
        targets = {
            group: integrations.HttpLambdaIntegration(
                f"Integration-{group}",
                function,
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            )
            for group, function in functions.items()
        }
        self.routes: dict[tuple[str, str], apigwv2.HttpRoute] = {}
        for route in routes:
            key = (route.method, route.path)
            if key in self.routes:
                raise ValueError(f"topology has {route.method} {route.path} twice")
            self.routes[key] = apigwv2.HttpRoute(
                self,
                route_construct_id(route),
                http_api=self.api,
                route_key=apigwv2.HttpRouteKey.with_(route.path, apigwv2.HttpMethod(route.method)),
                integration=targets[route.group],
            )
        # Whatever no route matches: the fallback group answers 404/405 in the API's error shape.
        self.default_route = apigwv2.HttpRoute(
            self,
            "RouteDefault",
            http_api=self.api,
            route_key=apigwv2.HttpRouteKey.DEFAULT,
            integration=targets[default_group],
        )
        for route in (*self.routes.values(), self.default_route):
            nag.acknowledge(route, "AwsSolutions-APIG4")
        CfnOutput(self, "Url", value=self.api.api_endpoint, description="The API's base URL")

    def allow_cors(self, configuration: apigwv2.CfnApi.CorsProperty) -> None:
        """Answer browsers of the web console's origin (infra/components/cors.py); API Gateway answers the
        preflight itself. Without it, no browser page may call the API."""
        api = self.api.node.default_child
        assert isinstance(api, apigwv2.CfnApi)
        api.cors_configuration = configuration
