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

from runtime.metrics import render_latest
from runtime.web import services

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
    body, content_type = render_latest()
    return Response(body, content_type=content_type)
