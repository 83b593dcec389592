from __future__ import annotations

import socket

from app import create_app
from tests.conftest import call_form


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_naming_redis_when_redis_is_down(settings, clock):
    app = create_app(settings.with_overrides(redis_url=f"redis://127.0.0.1:{_closed_port()}/0"), clock=clock)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert set(response.json["problems"]) == {"redis"}


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(settings, clock):
    broken = settings.with_overrides(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none"
    )
    response = create_app(broken, clock=clock).test_client().get("/readyz")
    assert response.status_code == 503
    assert set(response.json["problems"]) == {"database"}


def test_metrics_expose_webhook_latency_per_route_and_error_counts(client, twilio_post):
    twilio_post("/voice/incoming", call_form())
    twilio_post("/voice/incoming", call_form(), signed=False)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'contact_centre_webhook_latency_seconds_count{route="voice.incoming"}' in text
    assert 'contact_centre_webhook_errors_total{kind="bad_signature",route="voice.incoming"}' in text


METRICS_TOKEN = "prometheus-scrape-token-0123456789"


def test_metrics_are_not_served_outside_simulator_mode_without_a_token(settings, clock):
    app = create_app(settings.with_overrides(simulator_enabled=False), clock=clock)
    response = app.test_client().get("/metrics")
    assert response.status_code == 404
    assert "contact_centre_" not in response.get_data(as_text=True)


def test_metrics_with_a_token_answer_only_its_bearer(settings, clock):
    app = create_app(
        settings.with_overrides(simulator_enabled=False, metrics_token=METRICS_TOKEN), clock=clock
    )
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {METRICS_TOKEN}"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "contact_centre_" not in refused.get_data(as_text=True)
    allowed = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert allowed.status_code == 200
    assert "contact_centre_webhook_latency_seconds" in allowed.get_data(as_text=True)


def test_the_simulator_keeps_a_token_when_one_is_set(settings, clock):
    app = create_app(settings.with_overrides(metrics_token=METRICS_TOKEN), clock=clock)
    assert app.test_client().get("/metrics").status_code == 401
