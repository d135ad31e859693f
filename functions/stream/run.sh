#!/bin/sh
# The `stream` function on AWS (infra/components/streaming.py). The Lambda Web Adapter's /opt/bootstrap
# (AWS_LAMBDA_EXEC_WRAPPER) runs this script instead of a Python handler; the adapter then forwards each
# Function URL request to uvicorn on AWS_LWA_PORT and streams the response back as it is written.
# The app is handler.py's `app`, the one the local runtime serves; /opt/python holds the layers
# (dependencies, the bzapper package, uvicorn). Locally, `bzapper dev` serves the same app.
set -e
export PYTHONPATH="/opt/python${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m uvicorn handler:app \
    --app-dir "${LAMBDA_TASK_ROOT:-.}" \
    --host 127.0.0.1 \
    --port "${AWS_LWA_PORT:-8080}" \
    --lifespan off \
    --no-server-header
