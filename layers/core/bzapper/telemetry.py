"""Business metrics: CloudWatch EMF through Powertools on Lambda, nothing elsewhere.

Services call `count(...)` without knowing where they run; the Powertools `Metrics` of the Lambda
entry point is used only when that module is loaded (a Lambda function, or the local runtime where
POWERTOOLS_METRICS_DISABLED keeps it silent).
"""

from __future__ import annotations

import sys


def count(name: str, value: float = 1) -> None:
    entry = sys.modules.get("bzapper.lambda_entry")
    if entry is not None:
        from aws_lambda_powertools.metrics import MetricUnit

        entry.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
