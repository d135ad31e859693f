"""What a failed schemathesis run shows first: its failures, then the end of the output (CI keeps only a part)."""

from __future__ import annotations

import re

SECTION = re.compile(r"^=+ (FAILURES|WARNINGS|SUMMARY) =+$", re.MULTILINE)


def failures_first(output: str, limit: int = 30000) -> str:
    """The FAILURES section of schemathesis' report (each failing operation, the check, the curl that reproduces
    it), then the tail of the output, within `limit` characters."""
    starts = [m for m in SECTION.finditer(output) if m.group(1) == "FAILURES"]
    if not starts:
        return output[-limit:]
    start = starts[-1].start()
    end = next((m.start() for m in SECTION.finditer(output, starts[-1].end())), len(output))
    failures = output[start:end][: limit // 2]
    return failures + "\n…\n" + output[-(limit - len(failures)) :]
