"""Prometheus metrics shared by the API and the workers."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

JOB_OUTCOMES = Counter(
    "ledgerbridge_jobs_total",
    "Messages processed, by consumer, type and outcome",
    ["consumer", "type", "outcome"],
)
JOB_DURATION = Histogram(
    "ledgerbridge_job_duration_seconds", "Time to process one message", ["consumer", "type"]
)
QUEUE_DEPTH = Gauge("ledgerbridge_queue_depth", "Jobs waiting on a queue", ["queue"])
OUTBOX_UNFINISHED = Gauge("ledgerbridge_outbox_unfinished", "Outbox messages not yet processed", ["status"])
HTTP_REQUESTS = Counter(
    "ledgerbridge_http_requests_total", "API requests by route and status", ["method", "route", "status"]
)
