"""Choosing your own password: after a supervisor's reset or at a new account's first sign-in (when nothing else
in the console opens until it is done), or whenever a member of staff wants to from their home page."""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from console.accounts import LONGEST_PASSWORD, SHORTEST_PASSWORD, AccountRefused, choose_password
from console.auth import close_live_streams_of, console_bp, safe_next, token_hash
from runtime.logging import get_logger
from runtime.web import services

log = get_logger(__name__)
MISSING = {
    "current_password": "Enter your current password.",
    "new_password": "Enter your new password.",
    "confirm_password": "Enter your new password again.",
}
# What a signed-in account that must choose a password may still open.
ALWAYS_OPEN = frozenset({"console.change_password", "console.logout", "console.static", "console.login"})
# Pages lead to the password page; the JSON API, live streams and softphone tokens answer 403.
DATA_BLUEPRINTS = frozenset({"api", "live", "softphone"})
STAFF_BLUEPRINTS = DATA_BLUEPRINTS | {"console", "desk", "supervisor"}


class PasswordForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the fields are plain GOV.UK password inputs, read from request.form."""


def _page(status: int = 200, errors: dict[str, str] | None = None) -> ResponseReturnValue:
    return (
        render_template(
            "console/password.html",
            form=PasswordForm(),
            errors=errors or {},
            must_change=current_user.must_change_password,
            next=request.args.get("next"),
            shortest=SHORTEST_PASSWORD,
        ),
        status,
    )


@console_bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    """Current password, the new one twice; the account's other sign-ins end (this one stays)."""
    if request.method == "GET":
        return _page()
    if not PasswordForm().validate_on_submit():
        return _page(400, {"current_password": "The form expired. Reload the page and try again."})
    typed = {field: request.form.get(field, "")[: LONGEST_PASSWORD + 1] for field in MISSING}
    errors = {field: message for field, message in MISSING.items() if not typed[field]}
    if errors:
        return _page(400, errors)
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            ended = choose_password(
                session,
                current_user.id,
                app_services.clock.now(),
                typed["current_password"],
                typed["new_password"],
                typed["confirm_password"],
                keep=token_hash(current_user.session_token),
            )
    except AccountRefused as refused:
        return _page(400, {refused.field: refused.message})
    close_live_streams_of(ended)
    log.info("console.password_changed", user_id=current_user.id)
    flash("Your password is changed. Use it the next time you sign in.")
    return redirect(safe_next(request.args.get("next")))


def init_app(app: Flask) -> None:
    """Until an account that must choose a password has done so, every console page leads to this one."""

    @app.before_request
    def password_first() -> ResponseReturnValue | None:
        if request.blueprint not in STAFF_BLUEPRINTS or request.endpoint in ALWAYS_OPEN:
            return None
        if not current_user.is_authenticated or not current_user.must_change_password:
            return None
        if request.blueprint in DATA_BLUEPRINTS:
            return jsonify({"error": "Choose a new password first, at /console/password."}), 403
        return redirect(url_for("console.change_password", next=request.full_path.rstrip("?")))
