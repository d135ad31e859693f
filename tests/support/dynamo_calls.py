"""Counts the DynamoDB requests PynamoDB makes, so a test can assert a path's documented cost."""

from __future__ import annotations

import pytest


class DynamoCalls:
    """The operation names of every DynamoDB request made from now on (until the test ends)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from pynamodb.connection.base import Connection

        self.names: list[str] = []
        real = Connection._make_api_call

        def counted(connection, operation_name, operation_kwargs):
            self.names.append(operation_name)
            return real(connection, operation_name, operation_kwargs)

        monkeypatch.setattr(Connection, "_make_api_call", counted)
