"""The Kirklees contact-centre web app: `create_app()` builds it; importing this module does no I/O."""

from __future__ import annotations

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Settings, load_settings, load_settings_or_exit
from runtime.clock import Clock
from runtime.logging import configure_logging
from runtime.services import build_services


def create_app(config: Settings | None = None, clock: Clock | None = None) -> Flask:
    """Build the app from `config` (default: the environment) with all shared clients attached."""
    settings = config or _settings_from_environment()
    configure_logging(settings.log_level, settings.log_json, settings.secret_key, settings.default_region)

    app = Flask(__name__, instance_relative_config=True)
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.testing)
    if settings.trusted_proxy_count:
        # Believe that many proxies' X-Forwarded-For/-Proto (the client's address for sign-in throttling, https
        # for URLs); never by default, or any client could name its own address.
        count = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]

    from callbacks.views import callback_bp
    from callbacks.webhooks import callbacks_bp
    from console import init_app as init_console
    from ivr.views import voice_bp
    from routing.callback_legs import callback_leg_bp
    from routing.views import call_status_bp, queue_bp
    from runtime import web
    from runtime.cli import register_cli
    from runtime.health import health_bp

    web.init_app(app, build_services(settings, clock))
    app.register_blueprint(health_bp)
    app.register_blueprint(voice_bp)
    app.register_blueprint(queue_bp)
    app.register_blueprint(callback_leg_bp)
    app.register_blueprint(callback_bp)
    app.register_blueprint(call_status_bp)
    app.register_blueprint(callbacks_bp)
    init_console(app)
    register_cli(app)
    if settings.simulator_enabled:
        from simulator.web import init_simulator

        init_simulator(app)
    return app


def _settings_from_environment() -> Settings:
    """The environment's settings; under `flask --app app …` a setting problem is one line, not a traceback.

    Only on the command line: a gunicorn worker that exited here would be restarted for ever, so there the
    error is raised (gunicorn.conf.py has already refused to start with the same one line). Outside the command
    line this is the web app, which also needs the API key that signs the desk's softphone tokens.
    """
    if click.get_current_context(silent=True) is not None:
        return load_settings_or_exit()
    return load_settings(web=True)
