"""The staff console: sign-in pages (console.auth), the JSON API advisers and supervisors use (console.api),
the desk softphone's access tokens (console.softphone) and the service's front page at `/` (console.front).

No routing or IVR logic lives here: views parse input, call routing.advisers or the callback queries, and turn
domain errors into HTTP answers.
"""

from __future__ import annotations

from flask import Flask

from runtime.services import EXTENSION_KEY


def init_app(app: Flask) -> None:
    """Attach Flask-Login, register the console's blueprints and throttle sign-ins and the API."""
    from console import throttle
    from console.api import api_bp
    from console.auth import console_bp, login_manager
    from console.front import front_bp
    from console.softphone import softphone_bp

    app_services = app.extensions[EXTENSION_KEY]
    # The session cookie carries the sign-in: not readable by scripts, not sent on cross-site posts, and
    # outside the simulator's plain-http dev server only ever sent over HTTPS.
    secure = not app_services.settings.simulator_enabled
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
    )
    login_manager.init_app(app)
    app.register_blueprint(front_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(softphone_bp)
    throttle.init_app(app, app_services)
