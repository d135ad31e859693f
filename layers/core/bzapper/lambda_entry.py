"""Wrapping the core into Lambda handlers: Powertools Logger, Metrics and Tracer in one place.

Every `functions/<group>/handler.py` is a few lines calling one of these, so the observability
and the event shapes are the same for every function.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths

from bzapper.config import settings
from bzapper.paths import has_encoded_slash, slash_kept

SERVICE = "bzapper"
NAMESPACE = "bzapper"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def _tracer() -> Tracer | None:
    """Powertools' Tracer when it traces, else None.

    `Tracer()` imports the X-Ray SDK (and botocore's session through it) even when tracing is off: 150 ms of
    the statuses function's 500 ms import in the dev virtualenv. Switched off, its decorator only opens no-op
    subsegments, so not wrapping at all is the same behaviour. Whether it is off is Powertools' own rule
    (POWERTOOLS_TRACE_DISABLED, outside Lambda, SAM local), asked without building one.
    """
    if Tracer._is_tracer_disabled():
        return None
    return Tracer(service=SERVICE)


tracer = _tracer()

# An invocation that records no business metric is normal (the cold-start metric is enough).
warnings.filterwarnings("ignore", message="No application metrics to publish")

# Powertools' switch silences business metrics but not the cold-start one: honour it for both.
_COLD_START_METRIC = not settings().logging.metrics_disabled

Handler = Callable[[dict[str, Any], Any], Any]


def _traced(handler: Handler) -> Handler:
    """The handler in a Lambda-handler subsegment when tracing is on; unchanged when it is off."""
    if tracer is None:
        return handler
    traced: Handler = tracer.capture_lambda_handler(capture_response=False)(handler)
    return traced


def _logged(handler: Handler, correlation_id_path: str | None = None) -> Handler:
    """The outermost layer: Powertools' Logger with the Lambda context, state cleared per invocation."""
    logged: Handler = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(handler)
    return logged


def http_handler(app: Any) -> Handler:
    """API Gateway HTTP API (payload v2) → the group's ASGI app."""
    from mangum import Mangum

    asgi = Mangum(app, lifespan="off")

    @metrics.log_metrics(capture_cold_start_metric=_COLD_START_METRIC)
    def handler(event: dict[str, Any], context: Any) -> Any:
        raw_path = event.get("rawPath")
        if isinstance(raw_path, str) and has_encoded_slash(raw_path):
            # Mangum decodes the path it reads: `a%2Fqr` would reach another route than the one API Gateway chose.
            event["requestContext"]["http"]["path"] = slash_kept(raw_path)
        return asgi(event, context)

    return _logged(_traced(handler), correlation_id_path=correlation_paths.API_GATEWAY_HTTP)


def sqs_batch_handler(record_handler: Callable[[Any], None], *, fifo: bool) -> Handler:
    """SQS event source mapping with ReportBatchItemFailures: only failed records come back."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        SqsFifoPartialProcessor,
        process_partial_response,
    )

    # On a FIFO queue a failure holds back the rest of its group only, keeping per-group order.
    processor = SqsFifoPartialProcessor(skip_group_on_error=True) if fifo else BatchProcessor(EventType.SQS)
    # A batch where every record failed is reported record by record too, not raised as a crash.
    processor.raise_on_entire_batch_failure = False

    @metrics.log_metrics(capture_cold_start_metric=_COLD_START_METRIC)
    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return _logged(_traced(handler))


def scheduled_handler(job: Callable[[], dict[str, Any]]) -> Handler:
    """An EventBridge Scheduler target (a timer loop locally, since moto never fires schedules)."""

    @metrics.log_metrics(capture_cold_start_metric=_COLD_START_METRIC)
    def handler(event: dict[str, Any], context: Any) -> Any:
        return job()

    return _logged(_traced(handler))


def trigger_handler(rule: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    """A Cognito user pool trigger: the event goes back changed (its `response`), never an error for a mere
    message (an exception would fail the user's sign-up)."""

    @metrics.log_metrics(capture_cold_start_metric=_COLD_START_METRIC)
    def handler(event: dict[str, Any], context: Any) -> Any:
        return rule(event)

    return _logged(handler)
