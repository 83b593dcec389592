"""The staff console: sign-in pages (console.auth), the JSON API advisers and supervisors use (console.api),
the desk softphone's access tokens (console.softphone) and the service's front page at `/` (console.front).

Staff pages are GOV.UK Frontend and MOJ Frontend components on one layout (templates/console/base.html): the
GOV.UK macros come from govuk-frontend-jinja, the CSS and JavaScript from static/vendor/ (see refresh.py there).

No routing or IVR logic lives here: views parse input, call routing.advisers or the callback queries, and turn
domain errors into HTTP answers.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import generate_csrf
from jinja2 import BaseLoader, ChoiceLoader, PackageLoader, PrefixLoader

from runtime.services import EXTENSION_KEY


def init_app(app: Flask) -> None:
    """Attach Flask-Login, register the console's blueprints and throttle sign-ins and the API."""
    from console import errors, navigation, password, throttle
    from console.api import api_bp
    from console.auth import console_bp, login_manager
    from console.desk import desk_bp
    from console.front import front_bp
    from console.live import live_bp
    from console.softphone import softphone_bp
    from console.supervisor import supervisor_bp

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
    app.jinja_loader = _with_govuk_frontend_macros(app.jinja_loader)
    navigation.init_app(app)
    errors.init_app(app)
    password.init_app(app)
    # Flask-WTF's own name for it: forms outside a FlaskForm (the layout's sign-out button) post the same token.
    app.add_template_global(generate_csrf, "csrf_token")

    @app.context_processor
    def simulator_mode() -> dict[str, bool]:
        """The base layout says so on every page when nothing is real (no calls, demo data)."""
        return {"simulator_enabled": app_services.settings.simulator_enabled}

    app.register_blueprint(front_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(desk_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(softphone_bp)
    app.register_blueprint(supervisor_bp)
    throttle.init_app(app, app_services)


def _with_govuk_frontend_macros(loader: BaseLoader | None) -> BaseLoader:
    """Serve the packages' templates under their own prefixes, as their READMEs do.

    `{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}` finds GOV.UK Frontend's
    macros, and govuk-frontend-wtf's widgets find their templates under "govuk_frontend_wtf/"; the app's and
    the blueprints' own templates are looked up first, as before.
    """
    packages = PrefixLoader(
        {
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }
    )
    return ChoiceLoader([loader, packages]) if loader is not None else packages
