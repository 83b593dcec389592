"""What an adviser's desk shows at a moment: their state, the call in hand, who waits, what to code, callbacks due.

One read of the database per render, assembled here so the console's views stay free of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from callbacks.desk import DueCallback, callbacks_due_today
from models import Adviser, AdviserState, AnswersOn, QueueEntry, QueueEntryStatus, WrapUp
from routing.contacts import ScreenPop, screen_pop
from routing.states import LABELS
from routing.wrap_up import Options, options, to_code

INTERPRETER = "interpreter:"


@dataclass(frozen=True)
class DeskState:
    state: str
    label: str
    since: datetime
    reason: str | None
    wrap_up_ends_at: datetime | None


@dataclass(frozen=True)
class DeskView:
    adviser_id: int
    name: str
    library: str
    client_identity: str
    answers_on_phone: bool
    state: DeskState
    waiting_for_me: int
    offer: ScreenPop | None  # an offer ringing now (before accepting) ...
    current: ScreenPop | None  # ... or the conversation in progress
    wrap_ups: tuple[WrapUp, ...]
    wrap_up_options: Options
    callbacks: tuple[DueCallback, ...]


def desk_view(
    session: Session, adviser_id: int, now: datetime, wrap_up_seconds: int, full_numbers: bool = False
) -> DeskView | None:
    adviser = session.scalar(
        select(Adviser)
        .where(Adviser.id == adviser_id)
        .options(selectinload(Adviser.skills), selectinload(Adviser.home_library))
    )
    if adviser is None:
        return None
    in_hand = session.scalar(
        select(QueueEntry)
        .where(
            QueueEntry.adviser_id == adviser_id,
            or_(
                QueueEntry.status == QueueEntryStatus.OFFERED,
                (QueueEntry.status == QueueEntryStatus.CONNECTED) & QueueEntry.ended_at.is_(None),
            ),
        )
        .order_by(QueueEntry.offered_at.desc())
        .limit(1)
    )
    pop = screen_pop(session, in_hand, now, full_numbers) if in_hand is not None else None
    offered = in_hand is not None and in_hand.status == QueueEntryStatus.OFFERED
    wrap_up_ends = (
        adviser.state_since + timedelta(seconds=wrap_up_seconds)
        if adviser.state == AdviserState.WRAP_UP
        else None
    )
    return DeskView(
        adviser_id=adviser.id,
        name=adviser.name,
        library=adviser.home_library.name,
        client_identity=adviser.client_identity or "",
        answers_on_phone=adviser.answers_on == AnswersOn.PHONE,
        state=DeskState(
            adviser.state.value,
            # Routing holds a ringing adviser "on a call"; the adviser sees that it is still only ringing.
            "call ringing" if offered else LABELS[adviser.state.value],
            in_hand.offered_at if offered and in_hand.offered_at else adviser.state_since,
            adviser.state_reason,
            wrap_up_ends,
        ),
        waiting_for_me=waiting_for(session, adviser),
        offer=pop if offered else None,
        current=pop if not offered else None,
        wrap_ups=tuple(to_code(session, adviser.id, now)),
        wrap_up_options=options(session),
        callbacks=tuple(callbacks_due_today(session, adviser, now, full_numbers)),
    )


def waiting_for(session: Session, adviser: Adviser) -> int:
    """Callers waiting now whom this adviser could take: a topic they have the skill for, in a language they
    speak (or one an interpreter will cover)."""
    skills = [skill.topic for skill in adviser.skills]
    if not skills:
        return 0
    entries = session.scalars(
        select(QueueEntry).where(QueueEntry.status == QueueEntryStatus.WAITING, QueueEntry.topic.in_(skills))
    )
    languages = set(adviser.languages or ["en-GB"])
    return sum(
        1
        for entry in entries
        if entry.language in languages
        or any(reason.startswith(INTERPRETER) for reason in entry.priority_reasons)
    )
