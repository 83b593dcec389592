"""The supervisor's accounts pages: every console account; add one; change its name, role and adviser; disable
or enable it; reset its password (a one-time password shown once, on the page that answers the reset).

console.accounts makes and audits each change and says who may make it (a supervisor looks after advisers'
accounts; an admin after everyone's). Views read the form, answer 400 with an error summary for a field error,
403 for a change the viewer's role may not make, and 404 for an account that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import accounts
from console.accounts import AccountDetails, Actor
from console.auth import close_live_streams_of, supervisor_required
from console.inputs import Inputs
from console.supervisor import supervisor_bp
from models import Adviser, Role, User
from runtime.logging import get_logger
from runtime.web import services

log = get_logger(__name__)
EXPIRED = "The form expired. Reload the page and try again."
# A page showing a one-time password is never kept by the browser or anything between.
NOT_KEPT = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


class AccountForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the forms are plain GOV.UK markup, read from request.form."""


def _actor() -> Actor:
    return Actor(current_user.id, current_user.role)


def _adviser_choices(session: Session) -> list[tuple[int, str, str | None]]:
    """Every adviser, with the username of the active account already linked to them (if any)."""
    linked = dict(
        session.execute(
            select(User.adviser_id, User.username).where(
                User.adviser_id.is_not(None), User.is_active.is_(True)
            )
        ).all()
    )
    advisers = session.execute(select(Adviser.id, Adviser.name).order_by(Adviser.name)).all()
    return [(adviser_id, name, linked.get(adviser_id)) for adviser_id, name in advisers]


def _not_found() -> ResponseReturnValue:
    page = {
        "title": "Page not found",
        "paragraphs": ["There is no account with that number. It may have been mistyped."],
        "link": (url_for("supervisor.users"), "Go back to accounts"),
    }
    return render_template("console/error.html", **page), 404


def _not_allowed(message: str) -> ResponseReturnValue:
    page = {
        "title": "You cannot make this change",
        "paragraphs": [message, "Ask an admin if it needs doing."],
        "link": (url_for("supervisor.users"), "Go back to accounts"),
    }
    return render_template("console/error.html", **page), 403


def _read_details(inputs: Inputs, session: Session) -> AccountDetails | None:
    """The name, role and adviser typed into the add or change form."""
    display_name = inputs.text(
        "display_name",
        (request.form.get("display_name") or "").strip(),
        max_length=accounts.LONGEST_DISPLAY_NAME,
    )
    if display_name is None and "display_name" not in inputs.errors:
        inputs.fail("display_name", "Enter the person's name, as colleagues know them.")
    raw_role = request.form.get("role") or ""
    role = Role(raw_role) if raw_role in {r.value for r in Role} else None
    if role is None:
        inputs.fail("role", "Choose what this person does: adviser, supervisor or admin.")
    adviser_id = inputs.whole_number(
        "adviser_id", request.form.get("adviser_id") or None, message="Choose an adviser from the list."
    )
    if inputs.errors or display_name is None or role is None:
        return None
    return AccountDetails(display_name, role, adviser_id)


def _typed() -> dict[str, str]:
    return {
        field: (request.form.get(field) or "")[:200]
        for field in ("username", "display_name", "role", "adviser_id")
    }


# --- the list ------------------------------------------------------------------------------------------------


@supervisor_bp.get("/users")
@supervisor_required
def users() -> ResponseReturnValue:
    """Every account, active ones first, with its role, adviser and whether it must choose a password."""
    with services().session_factory() as session:
        rows = session.execute(
            select(User, Adviser.name)
            .outerjoin(Adviser, Adviser.id == User.adviser_id)
            .order_by(User.is_active.desc(), User.role, User.display_name)
        ).all()
        return render_template(
            "supervisor/users.html",
            rows=rows,
            role_words=accounts.ROLE_WORDS,
            actor=_actor(),
            may_manage=accounts.may_manage,
        )


# --- adding an account ---------------------------------------------------------------------------------------


def _render_new(status: int = 200, errors: dict[str, str] | None = None) -> ResponseReturnValue:
    with services().session_factory() as session:
        return (
            render_template(
                "supervisor/user_new.html",
                form=AccountForm(),
                errors=errors or {},
                typed=_typed() if request.method == "POST" else {"role": "adviser"},
                roles=accounts.roles_for(_actor()),
                role_words=accounts.ROLE_WORDS,
                advisers=_adviser_choices(session),
            ),
            status,
        )


@supervisor_bp.get("/users/new")
@supervisor_required
def new_user() -> ResponseReturnValue:
    return _render_new()


@supervisor_bp.post("/users/new")
@supervisor_required
def create_user() -> ResponseReturnValue:
    """Make the account and show its one-time password, once (it is stored only as a hash)."""
    if not AccountForm().validate_on_submit():
        return _render_new(400, {"username": EXPIRED})
    inputs = Inputs()
    app_services = services()
    username = inputs.text(
        "username", (request.form.get("username") or "").strip(), max_length=accounts.LONGEST_USERNAME
    )
    if username is None and "username" not in inputs.errors:
        inputs.fail("username", "Enter a username: the name they will sign in with.")
    try:
        with app_services.session_factory.begin() as session:
            details = _read_details(inputs, session)
            if inputs.errors or details is None or username is None:
                return _render_new(400, inputs.errors)
            user, password = accounts.create_account(
                session, _actor(), app_services.clock.now(), username, details
            )
            shown = {"id": user.id, "username": user.username, "display_name": user.display_name}
    except accounts.AccountRefused as refused:
        return _render_new(400, {refused.field: refused.message})
    log.info("console.account_created", user_id=shown["id"], by=current_user.id)
    page = render_template("supervisor/user_password.html", account=shown, password=password, created=True)
    return page, 201, NOT_KEPT


