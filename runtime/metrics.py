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
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

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
# The queue's and advisers' figures now (contact_centre_queue_waiting_callers, ...) are not declared here: they
# are read from the database at each scrape (routing.wallboard_gauges), so every process reports the same.


def render_latest(*at_scrape: Collector) -> tuple[bytes, str]:
    """Return the exposition text for /metrics, aggregated across processes when multiprocess is on, followed by
    the figures of `at_scrape` collectors worked out for this scrape (names distinct from the declared ones)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if at_scrape:
        this_scrape = CollectorRegistry(auto_describe=False)
        for collector in at_scrape:
            this_scrape.register(collector)
        body += generate_latest(this_scrape)
    return body, CONTENT_TYPE_LATEST
