"""Were callbacks kept? Per council day a callback was booked: kept, late, failed, cancelled, still open.

Booked callbacks only (a slot, or "as soon as possible"); a resident who kept their place in the queue is
counted with the queue's figures. A callback is due at its slot's start (as soon as possible: when it was
booked) and rung on time if its first dial started by the end of its slot (as soon as possible: within the
grace the wallboard uses for "overdue", WALLBOARD_CALLBACK_GRACE_SECONDS):

- kept: the resident was reached, and the first ring was on time;
- late: the resident was reached, but the first ring was after that;
- failed: every attempt was made and nobody was reached;
- cancelled: by the resident (a CANCEL text) or by staff;
- open: still to ring, or ringing.

One grouped SQL aggregate over `callback.created_at` with the first dial per callback from `callback_attempt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import ACTIVE_CALLBACK_STATUSES, Callback, CallbackAttempt, CallbackStatus
from routing.reports import Period
from routing.service_level import local_date, seconds_between


@dataclass(frozen=True)
class CallbackDay:
    day: date
    booked: int = 0
    kept: int = 0
    late: int = 0
    failed: int = 0
    cancelled: int = 0
    open: int = 0

    @property
    def kept_rate(self) -> float | None:
        """Kept, of those that came to an end by reaching the resident or failing (cancelled ones left out)."""
        finished = self.kept + self.late + self.failed
        return self.kept / finished if finished else None


def callbacks_by_day(session: Session, period: Period, grace: timedelta) -> list[CallbackDay]:
    """Each day of the period (days with none included) by the day the callback was booked."""
    first_dial = (
        select(CallbackAttempt.callback_id, func.min(CallbackAttempt.dial_started_at).label("first_dial"))
        .where(CallbackAttempt.dial_started_at.is_not(None))
        .group_by(CallbackAttempt.callback_id)
        .subquery()
    )
    # How late the first ring was against the promise: the slot's end, or the booking plus the grace.
    lateness = case(
        (
            Callback.slot_ends_at.is_not(None),
            seconds_between(first_dial.c.first_dial, Callback.slot_ends_at),
        ),
        else_=seconds_between(first_dial.c.first_dial, Callback.created_at) - grace.total_seconds(),
    )
    reached = Callback.status == CallbackStatus.CONNECTED

    def count_of(condition):  # noqa: ANN001, ANN202
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    day = local_date(Callback.created_at, period.since, period.until)
    rows = session.execute(
        select(
            day,
            func.count(Callback.id),
            count_of(reached & (func.coalesce(lateness, 0) <= 0)),
            count_of(reached & (lateness > 0)),
            count_of(Callback.status == CallbackStatus.FAILED),
            count_of(Callback.status == CallbackStatus.CANCELLED),
            count_of(Callback.status.in_(ACTIVE_CALLBACK_STATUSES)),
        )
        .outerjoin(first_dial, first_dial.c.callback_id == Callback.id)
        .where(
            Callback.keeps_place.is_(False),
            Callback.created_at >= period.since,
            Callback.created_at < period.until,
        )
        .group_by(day)
    ).all()
    found = {
        (date.fromisoformat(key) if isinstance(key, str) else key): tuple(map(int, counts))
        for key, *counts in rows
    }
    return [CallbackDay(when, *found.get(when, ())) for when in period.days()]
