"""Simulator mode inside the app: the simulated Twilio world, its fake REST API, and (later) the browser phone.

Only `create_app` calls `init_simulator`, and only when SIMULATOR_ENABLED is true; production never serves it.
"""

from __future__ import annotations

from flask import Flask

from runtime.web import services
from simulator.call_engine import RequestsTransport
from simulator.fake_rest import init_fake_twilio
from simulator.world import SimulatedTwilio


def init_simulator(app: Flask) -> SimulatedTwilio:
    """Build the world that plays Twilio for this app and serve the fake REST API under /fake-twilio."""
    with app.app_context():
        app_services = services()
    settings = app_services.settings
    world = SimulatedTwilio(
        base_url=settings.public_base_url or "http://127.0.0.1:5000",
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        transport=RequestsTransport(),
        clock=app_services.clock,
    )
    init_fake_twilio(app, world)
    return world
