"""Flask-side access to the services: the per-request database session lives on `g`."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from runtime.services import EXTENSION_KEY, Services


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def db_session() -> Session:
    """One session per request, closed at teardown; service functions own their transactions."""
    if "db_session" not in g:
        g.db_session = services().session_factory()
    return g.db_session  # type: ignore[no-any-return]


def init_app(app: Flask, app_services: Services) -> None:
    app.extensions[EXTENSION_KEY] = app_services

    @app.teardown_appcontext
    def _close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
