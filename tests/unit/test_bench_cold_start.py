"""The deployed-tree cold-start measurement's own arithmetic (the figures themselves are read, not tested)."""

from __future__ import annotations

from bench.cold_start import _self_ms_by_package, render_deployed


def test_importtime_self_time_is_summed_by_top_level_package() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      1500 |       1500 |   fastapi.routing",
            "import time:       500 |       2000 | fastapi",
            "import time:      2500 |       2500 | bzapper.api.apps",
            "some other line a handler printed",
        ]
    )
    assert _self_ms_by_package(stderr) == {"bzapper": 2.5, "fastapi": 2.0}


def test_the_deployed_table_shows_ratios_heavy_modules_and_errors() -> None:
    result = {
        "python": "3.12",
        "bytecode": True,
        "tracing": False,
        "repeats": 5,
        "import_boto3_ms": 100.0,
        "files_written_into_the_tree": 0,
        "handlers": {
            "messages": {"import_ms": 300.0, "import_x": 3.0, "modules_loaded": 600, "heavy_loaded": ["fastapi"]},
            "statuses": {"import_ms": 100.0, "import_x": 1.0, "modules_loaded": 400, "heavy_loaded": []},
            "broken": {"error": ["ImportError: no module named x"]},
        },
        "import_self_ms_by_package": {"statuses": {"bzapper": 26.1}},
    }
    lines = render_deployed(result).splitlines()
    assert "python 3.12, read-only, bytecode shipped, tracing off; median of 5" in lines[0]
    assert lines[1] == "  import boto3 = 100.0 ms = 1.0x; files written into the tree: 0"
    messages = next(line for line in lines if line.split()[0] == "messages")
    assert messages.split() == ["messages", "300.0", "3.0x", "600", "fastapi"]
    statuses = next(line for line in lines if line.split()[0] == "statuses")
    assert statuses.split()[-1] == "-"
    assert any("broken" in line and "ImportError" in line for line in lines)
    assert lines[-1] == "  statuses import, self ms by package: bzapper 26.1"
