"""The local runtime `bzapper dev` runs: moto, the gateway, the SQS pollers and timers, the worker process."""
