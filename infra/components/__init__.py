"""One construct per concern: tables, buckets, queues, bus, functions, HTTP API, schedules, worker, alarms."""
