"""Console accounts: supervisors and admins create them, set roles, link them to an adviser, disable them and
reset their passwords; every change audited.

Who may do what is the council's separation of duties: a supervisor looks after advisers' accounts only; only an
admin creates or changes a supervisor's or an admin's account, or gives anyone those roles. Nobody disables or
demotes themselves, and the last active admin stays an active admin, so the console can never be locked out.

A reset gives a one-time password, shown once to the person who reset it and never stored in the clear; the
account must choose its own password at its next sign-in, and every sign-in it had ends at once. Disabling ends
them too. Plain Python over a Session: the pages (console/supervisor/users.py) own the request, this owns the rules.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Adviser, ConsoleSession, Role, User
from models.audit import record_change

LONGEST_USERNAME = 80  # User.username
LONGEST_DISPLAY_NAME = 120  # User.display_name
SHORTEST_PASSWORD = 12
LONGEST_PASSWORD = 256
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,79}")
# No 0/O, 1/l/I: a one-time password is read out or copied by hand.
_PASSWORD_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"
ONLY_ADMINS = "Only an admin can change supervisors' and admins' accounts."
ROLE_WORDS = {Role.ADVISER: "Adviser", Role.SUPERVISOR: "Supervisor", Role.ADMIN: "Admin"}

_hasher = PasswordHasher()


class AccountRefused(ValueError):
    """The request is wrong (400): `field` says which input, `message` what to do about it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field, self.message = field, message


class AccountNotFound(LookupError):
    """No account with that id."""


class NotAllowed(PermissionError):
    """The signed-in person's role may not make this change (403), in words they can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who is making the change: their account id and role."""

    user_id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True)
class AccountDetails:
    """What a create or edit form asks for, already read as text."""

    display_name: str
    role: Role
    adviser_id: int | None


def one_time_password() -> str:
    """Four groups of four easy-to-read characters, e.g. "hk7m-2qpx-9dne-vt4a" (about 79 bits)."""
    groups = ("".join(secrets.choice(_PASSWORD_LETTERS) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def may_manage(actor: Actor, role: Role) -> bool:
    """A supervisor looks after advisers' accounts; an admin after every account."""
    return actor.is_admin or role == Role.ADVISER


def roles_for(actor: Actor) -> list[Role]:
    """The roles this person may give an account."""
    return [role for role in Role if may_manage(actor, role)]


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise AccountNotFound(user_id)
    return user


def _check_may_manage(actor: Actor, user: User) -> None:
    if not may_manage(actor, user.role):
        raise NotAllowed(ONLY_ADMINS)


def _check_details(session: Session, actor: Actor, details: AccountDetails, user_id: int | None) -> None:
    if not may_manage(actor, details.role):
        raise AccountRefused("role", f"Only an admin can give the {details.role.value} role.")
    if details.adviser_id is None:
        if details.role == Role.ADVISER:
            raise AccountRefused("adviser_id", "Choose the adviser this account is for: advisers take calls.")
        return
    if session.get(Adviser, details.adviser_id) is None:
        raise AccountRefused("adviser_id", "Choose an adviser from the list.")
    taken = session.scalar(
        select(User.username).where(
            User.adviser_id == details.adviser_id,
            User.is_active.is_(True),
            User.id != (user_id or 0),
        )
    )
    if taken is not None:
        raise AccountRefused(
            "adviser_id",
            f"That adviser already has an account ({taken}). Disable it first, or choose another.",
        )


def _last_admin(session: Session, user: User) -> bool:
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
    )
    return user.role == Role.ADMIN and user.is_active and not others


def _view(session: Session, user: User) -> dict[str, Any]:
    """The account as the audit page shows it."""
    adviser = session.get(Adviser, user.adviser_id) if user.adviser_id else None
    return {
        "display name": user.display_name,
        "role": user.role.value,
        "adviser": adviser.name if adviser else None,
        "active": user.is_active,
    }


def _end_sign_ins(session: Session, user_id: int, now: datetime, keep: str | None = None) -> list[str]:
    """End every sign-in of the account but `keep` (a token hash); returns the ended ones' token hashes, so
    that their open live pages can be told."""
    ended = (
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now)
        .returning(ConsoleSession.token_hash)
    )
    if keep is not None:
        ended = ended.where(ConsoleSession.token_hash != keep)
    return list(session.scalars(ended))