# --- one account ---------------------------------------------------------------------------------------------


def _render_user(
    user_id: int, status: int = 200, errors: dict[str, str] | None = None, typed: dict[str, str] | None = None
) -> ResponseReturnValue:
    with services().session_factory() as session:
        user = session.get(User, user_id)
        if user is None:
            return _not_found()
        adviser = session.get(Adviser, user.adviser_id) if user.adviser_id else None
        values = typed or {
            "display_name": user.display_name,
            "role": user.role.value,
            "adviser_id": str(user.adviser_id or ""),
        }
        actor = _actor()
        return (
            render_template(
                "supervisor/user.html",
                user=user,
                adviser=adviser,
                form=AccountForm(),
                errors=errors or {},
                typed=values,
                roles=accounts.roles_for(actor),
                role_words=accounts.ROLE_WORDS,
                advisers=_adviser_choices(session),
                manageable=accounts.may_manage(actor, user.role),
                is_me=user.id == actor.user_id,
                only_admins=accounts.ONLY_ADMINS,
            ),
            status,
        )


@supervisor_bp.get("/users/<int:user_id>")
@supervisor_required
def user(user_id: int) -> ResponseReturnValue:
    """One account: who it is, and what can be changed about it."""
    return _render_user(user_id)


@supervisor_bp.post("/users/<int:user_id>")
@supervisor_required
def change_user(user_id: int) -> ResponseReturnValue:
    """Save the account's name, role and adviser (a role change signs them out: their pages change)."""
    typed = _typed()
    if not AccountForm().validate_on_submit():
        return _render_user(user_id, 400, {"display_name": EXPIRED}, typed)
    inputs = Inputs()
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            details = _read_details(inputs, session)
            if inputs.errors or details is None:
                return _render_user(user_id, 400, inputs.errors, typed)
            changed, ended = accounts.change_account(
                session, _actor(), app_services.clock.now(), user_id, details
            )
            name = changed.display_name
    except accounts.AccountNotFound:
        return _not_found()
    except accounts.NotAllowed as refused:
        return _not_allowed(refused.message)
    except accounts.AccountRefused as refused:
        return _render_user(user_id, 400, {refused.field: refused.message}, typed)
    close_live_streams_of(ended)
    flash(
        f"{name}'s account is saved." + (" They have been signed out: their role changed." if ended else "")
    )
    return redirect(url_for("supervisor.user", user_id=user_id))


@supervisor_bp.post("/users/<int:user_id>/active")
@supervisor_required
def set_user_active(user_id: int) -> ResponseReturnValue:
    """Disable the account (it is signed out everywhere at once) or enable it again."""
    if not AccountForm().validate_on_submit():
        return _render_user(user_id, 400, {"account": EXPIRED})
    wanted = request.form.get("active")
    if wanted not in ("yes", "no"):
        return _render_user(user_id, 400, {"account": "Choose to disable or enable the account."})
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            changed, ended = accounts.set_active(
                session, _actor(), app_services.clock.now(), user_id, wanted == "yes"
            )
            name = changed.display_name
    except accounts.AccountNotFound:
        return _not_found()
    except accounts.NotAllowed as refused:
        return _not_allowed(refused.message)
    except accounts.AccountRefused as refused:
        return _render_user(user_id, 400, {refused.field: refused.message})
    close_live_streams_of(ended)
    if wanted == "yes":
        flash(f"{name}'s account is enabled. They can sign in again.")
    else:
        flash(f"{name}'s account is disabled. They have been signed out and cannot sign in.")
    return redirect(url_for("supervisor.user", user_id=user_id))


@supervisor_bp.post("/users/<int:user_id>/password")
@supervisor_required
def reset_user_password(user_id: int) -> ResponseReturnValue:
    """A one-time password for the account, shown once on the page this answers with."""
    if not AccountForm().validate_on_submit():
        return _render_user(user_id, 400, {"account": EXPIRED})
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            changed, password, ended = accounts.reset_password(
                session, _actor(), app_services.clock.now(), user_id
            )
            shown: dict[str, Any] = {
                "id": changed.id,
                "username": changed.username,
                "display_name": changed.display_name,
            }
    except accounts.AccountNotFound:
        return _not_found()
    except accounts.NotAllowed as refused:
        return _not_allowed(refused.message)
    except accounts.AccountRefused as refused:
        return _render_user(user_id, 400, {refused.field: refused.message})
    close_live_streams_of(ended)
    log.info("console.password_reset", user_id=user_id, by=current_user.id)
    page = render_template("supervisor/user_password.html", account=shown, password=password, created=False)
    return page, 200, NOT_KEPT
