"""Liveness, readiness and metrics endpoints for the load balancer and Prometheus.

/metrics is not for the world: with METRICS_TOKEN set it answers only `Authorization: Bearer <token>` (what
Prometheus sends with `authorization: {credentials: …}`), 401 otherwise; with no token it is served only in
simulator mode and is a 404 elsewhere. No "trust loopback" rule: behind a proxy on the same host every request
would come from loopback.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy import text

from routing.service_level import ServiceRules
from routing.wallboard import Thresholds, Wallboard, wallboard
from routing.wallboard_gauges import WallboardGauges
from runtime.logging import get_logger
from runtime.metrics import render_latest
from runtime.web import services

log = get_logger(__name__)

health_bp = Blueprint("health", __name__)


@health_bp.get("/healthz")
def healthz() -> Response:
    """The process is up; says nothing about its dependencies."""
    return jsonify(status="ok")


@health_bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready only when the database and Redis both answer; 503 names what is down."""
    problems: dict[str, str] = {}
    app_services = services()
    try:
        with app_services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "not ready"
        problems["database"] = f"unreachable: {type(error).__name__}"
    try:
        app_services.redis.ping()
    except Exception as error:
        problems["redis"] = f"unreachable: {type(error).__name__}"
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ready", checks={"database": "ok", "redis": "ok"}), 200


@health_bp.get("/metrics")
def metrics() -> Response:
    settings = services().settings
    if settings.metrics_token is None:
        if not settings.simulator_enabled:
            abort(404)
    else:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            offered.strip().encode(), settings.metrics_token.encode()
        ):
            return Response(
                "A bearer token is needed for /metrics.\n",
                status=401,
                content_type="text/plain; charset=utf-8",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body, content_type = render_latest(WallboardGauges(_wallboard_now()))
    return Response(body, content_type=content_type)


def _wallboard_now() -> Wallboard | None:
    """The wallboard's figures for this scrape; None (figures_up 0) when the database cannot give them, so the
    process's own metrics are still served."""
    app_services = services()
    settings = app_services.settings
    try:
        with app_services.session_factory() as session:
            return wallboard(
                session,
                app_services.clock.now(),
                ServiceRules.from_settings(settings),
                Thresholds.from_settings(settings),
            )
    except Exception as error:  # any database error: say so in the metrics, never fail the scrape
        log.warning("metrics.wallboard_unavailable", error=type(error).__name__)
        return None
