"""Signing in to the console: Flask-Login sessions, argon2 passwords, a plain HTML form with a CSRF token.

A sign-in is a `ConsoleSession` row; the cookie carries only its random token (Flask-Login's alternative id),
so signing out, a disabled account or an old sign-in (CONSOLE_SESSION_HOURS) loads no user, even for a copy
of the cookie. Wrong passwords are throttled by console.throttle.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Blueprint, Response, abort, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from models import Adviser, ConsoleSession, Role, User
from runtime.logging import get_logger
from runtime.web import services

log = get_logger(__name__)

# Its static folder holds the staff pages' vendored front end (static/vendor/) at /console/static/.
console_bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
login_manager = LoginManager()
login_manager.login_view = "console.login"
login_manager.login_message = "Sign in to use the console."
login_manager.login_message_category = "info"

_hasher = PasswordHasher()
SIGN_IN_FAILED = "The username or password is not right."
CSRF_FAILED = "The form expired. Please sign in again."
TOO_MANY_ATTEMPTS = "There have been too many wrong passwords. Wait {wait}, then try again."
# Control characters (NUL above all, which PostgreSQL refuses in text) are never part of a username.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*\Z"


@dataclass(frozen=True, eq=False)
class ConsoleUser(UserMixin):  # type: ignore[misc]
    """The signed-in user, detached from any database session (loaded once per request)."""

    id: int
    username: str
    display_name: str
    role: Role
    adviser_id: int | None
    session_token: str
    must_change_password: bool = False

    @classmethod
    def from_model(cls, user: User, session_token: str) -> ConsoleUser:
        return cls(
            user.id,
            user.username,
            user.display_name,
            user.role,
            user.adviser_id,
            session_token,
            user.must_change_password,
        )

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: this sign-in's token, never the user id, so it can be ended."""
        return self.session_token

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


def supervisor_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Supervisor pages (wallboard, operations, reports, callbacks): signed out -> sign-in, advisers -> 403."""

    @functools.wraps(view)
    @login_required
    def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.is_supervisor:
            abort(403)
        return view(*args, **kwargs)

    return guarded


def sign_in_time() -> datetime:
    """Now, as sign-ins are timed: the services' clock, except that the simulator's clock, which a tester jumps
    ahead to try Christmas Day, must not sign everyone out; sign-ins follow the real time there."""
    clock = services().clock
    wall_now = getattr(clock, "wall_now", None)
    return wall_now() if callable(wall_now) else clock.now()


def token_hash(token: str) -> str:
    """What the database keeps of a sign-in's token (SHA-256), so a copy of it holds no usable sign-ins."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_console_session(session: Session, user: User, now: datetime) -> ConsoleUser:
    """Record a new sign-in for `user` (in the caller's transaction) and return who is signed in by it."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=token_hash(token), user_id=user.id, created_at=now))
    return ConsoleUser.from_model(user, token)


def session_channel(token: str) -> str:
    """The pub/sub channel that tells this sign-in's live streams it has ended (named by the token's hash)."""
    return session_channel_of_hash(token_hash(token))


def session_channel_of_hash(token_hash: str) -> str:
    """The same channel from the stored hash, for ending someone else's sign-ins (a disabled account)."""
    return f"console:session:{token_hash[:32]}"


def end_console_session(session: Session, token: str, now: datetime) -> None:
    """Sign-out on the server: the token stops loading a user, wherever a copy of the cookie is."""
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_hash == token_hash(token), ConsoleSession.ended_at.is_(None))
        .values(ended_at=now)
    )


@login_manager.user_loader
def load_user(token: str) -> ConsoleUser | None:
    """The user of a sign-in that has not ended, is younger than CONSOLE_SESSION_HOURS, of an active account."""
    if not token or len(token) > 100:  # a cookie from before sign-ins were rows held the user id: not valid
        return None
    app_services = services()
    oldest = sign_in_time() - timedelta(hours=app_services.settings.console_session_hours)
    # Its own short session, so the request's session starts with no transaction open.
    with app_services.session_factory() as session:
        user = session.scalar(
            select(User)
            .join(ConsoleSession, ConsoleSession.user_id == User.id)
            .where(
                ConsoleSession.token_hash == token_hash(token),
                ConsoleSession.ended_at.is_(None),
                ConsoleSession.created_at > oldest,
                User.is_active.is_(True),
            )
        )
        return ConsoleUser.from_model(user, token) if user is not None else None


class LoginForm(FlaskForm):  # type: ignore[misc]
    """Rendered by GOV.UK Frontend's text and password inputs (govuk-frontend-wtf widgets)."""

    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter your username."),
            Length(max=80, message="A username is at most 80 characters."),
            Regexp(NO_CONTROL_CHARACTERS, message="Enter your username as letters and numbers."),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password."), Length(max=256)],
    )


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
        app_services = services()
        with app_services.session_factory.begin() as session:
            user = session.scalar(select(User).where(User.username == username, User.is_active.is_(True)))
            if check_password(user, form.password.data) and user is not None:
                if _hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = _hasher.hash(form.password.data)
                console_user = start_console_session(session, user, sign_in_time())
            else:
                console_user = None
        if console_user is not None:
            login_user(console_user)
            log.info("console.signed_in", user_id=console_user.id)
            if console_user.must_change_password:
                return redirect(url_for("console.change_password", next=safe_next(next_page)))
            return redirect(safe_next(next_page))
        log.info("console.sign_in_refused")
        form.password.errors = [SIGN_IN_FAILED]
        status = 401  # console.throttle counts exactly these answers
    elif request.method == "POST":
        status = 400
    form_errors = [CSRF_FAILED] if form.errors.get("csrf_token") else []
    return render_template("console/login.html", form=form, next=next_page, form_errors=form_errors), status


def throttled_login_page(retry_after_seconds: int) -> Response:
    """The sign-in page saying plainly how long to wait (429), with what was typed as username kept."""
    minutes = -(-retry_after_seconds // 60)
    wait = "a minute" if minutes <= 1 else f"{minutes} minutes"
    message = TOO_MANY_ATTEMPTS.format(wait=wait)
    page = render_template(
        "console/login.html", form=LoginForm(), next=request.args.get("next"), form_errors=[message]
    )
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(retry_after_seconds)
    return response


@console_bp.post("/logout")
def logout() -> ResponseReturnValue:
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            app_services = services()
            with app_services.session_factory.begin() as session:
                end_console_session(session, current_user.session_token, sign_in_time())
            _close_live_streams(current_user.session_token)
            log.info("console.signed_out", user_id=current_user.id)
        logout_user()
        return redirect(url_for("console.login"))
    return redirect(url_for("console.home"))


def _close_live_streams(token: str) -> None:
    """Open desks and wallboards of this sign-in stop streaming now, not at their next reconnect."""
    close_live_streams_of([token_hash(token)])


def close_live_streams_of(token_hashes: list[str]) -> None:
    """Open desks and wallboards of these ended sign-ins (by stored hash) stop streaming now."""
    try:
        for token_hash in token_hashes:
            services().redis.publish(session_channel_of_hash(token_hash), "ended")
    except redis.RedisError:
        log.warning("console.live_streams_not_told")  # they end within console.live.STREAM_LIFETIME_SECONDS


@console_bp.get("/")
@login_required
def home() -> ResponseReturnValue:
    with services().session_factory() as session:
        adviser = session.get(Adviser, current_user.adviser_id) if current_user.adviser_id else None
        return render_template("console/home.html", user=current_user, adviser=adviser)
