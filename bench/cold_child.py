"""Run in a fresh interpreter by bench.cold_start: time one import, or one handler's import and first calls.

Input: one JSON argument. Output: one JSON line on stdout. Only the standard library is imported
before the clock starts.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time


class _Context:
    function_name = "bzapper-bench-cold"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bzapper-bench-cold"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    function_version = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _status(response: object) -> object:
    if isinstance(response, dict):
        if "statusCode" in response:
            return response["statusCode"]
        if "batchItemFailures" in response:
            return f"{len(response['batchItemFailures'])} failed"
    return "ok"


def main() -> None:
    spec = json.loads(sys.argv[1])
    if "sys_path" in spec:
        # Lambda's search path (the function's directory, then the layers' /opt/python) instead of this file's.
        sys.path[0:1] = spec["sys_path"]
    started = time.perf_counter()
    if spec["mode"] == "import":
        importlib.import_module(spec["module"])
        print(json.dumps({"import_s": time.perf_counter() - started}))
        return
    module_spec = importlib.util.spec_from_file_location("handler", spec["path"])
    assert module_spec and module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    sys.modules["handler"] = module
    module_spec.loader.exec_module(module)
    imported = time.perf_counter()
    result: dict[str, object] = {"import_s": imported - started, "modules": len(sys.modules)}
    if "watch" in spec:
        result["loaded"] = sorted(name for name in spec["watch"] if name in sys.modules)
    for name, event in zip(("first", "second"), spec.get("events", []), strict=False):
        began = time.perf_counter()
        response = module.handler(event, _Context())
        result[f"{name}_s"] = time.perf_counter() - began
        result[f"{name}_status"] = _status(response)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
