"""The staff pages' own error pages: 400, 403, 404 and 500 on the console's layout, in words, never a stack trace.

They answer for the console's HTML pages only (the sign-in pages, the desk, the supervisor's pages, reports) and
for unknown addresses under /console/. The JSON API (/api) keeps its JSON errors (its blueprint's handlers come
first) and Twilio's webhooks keep their own apologies (telephony.webhooks): for them these handlers hand the
error back unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError

from runtime.logging import get_logger

log = get_logger(__name__)

STAFF_BLUEPRINTS = frozenset({"console", "desk", "supervisor", "reports"})
# Who may use each audience's pages, as the 403 page says it.
WHO_CAN = {
    "supervisor": "supervisors and admins",
    "reports": "supervisors and admins",
    "desk": "advisers (staff linked to an adviser)",
}
SERVICE_DESK = "If you think this is wrong, tell the service desk."


def is_staff_page() -> bool:
    """Whether this request is for a console HTML page (or an address under /console/ that is none)."""
    if request.blueprint in STAFF_BLUEPRINTS:
        return True
    return (
        request.blueprint is None
        and request.path.startswith("/console/")
        and not request.path.startswith("/console/static/")
    )


def _page(code: int) -> dict[str, Any]:
    home = (url_for("console.home"), "Go to the console home page")
    if code == 403:
        who = WHO_CAN.get(request.blueprint or "", "staff whose role allows it")
        signed_in = (
            f"You are signed in as {current_user.display_name} ({current_user.role.value})."
            if current_user.is_authenticated
            else "You are not signed in."
        )
        return {
            "title": "You cannot use this page",
            "paragraphs": [f"This page is for {who}.", signed_in, SERVICE_DESK],
            "link": home,
        }
    if code == 404:
        return {
            "title": "Page not found",
            "paragraphs": [
                "If you typed the web address, check it is correct.",
                "If you pasted the web address, check you copied the entire address.",
            ],
            "link": home,
        }
    if code == 400:
        return {
            "title": "Sorry, that request could not be understood",
            "paragraphs": ["Go back and try again. If it keeps happening, tell the service desk."],
            "link": home,
        }
    return {
        "title": "Sorry, there is a problem with the service",
        "paragraphs": ["Try again later.", "If it keeps happening, tell the service desk."],
        "link": home,
    }


def render_error(code: int) -> ResponseReturnValue:
    """The error page for `code` on the staff layout; a plain one if even the layout cannot be drawn (the
    database being away, say, when the layout asks who is signed in)."""
    try:
        return render_template("console/error.html", **_page(code)), code
    except Exception:
        log.exception("console.error_page_failed", status=code)
        return _page_text(code), code, {"Content-Type": "text/plain; charset=utf-8"}


def _page_text(code: int) -> str:
    return "Sorry, there is a problem with the service. Try again later." if code >= 500 else f"Error {code}"


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def staff_http_error(error: HTTPException) -> ResponseReturnValue:
        if error.code in (400, 403, 404) and is_staff_page():
            return render_error(error.code)
        return error

    @app.errorhandler(InternalServerError)
    def staff_server_error(error: InternalServerError) -> ResponseReturnValue:
        if is_staff_page():
            return render_error(500)
        return error
