"""The adviser's desk: state, the screen pop of a ringing call, the softphone, wrap-up, callbacks due today.

Server-rendered (Jinja); a little JavaScript (static/console/desk.js) swaps in fresh fragments when the live
stream (console/live.py) says something changed, and drives the softphone. Every action is an ordinary form POST
with a CSRF token, so the desk also works, more slowly, without JavaScript. Views parse input and call
routing/callbacks services; the domain raises, the view answers 400 with the field's error or 409 when the
moment is wrong.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from callbacks.desk import CallBackRefused
from console.auth import LogoutForm
from console.softphone import softphone_options
from routing import advisers
from routing.desk import DeskView, desk_view
from routing.states import StateChangeRefused, TransitionNotAllowed
from routing.wrap_up import NOTE_MAX_CHARS, WrapUpAnswers, WrapUpInvalid, WrapUpNotYours, save_wrap_up
from runtime.logging import get_logger
from runtime.web import services

log = get_logger(__name__)
desk_bp = Blueprint("desk", __name__, url_prefix="/console/desk", template_folder="templates")

BREAK_REASONS = ("Comfort break", "Lunch", "Training", "Team meeting", "Other")
WRAP_UP_FIELDS = ("reason_code", "avoidable", "avoidable_cause", "resolved_first_contact", "note")
STATE_BUTTONS = (  # state, label, keyboard shortcut (Alt+Shift+key)
    ("available", "Available", "A"),
    ("break", "Break", "B"),
    ("customer_at_desk", "Customer at desk", "C"),
    ("offline", "Offline", "O"),
)


class DeskForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the desk's forms are plain HTML (GOV.UK markup), read from request.form."""


def adviser_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """The desk is for users linked to an adviser; others (supervisors without one) get 403."""

    @functools.wraps(view)
    @login_required
    def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_user.adviser_id is None:
            abort(403)
        return view(*args, **kwargs)

    return guarded


def _view() -> DeskView:
    app_services = services()
    with app_services.session_factory() as session:
        found = desk_view(
            session,
            current_user.adviser_id,
            app_services.clock.now(),
            app_services.settings.adviser_wrap_up_seconds,
            full_numbers=current_user.is_supervisor,
        )
        if found is None:
            abort(403)
        return found


def _fragments(
    view: DeskView, submitted: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> dict[str, str]:
    """The desk's live regions, each rendered on its own so the page swaps only what changed."""
    context = _context(view, submitted, errors)
    return {
        region: render_template(f"desk/_{region}.html", **context)
        for region in ("state", "call", "wrap_up", "callbacks", "waiting")
    }


def _context(
    view: DeskView, submitted: dict[str, str] | None, errors: dict[str, str] | None
) -> dict[str, Any]:
    return {
        "desk": view,
        "now": services().clock.now(),
        "form": DeskForm(),
        "submitted": submitted or {},
        "errors": errors or {},
        "state_buttons": STATE_BUTTONS,
        "break_reasons": BREAK_REASONS,
        "reason_choices": [(option.code, option.label) for option in view.wrap_up_options.reasons],
        "cause_choices": [(option.code, option.label) for option in view.wrap_up_options.avoidable_causes],
        "yes_no": [("yes", "Yes"), ("no", "No")],
        "note_max_chars": NOTE_MAX_CHARS,
    }


@desk_bp.get("")
@adviser_required
def page() -> ResponseReturnValue:
    return _render_page(_view())


def _render_page(
    view: DeskView,
    status: int = 200,
    errors: dict[str, str] | None = None,
    submitted: dict[str, str] | None = None,
) -> ResponseReturnValue:
    settings = services().settings
    context = _context(view, submitted, errors)
    context["fragments"] = _fragments(view, submitted, errors)
    context["logout_form"] = LogoutForm()
    context["softphone"] = softphone_options(settings, view.client_identity)
    return render_template("desk/page.html", **context), status


@desk_bp.get("/live")
@adviser_required
def live() -> Response:
    """The desk's regions as HTML fragments, fetched when the live stream says something changed."""
    response = jsonify(_fragments(_view()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _done(
    errors: dict[str, str] | None = None, status: int = 200, submitted: dict[str, str] | None = None
) -> ResponseReturnValue:
    """After a desk action: JSON for the page's script (fresh fragments, or errors), else back to the page."""
    if _wants_json():
        body: dict[str, Any] = {"fragments": _fragments(_view(), submitted, errors)}
        if errors:
            body["errors"] = errors
        return jsonify(body), status
    if errors:
        return _render_page(_view(), status, errors, submitted)
    return redirect(url_for("desk.page"))


EXPIRED = "The form expired. Reload the page and try again."


@desk_bp.post("/state")
@adviser_required
def change_state() -> ResponseReturnValue:
    """Available, break (with a reason), customer at desk, offline; "ready now" ends wrap-up early."""
    if not DeskForm().validate_on_submit():
        return _done({"state": EXPIRED}, 400)
    state = request.form.get("state", "").strip()
    reason = None
    if state == "break":
        chosen = request.form.get("reason", "").strip()
        reason = request.form.get("other_reason", "").strip()[:120] if chosen == "Other" else chosen
        if not reason or (chosen not in BREAK_REASONS):
            return _done({"reason": "Choose a reason for the break."}, 400)
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            advisers.change_state(
                app_services, session, current_user.adviser_id, state, reason, by_user=current_user
            )
    except StateChangeRefused as refused:
        return _done(
            {refused.field: refused.message}, 409 if isinstance(refused, TransitionNotAllowed) else 400
        )
    return _done()


@desk_bp.post("/wrap-ups/<int:wrap_up_id>")
@adviser_required
def code_wrap_up(wrap_up_id: int) -> ResponseReturnValue:
    """Save the wrap-up; "save and take calls" also ends wrap-up so the next call can come."""
    submitted = {name: request.form.get(name, "") for name in WRAP_UP_FIELDS}
    if not DeskForm().validate_on_submit():
        return _done({"reason_code": EXPIRED}, 400, submitted)
    answers = WrapUpAnswers(**submitted)
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            save_wrap_up(
                session,
                wrap_up_id,
                current_user.adviser_id,
                answers,
                app_services.clock.now(),
                current_user.id,
            )
            if request.form.get("ready") == "yes":
                # On a call again already (a callback)? The wrap-up is saved all the same.
                with contextlib.suppress(StateChangeRefused):
                    advisers.change_state(
                        app_services,
                        session,
                        current_user.adviser_id,
                        "available",
                        None,
                        by_user=current_user,
                    )
    except WrapUpInvalid as invalid:
        return _done(invalid.errors, 400, submitted)
    except WrapUpNotYours:
        abort(404)
    log.info("desk.wrap_up_saved", adviser_id=current_user.adviser_id, wrap_up_id=wrap_up_id)
    return _done()


@desk_bp.post("/callbacks/<int:callback_id>/call")
@adviser_required
def call_back(callback_id: int) -> ResponseReturnValue:
    """Call now: the adviser's phone rings first, then the resident (never twice, see callbacks.desk)."""
    if not DeskForm().validate_on_submit():
        return _done({"callbacks": EXPIRED}, 400)
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            advisers.call_back_from_desk(
                app_services, session, current_user.adviser_id, callback_id, current_user
            )
    except CallBackRefused as refused:
        return _done({"callbacks": str(refused)}, 409)
    except StateChangeRefused as refused:
        return _done({"callbacks": refused.message}, 409)
    return _done()
