"""Changes to moto's server that cut its CPU per request without changing any answer it gives.

Measured on moto 5.2.6 (docs/performance.md, "Local stack CPU"): the local stack's moto burnt more CPU than
everything else of the stack together, much of it in work whose result never changes:

- every request lists moto's package directory (`list_of_moto_modules`: a listdir and ~200 `isdir` calls) to
  see whether the Host header names a service, and lists its handler class's methods (`inspect.getmembers`) to
  find the action: neither changes while the server runs;
- every PutEvents builds a JSONPath parser (PLY's lexer and grammar tables) for each of the ten default input
  paths of each matching rule's target (about 20 ms an event with our two rules): a parsed path is immutable,
  so one parse per distinct path is enough;
- SQS rebuilds every attribute of a queue (`Queue.attributes`: a camel-case conversion of each name, char by
  char, and counts of the visible, in-flight and delayed messages, each asking a clock that builds two datetimes)
  to read one of them: ContentBasedDeduplication at each send, MessageRetentionPeriod for each message received;
- a DynamoDB Query on a table's own key sorts every item of the table (`Table.all_items`) to keep those of one
  partition: its cost grows with the table (the event log, read every 0.25 s by an open stream, only grows). The
  items of a partition are the ones stored under its hash key, so the query is given those alone (queries on an
  index are left as they are);
- werkzeug writes a log line per request (moto.log): the stack makes tens of requests a second.

Installed by the local moto server (`bzapper_dev.local.moto_server`) and by its tests; never part of anything
deployed.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from typing import Any

logger = logging.getLogger("bzapper_dev.local")


def install() -> None:
    from moto import backends

    if getattr(backends, "_bzapper_speed", False):
        return
    for patch in (_services_listed_once, _actions_listed_once, _sqs_attributes, _partition_queries, _paths_parsed_once):
        try:
            patch()
        except (ImportError, AttributeError):  # another moto than the one measured: run it as it is
            logger.warning("moto speed-up %s not installed (moto changed)", patch.__name__, exc_info=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # errors still reach moto.log
    backends._bzapper_speed = True  # type: ignore[attr-defined]


def _services_listed_once() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # the werkzeug app looks it up on the module at each request


def _actions_listed_once() -> None:
    import moto.core.responses as core_responses

    # The module imported these functions by name: its own attributes are what its code calls.
    core_responses.method_names_from_class = functools.cache(core_responses.method_names_from_class)
    core_responses.camelcase_to_underscores = functools.lru_cache(maxsize=4096)(core_responses.camelcase_to_underscores)


def _sqs_attributes() -> None:
    import moto.sqs.models as sqs_models

    sqs_models.camelcase_to_underscores = functools.lru_cache(maxsize=4096)(sqs_models.camelcase_to_underscores)
    sqs_models.unix_time = _now(sqs_models.unix_time, 1.0)
    sqs_models.unix_time_millis = _now(sqs_models.unix_time_millis, 1000.0)
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = _within_retention


def _partition_queries() -> None:
    import moto.dynamodb.models.table as dynamodb_table

    dynamodb_table.Table.query = _partition_query(dynamodb_table.Table.query)


def _paths_parsed_once() -> None:
    import jsonpath_ng.ext

    # moto imports `parse` inside EventTemplateParser.parse at each call: the module's attribute is what it gets.
    jsonpath_ng.ext.parse = _cached_parse(jsonpath_ng.ext.parse)


def _now(original: Any, scale: float) -> Any:
    """moto's `unix_time()` / `unix_time_millis()`: the same number, without building datetimes."""

    def unix_time(dt: Any = None) -> float:
        return time.time() * scale if dt is None else original(dt)

    return unix_time


def _within_retention(self: Any, queue_name: str, message: Any) -> bool:
    """moto's own rule (sent + MessageRetentionPeriod still ahead), reading the one attribute it needs."""
    retention_period = self.get_queue(queue_name).message_retention_period
    return bool(retention_period + message.sent_timestamp / 1000 > time.time())


class _Partition:
    """A table seen through one partition: `all_items` answers that partition's items, sorted as moto sorts them;
    everything else is the table's own."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table, self._hash_key = table, hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        stored = self._table.items.get(self._hash_key)  # a defaultdict: never index it with a missing key
        if stored is None:
            return []
        items = list(stored.values()) if self._table.range_key_attr else [stored]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _partition_query(query: Any) -> Any:
    signature = inspect.signature(query)

    @functools.wraps(query)
    def partition_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        if bound.arguments.get("index_name") or hash_key is None:
            return query(self, *args, **kwargs)
        # moto keeps the items whose hash key equals the query's: exactly what the partition holds.
        return query(_Partition(self, hash_key), *args, **kwargs)

    return partition_query


def _cached_parse(parse: Any) -> Any:
    @functools.lru_cache(maxsize=256)
    def cached(path: str) -> Any:
        return parse(path)

    def parse_path(path: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(path, str):
            return parse(path, *args, **kwargs)
        return cached(path)

    return parse_path
