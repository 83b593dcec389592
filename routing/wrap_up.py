"""Wrap-up after every conversation: what the adviser records, checked against the council's lists.

A conversation that ends starts a pending wrap-up (`start_wrap_up`, in the transaction that ends it). The adviser
codes it on the desk: a reason from the configurable list, whether the contact was avoidable and why, whether it
was resolved at first contact, a short note. When the wrap-up time runs out (or the adviser moves on first), a
pending wrap-up becomes uncoded (`leave_wrap_up`): never lost, still listed on the desk to code later.

Plain functions over a session; they never commit.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import QueueEntry, WrapUp, WrapUpOption, WrapUpOptionKind, WrapUpStatus

NOTE_MAX_CHARS = 500
# Uncoded wrap-ups older than this drop off the desk's list (reports still count them).
TO_CODE_DAYS = 7


class WrapUpInvalid(ValueError):
    """The wrap-up form has errors: field → message, in words for the adviser."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = dict(errors)


class WrapUpNotYours(LookupError):
    """No wrap-up of this adviser's has that id."""


@dataclass(frozen=True)
class WrapUpAnswers:
    """What the adviser submitted, as text fields straight from the form (checked by `save_wrap_up`)."""

    reason_code: str = ""
    avoidable: str = ""  # "yes" / "no"
    avoidable_cause: str = ""
    resolved_first_contact: str = ""  # "yes" / "no"
    note: str = ""


@dataclass(frozen=True)
class Options:
    reasons: tuple[WrapUpOption, ...]
    avoidable_causes: tuple[WrapUpOption, ...]

    def label(self, kind: WrapUpOptionKind, code: str | None) -> str | None:
        listed = self.reasons if kind == WrapUpOptionKind.REASON else self.avoidable_causes
        return next((option.label for option in listed if option.code == code), code)


def options(session: Session, include_inactive: bool = False) -> Options:
    """The council's lists, in their order (inactive entries only to name old wrap-ups)."""
    query = select(WrapUpOption).order_by(WrapUpOption.kind, WrapUpOption.position, WrapUpOption.id)
    if not include_inactive:
        query = query.where(WrapUpOption.active.is_(True))
    rows = session.scalars(query).all()
    return Options(
        tuple(row for row in rows if row.kind == WrapUpOptionKind.REASON),
        tuple(row for row in rows if row.kind == WrapUpOptionKind.AVOIDABLE_CAUSE),
    )


def start_wrap_up(session: Session, entry: QueueEntry, now: datetime) -> WrapUp | None:
    """The conversation of this queue entry ended: a pending wrap-up for its adviser (once per entry)."""
    if entry.adviser_id is None:
        return None
    existing = session.scalar(select(WrapUp).where(WrapUp.queue_entry_id == entry.id))
    if existing is not None:
        return existing
    wrap_up = WrapUp(
        queue_entry_id=entry.id,
        call_id=entry.call_id,
        callback_id=entry.callback_id,
        adviser_id=entry.adviser_id,
        topic=entry.topic,
        status=WrapUpStatus.PENDING,
        started_at=now,
    )
    session.add(wrap_up)
    session.flush()
    return wrap_up


def leave_wrap_up(session: Session, adviser_id: int) -> int:
    """The adviser's wrap-up time is over (or they moved on): what they did not code is kept, as uncoded."""
    return int(
        session.execute(
            update(WrapUp)
            .where(WrapUp.adviser_id == adviser_id, WrapUp.status == WrapUpStatus.PENDING)
            .values(status=WrapUpStatus.UNCODED)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def to_code(session: Session, adviser_id: int, now: datetime) -> list[WrapUp]:
    """This adviser's wrap-ups still to code (the one in hand first, then uncoded ones, newest first)."""
    return list(
        session.scalars(
            select(WrapUp)
            .where(
                WrapUp.adviser_id == adviser_id,
                WrapUp.status.in_((WrapUpStatus.PENDING, WrapUpStatus.UNCODED)),
                WrapUp.started_at >= now - timedelta(days=TO_CODE_DAYS),
            )
            .order_by((WrapUp.status == WrapUpStatus.PENDING).desc(), WrapUp.started_at.desc())
        )
    )


def save_wrap_up(
    session: Session,
    wrap_up_id: int,
    adviser_id: int,
    answers: WrapUpAnswers,
    now: datetime,
    by_user_id: int | None,
) -> WrapUp:
    """Code a wrap-up of this adviser's (pending, uncoded, or coded already: a correction). Raises WrapUpInvalid
    with every field's error, or WrapUpNotYours."""
    wrap_up = session.scalar(
        select(WrapUp).where(WrapUp.id == wrap_up_id, WrapUp.adviser_id == adviser_id).with_for_update()
    )
    if wrap_up is None:
        raise WrapUpNotYours(wrap_up_id)
    lists = options(session)
    errors: dict[str, str] = {}
    reason = answers.reason_code.strip()
    if reason not in {option.code for option in lists.reasons}:
        errors["reason_code"] = "Choose why the resident called."
    avoidable = _yes_no(answers.avoidable)
    if avoidable is None:
        errors["avoidable"] = "Say whether this contact could have been avoided."
    cause = answers.avoidable_cause.strip() or None
    if avoidable and cause not in {option.code for option in lists.avoidable_causes}:
        errors["avoidable_cause"] = "Choose what made this contact happen."
    resolved = _yes_no(answers.resolved_first_contact)
    if resolved is None:
        errors["resolved_first_contact"] = "Say whether it was sorted out on this call."
    note = answers.note.strip()
    if len(note) > NOTE_MAX_CHARS:
        errors["note"] = f"The note must be {NOTE_MAX_CHARS} characters or fewer (it is {len(note)})."
    elif any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in note):
        errors["note"] = "The note has characters that cannot be kept; type it again."
    if errors:
        raise WrapUpInvalid(errors)
    wrap_up.reason_code, wrap_up.avoidable, wrap_up.resolved_first_contact = reason, avoidable, resolved
    wrap_up.avoidable_cause = cause if avoidable else None
    wrap_up.note = note or None
    wrap_up.status, wrap_up.coded_at, wrap_up.coded_by_user_id = WrapUpStatus.CODED, now, by_user_id
    return wrap_up


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value.strip().lower())
