"""Prometheus metrics, declared once at import (declaring a metric does no I/O).

Under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR; /metrics then aggregates all processes.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

WEBHOOK_LATENCY = Histogram(
    "contact_centre_webhook_latency_seconds",
    "Time to answer a Twilio webhook, per route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)
WEBHOOK_ERRORS = Counter(
    "contact_centre_webhook_errors_total",
    "Twilio webhooks that failed: a forged/unsigned request or an exception answered with safe TwiML.",
    ["route", "kind"],
)
QUEUE_WAITING_CALLERS = Gauge(
    "contact_centre_queue_waiting_callers",
    "Callers waiting for an adviser, per topic.",
    ["topic"],
    multiprocess_mode="livemax",
)


def render_latest() -> tuple[bytes, str]:
    """Return the exposition text for /metrics, aggregated across processes when multiprocess is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
