"""Business metrics reach Powertools' EMF output when running inside a Lambda entry point."""

from __future__ import annotations

import json


def test_counts_are_emitted_as_emf(capsys, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    from bzapper import lambda_entry, telemetry

    lambda_entry.metrics.clear_metrics()  # other tests in this process may have counted already
    telemetry.count("SendsAccepted")
    telemetry.count("SendsAccepted")
    lambda_entry.metrics.flush_metrics()
    emitted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert emitted["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "bzapper"
    assert emitted["SendsAccepted"] == [1.0, 1.0] or emitted["SendsAccepted"] == 2.0
