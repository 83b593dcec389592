"""An adviser's callbacks on their desk: the ones due today, oldest first, and "call now".

"Call now" rings the adviser first, as a kept place does when it reaches the front (routing/callback_legs.py),
and only then the resident, through the dialler's own claim guard: whoever claims the attempt first dials, so a
resident is never rung twice, whether the dialler's job, another adviser or a double click got there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ivr.hours import LONDON
from models import Adviser, AdviserState, Callback, CallbackStatus, QueueEntry, QueueEntryStatus
from routing.contacts import TOPICS, mask

# A callback may be rung this long before its slot starts (an adviser free at 1:55 for a 2 pm slot).
CALL_NOW_EARLY = timedelta(minutes=10)
DESK_CALL_BACK_REASON = "called back from the desk"


class CallBackRefused(ValueError):
    """The call-back cannot start now; the message says why, in words for the adviser."""


@dataclass(frozen=True)
class DueCallback:
    callback_id: int
    topic: str
    due: datetime
    slot_ends: datetime | None
    status: str  # scheduled, dialling
    number: str
    reference: str | None
    attempts: int
    last_result: str | None
    mine: bool
    overdue: bool
    can_call_now: bool


def callbacks_due_today(
    session: Session, adviser: Adviser, now: datetime, full_numbers: bool = False
) -> list[DueCallback]:
    """Callbacks due by the end of today (UK time) that this adviser can take: assigned to them, or unassigned at
    their library (or at none) for a topic they have the skill for; oldest first."""
    end_of_today = datetime.combine(now.astimezone(LONDON).date() + timedelta(days=1), time(0), tzinfo=LONDON)
    skills = [skill.topic for skill in adviser.skills]
    rows = session.scalars(
        select(Callback)
        .where(
            Callback.status.in_((CallbackStatus.SCHEDULED, CallbackStatus.DIALLING)),
            Callback.keeps_place.is_(False),
            Callback.next_attempt_at < end_of_today,
            or_(
                Callback.assigned_adviser_id == adviser.id,
                (Callback.assigned_adviser_id.is_(None))
                & Callback.topic.in_(skills)
                & or_(Callback.library_id.is_(None), Callback.library_id == adviser.home_library_id),
            ),
        )
        .order_by(Callback.next_attempt_at, Callback.id)
    )
    return [
        DueCallback(
            callback_id=callback.id,
            topic=TOPICS.get(callback.topic.value, callback.topic.value),
            due=callback.next_attempt_at or callback.created_at,
            slot_ends=callback.slot_ends_at,
            status=callback.status.value,
            number=mask(callback.number, full_numbers) or "",
            reference=callback.reference,
            attempts=callback.attempts,
            last_result=callback.last_result,
            mine=callback.assigned_adviser_id == adviser.id,
            overdue=(callback.next_attempt_at or now) < now,
            can_call_now=_callable(callback, now),
        )
        for callback in rows
    ]


def _callable(callback: Callback, now: datetime) -> bool:
    due = callback.next_attempt_at
    return callback.status == CallbackStatus.SCHEDULED and due is not None and due <= now + CALL_NOW_EARLY


def offer_call_back(session: Session, adviser: Adviser, callback_id: int, now: datetime) -> QueueEntry:
    """Record a call-back offered to this adviser alone (their own "call now"), in the caller's transaction.

    Raises CallBackRefused when the callback is not theirs to call, not due, or already being dialled. The
    adviser must be reserved (on call) by the caller; the resident is claimed only when the adviser answers.
    """
    callback = session.scalar(select(Callback).where(Callback.id == callback_id).with_for_update())
    if callback is None or callback.keeps_place:
        raise CallBackRefused("That callback is not on your list.")
    if callback.assigned_adviser_id not in (None, adviser.id):
        raise CallBackRefused("That callback is assigned to another adviser.")
    if callback.status == CallbackStatus.DIALLING:
        raise CallBackRefused("That resident is being called now.")
    if not _callable(callback, now):
        raise CallBackRefused("That callback is not due yet, or is no longer booked.")
    if session.scalar(
        select(QueueEntry.id).where(
            QueueEntry.callback_id == callback.id,
            QueueEntry.status.in_(
                (QueueEntryStatus.WAITING, QueueEntryStatus.OFFERED, QueueEntryStatus.CONNECTED)
            ),
            QueueEntry.ended_at.is_(None),
        )
    ):
        raise CallBackRefused("That resident is being called now.")
    entry = QueueEntry(
        call_id=None,
        callback_id=callback.id,
        topic=callback.topic,
        language=callback.language,
        home_library_id=adviser.home_library_id,
        priority=0,
        priority_reasons=[DESK_CALL_BACK_REASON],
        joined_at=callback.created_at,
        status=QueueEntryStatus.OFFERED,
        adviser_id=adviser.id,
        offered_at=now,
        skipped_adviser_ids=[],
        direct=True,
    )
    callback.assigned_adviser_id, callback.updated_at = adviser.id, now
    session.add(entry)
    session.flush()
    return entry


RESERVABLE = frozenset({AdviserState.AVAILABLE.value, AdviserState.WRAP_UP.value})
