"""Signing in to the console: Flask-Login sessions, argon2 passwords, a plain HTML form with a CSRF token."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from models import Adviser, Role, User
from runtime.logging import get_logger
from runtime.web import services

log = get_logger(__name__)

console_bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
login_manager = LoginManager()
login_manager.login_view = "console.login"
login_manager.login_message = "Sign in to use the console."
login_manager.login_message_category = "info"

_hasher = PasswordHasher()
SIGN_IN_FAILED = "The username or password is not right."
CSRF_FAILED = "The form expired. Please sign in again."


@dataclass(frozen=True, eq=False)
class ConsoleUser(UserMixin):  # type: ignore[misc]
    """The signed-in user, detached from any database session (loaded once per request)."""

    id: int
    username: str
    display_name: str
    role: Role
    adviser_id: int | None

    @classmethod
    def from_model(cls, user: User) -> ConsoleUser:
        return cls(user.id, user.username, user.display_name, user.role, user.adviser_id)

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


@login_manager.user_loader
def load_user(user_id: str) -> ConsoleUser | None:
    if not user_id.isdigit():
        return None
    # Its own short session, so the request's session starts with no transaction open.
    with services().session_factory() as session:
        user = session.get(User, int(user_id))
        return ConsoleUser.from_model(user) if user is not None and user.is_active else None


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Username", validators=[InputRequired("Enter your username."), Length(max=80)])
    password = PasswordField("Password", validators=[InputRequired("Enter your password."), Length(max=256)])


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: signing out is a POST so a link on another site cannot do it."""


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("no such user")


def check_password(user: User | None, password: str) -> bool:
    """Verify with argon2; an unknown user costs the same time, so timing does not reveal usernames."""
    try:
        _hasher.verify(user.password_hash if user is not None else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def safe_next(target: str | None) -> str:
    """Follow ?next= only within this site (never to another host)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("console.home")


@console_bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    next_page = request.args.get("next")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(next_page))
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        with services().session_factory.begin() as session:
            user = session.scalar(select(User).where(User.username == username, User.is_active.is_(True)))
            if check_password(user, form.password.data) and user is not None:
                if _hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = _hasher.hash(form.password.data)
                console_user = ConsoleUser.from_model(user)
            else:
                console_user = None
        if console_user is not None:
            login_user(console_user)
            log.info("console.signed_in", user_id=console_user.id)
            return redirect(safe_next(next_page))
        log.info("console.sign_in_refused")
        form.password.errors = [SIGN_IN_FAILED]
        status = 401
    elif request.method == "POST":
        status = 400
    csrf_errors = [CSRF_FAILED] if form.errors.get("csrf_token") else []
    return render_template("console/login.html", form=form, next=next_page, csrf_errors=csrf_errors), status


@console_bp.post("/logout")
def logout() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            log.info("console.signed_out", user_id=current_user.id)
        logout_user()
        return redirect(url_for("console.login"))
    return redirect(url_for("console.home"))


@console_bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    with services().session_factory() as session:
        adviser = session.get(Adviser, current_user.adviser_id) if current_user.adviser_id else None
        return render_template(
            "console/home.html", user=current_user, adviser=adviser, logout_form=LogoutForm()
        )
