"""Queue figures from the database for what callers are told: who is serving a topic and how long calls take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Adviser, AdviserSkill, AdviserState, QueueEntry, QueueEntryStatus, Topic
from routing.ewt import RecentCalls, estimate_wait

RECENT_PERIOD = timedelta(hours=1)
SERVING_STATES = (AdviserState.AVAILABLE, AdviserState.ON_CALL, AdviserState.WRAP_UP)


@dataclass(frozen=True)
class WaitInfo:
    nobody_serving: bool  # nobody with the skill is logged in (available, on a call or in wrap-up)
    phrase: str | None  # "about 5 to 10 minutes", or None when we can't honestly estimate


def wait_estimate(session: Session, topic: Topic, position: int, now: datetime) -> WaitInfo:
    """An honest range for the caller at `position`, from the last hour of this topic's calls."""
    staffed = dict(
        session.execute(
            select(Adviser.state, func.count(Adviser.id))
            .join(AdviserSkill, AdviserSkill.adviser_id == Adviser.id)
            .where(AdviserSkill.topic == topic, Adviser.state.in_(SERVING_STATES))
            .group_by(Adviser.state)
        )
        .tuples()
        .all()
    )
    serving = sum(staffed.values())
    if serving == 0:
        return WaitInfo(nobody_serving=True, phrase=None)
    since = now - RECENT_PERIOD
    handled = session.execute(
        select(QueueEntry.connected_at, QueueEntry.ended_at).where(
            QueueEntry.topic == topic,
            QueueEntry.status == QueueEntryStatus.CONNECTED,
            QueueEntry.ended_at >= since,
            QueueEntry.connected_at.is_not(None),
        )
    ).all()
    abandoned = session.scalar(
        select(func.count(QueueEntry.id)).where(
            QueueEntry.topic == topic,
            QueueEntry.status == QueueEntryStatus.ABANDONED,
            QueueEntry.ended_at >= since,
        )
    )
    recent = RecentCalls(
        handle_seconds=[(ended - connected).total_seconds() for connected, ended in handled],
        abandoned=abandoned or 0,
    )
    estimate = estimate_wait(
        position, serving, recent, advisers_available=staffed.get(AdviserState.AVAILABLE, 0)
    )
    return WaitInfo(nobody_serving=False, phrase=estimate.phrase if estimate else None)