def create_account(
    session: Session, actor: Actor, now: datetime, username: str, details: AccountDetails
) -> tuple[User, str]:
    """A new account that must choose its own password at first sign-in; returns it and its one-time password."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountRefused(
            "username",
            "A username is 3 to 80 lower-case letters, numbers, dots, dashes or underscores, "
            "starting with a letter or number.",
        )
    if session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None:
        raise AccountRefused("username", f"There is already an account called {username}. Choose another.")
    _check_details(session, actor, details, None)
    password = one_time_password()
    user = User(
        username=username,
        display_name=details.display_name,
        role=details.role,
        adviser_id=details.adviser_id,
        password_hash=hash_password(password),
        must_change_password=True,
        is_active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record_change(
        session,
        now=now,
        user_id=actor.user_id,
        action="user.created",
        subject_kind="user",
        subject_id=user.id,
        summary=f"Account {username} created ({ROLE_WORDS[details.role].lower()})",
        after={"username": username, **_view(session, user)},
    )
    return user, password


def change_account(
    session: Session, actor: Actor, now: datetime, user_id: int, details: AccountDetails
) -> tuple[User, list[str]]:
    """Change name, role and adviser link; a role change ends the account's sign-ins (its pages change)."""
    user = _get(session, user_id)
    _check_may_manage(actor, user)
    _check_details(session, actor, details, user.id)
    if details.role != user.role:
        if user.id == actor.user_id:
            raise AccountRefused("role", "You cannot change your own role. Ask another admin.")
        if _last_admin(session, user):
            raise AccountRefused("role", "This is the only active admin: make another admin first.")
    before = _view(session, user)
    role_changed = details.role != user.role
    user.display_name = details.display_name
    user.role = details.role
    user.adviser_id = details.adviser_id
    session.flush()
    after = _view(session, user)
    changed = {key for key in after if after[key] != before[key]}
    if not changed:
        return user, []
    record_change(
        session,
        now=now,
        user_id=actor.user_id,
        action="user.changed",
        subject_kind="user",
        subject_id=user.id,
        summary=f"Account {user.username}: {', '.join(sorted(changed))} changed",
        before={key: before[key] for key in sorted(changed)},
        after={key: after[key] for key in sorted(changed)},
    )
    return user, _end_sign_ins(session, user.id, now) if role_changed else []


def set_active(
    session: Session, actor: Actor, now: datetime, user_id: int, active: bool
) -> tuple[User, list[str]]:
    """Enable or disable an account; disabling ends its sign-ins. Returns the ended sign-ins' token hashes."""
    user = _get(session, user_id)
    _check_may_manage(actor, user)
    if user.is_active == active:
        return user, []
    if not active and user.id == actor.user_id:
        raise AccountRefused("account", "You cannot disable your own account.")
    if not active and _last_admin(session, user):
        raise AccountRefused("account", "This is the only active admin: make another admin first.")
    if active and user.adviser_id is not None:
        _check_details(session, actor, AccountDetails(user.display_name, user.role, user.adviser_id), user.id)
    user.is_active = active
    record_change(
        session,
        now=now,
        user_id=actor.user_id,
        action="user.enabled" if active else "user.disabled",
        subject_kind="user",
        subject_id=user.id,
        summary=f"Account {user.username} {'enabled' if active else 'disabled'}",
        before={"active": not active},
        after={"active": active},
    )
    return user, [] if active else _end_sign_ins(session, user.id, now)


def reset_password(
    session: Session, actor: Actor, now: datetime, user_id: int
) -> tuple[User, str, list[str]]:
    """A new one-time password (returned, never stored in the clear); the account's sign-ins end."""
    user = _get(session, user_id)
    _check_may_manage(actor, user)
    if user.id == actor.user_id:
        raise AccountRefused("account", "Change your own password from your home page, not by a reset.")
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    record_change(
        session,
        now=now,
        user_id=actor.user_id,
        action="user.password_reset",
        subject_kind="user",
        subject_id=user.id,
        summary=f"Password of {user.username} reset: a one-time password was given",
    )
    return user, password, _end_sign_ins(session, user.id, now)


def choose_password(
    session: Session, user_id: int, now: datetime, current: str, new: str, again: str, *, keep: str
) -> list[str]:
    """The account holder sets their own password (after a reset, or whenever they like); their other
    sign-ins end, the one they are using (`keep`, its token hash) stays. Returns the ended ones' hashes."""
    user = _get(session, user_id)
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountRefused("current_password", "Your current password is not right.") from None
    if len(new) < SHORTEST_PASSWORD:
        raise AccountRefused(
            "new_password", f"Your new password must be at least {SHORTEST_PASSWORD} characters."
        )
    if len(new) > LONGEST_PASSWORD:
        raise AccountRefused(
            "new_password", f"Your new password must be at most {LONGEST_PASSWORD} characters."
        )
    if new == current:
        raise AccountRefused("new_password", "Choose a password different from the one you signed in with.")
    if new.strip().lower() in {user.username.lower(), user.display_name.strip().lower()}:
        raise AccountRefused("new_password", "Your password must not be your username or your name.")
    if again != new:
        raise AccountRefused("confirm_password", "The two new passwords are not the same.")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    record_change(
        session,
        now=now,
        user_id=user.id,
        action="user.password_changed",
        subject_kind="user",
        subject_id=user.id,
        summary=f"{user.username} chose a new password",
    )
    return _end_sign_ins(session, user.id, now, keep=keep)
