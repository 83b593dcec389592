"""What the contacts were about, and whether they had to happen: wrap-up codes, avoidable contacts by cause, and
repeat contacts from the same number about the same topic (the other side of first-contact resolution).

One grouped SQL aggregate each, over indexed time ranges (`wrap_up.started_at`; `call.started_at`, and
`call(caller_number, started_at)` for the look-ahead of a repeat), on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from models import Call, Topic
from models.wrap_up import WrapUp, WrapUpOption, WrapUpOptionKind, WrapUpStatus
from routing.reports import Period
from routing.service_level import seconds_between

REPEAT_WINDOWS = (7, 14, 28)  # days


@dataclass(frozen=True)
class CodeCount:
    code: str
    label: str
    contacts: int


def _labels(session: Session, kind: WrapUpOptionKind) -> dict[str, str]:
    rows = session.execute(select(WrapUpOption.code, WrapUpOption.label).where(WrapUpOption.kind == kind))
    return dict(rows.tuples().all())


def _in_period(period: Period):  # noqa: ANN202
    return and_(WrapUp.started_at >= period.since, WrapUp.started_at < period.until)


def wrap_up_codes(session: Session, period: Period) -> tuple[list[CodeCount], int]:
    """Coded conversations by reason, most first; and how many conversations are still uncoded."""
    labels = _labels(session, WrapUpOptionKind.REASON)
    rows = session.execute(
        select(WrapUp.reason_code, func.count(WrapUp.id))
        .where(_in_period(period), WrapUp.status == WrapUpStatus.CODED)
        .group_by(WrapUp.reason_code)
        .order_by(func.count(WrapUp.id).desc(), WrapUp.reason_code)
    ).all()
    uncoded = session.scalar(
        select(func.count(WrapUp.id)).where(_in_period(period), WrapUp.status != WrapUpStatus.CODED)
    )
    return [CodeCount(code, labels.get(code, code), int(n)) for code, n in rows], int(uncoded or 0)


@dataclass(frozen=True)
class AvoidableContacts:
    coded: int  # conversations coded, the denominator
    avoidable: int
    by_cause: list[CodeCount]


def avoidable_contacts(session: Session, period: Period) -> AvoidableContacts:
    """Coded conversations the adviser marked avoidable, by what caused them (a cause left blank: "Not said")."""
    labels = _labels(session, WrapUpOptionKind.AVOIDABLE_CAUSE)
    coded = and_(_in_period(period), WrapUp.status == WrapUpStatus.CODED)
    totals = session.execute(
        select(
            func.count(WrapUp.id), func.coalesce(func.sum(case((WrapUp.avoidable.is_(True), 1), else_=0)), 0)
        ).where(coded)
    ).one()
    rows = session.execute(
        select(WrapUp.avoidable_cause, func.count(WrapUp.id))
        .where(coded, WrapUp.avoidable.is_(True))
        .group_by(WrapUp.avoidable_cause)
        .order_by(func.count(WrapUp.id).desc(), WrapUp.avoidable_cause)
    ).all()
    return AvoidableContacts(
        coded=int(totals[0]),
        avoidable=int(totals[1]),
        by_cause=[
            CodeCount(cause or "", labels.get(cause, cause) if cause else "Not said", int(n))
            for cause, n in rows
        ],
    )


@dataclass(frozen=True)
class RepeatContacts:
    """Of the contacts about `topic` from known numbers, how many were followed by another within N days."""

    topic: Topic | None  # None: every topic together
    contacts: int
    repeated: dict[int, int]  # window in days -> contacts followed by another from that number on that topic

    def rate(self, days: int) -> float | None:
        return self.repeated[days] / self.contacts if self.contacts else None


def repeat_contacts(session: Session, period: Period) -> list[RepeatContacts]:
    """Per topic, and for all topics: contacts in the period and those repeated within 7, 14 and 28 days.

    A contact is a call from a known (not withheld) number with a topic, started in the period; it is repeated
    within N days when the same number called again about the same topic in the N days after it (that later
    call may fall after the period). Calls whose number was redacted after the retention period are not known.
    """
    later = aliased(Call)
    gap = seconds_between(later.started_at, Call.started_at)

    def followed_within(days: int):  # noqa: ANN202
        again = exists(
            select(later.id).where(
                later.caller_number == Call.caller_number,
                later.topic == Call.topic,
                later.started_at > Call.started_at,
                gap <= days * 86400,
            )
        )
        return func.coalesce(func.sum(case((again, 1), else_=0)), 0)

    rows = session.execute(
        select(Call.topic, func.count(Call.id), *(followed_within(days) for days in REPEAT_WINDOWS))
        .where(
            Call.started_at >= period.since,
            Call.started_at < period.until,
            Call.caller_number.is_not(None),
            Call.topic.is_not(None),
        )
        .group_by(Call.topic)
    ).all()
    found = {
        topic: RepeatContacts(topic, int(count), dict(zip(REPEAT_WINDOWS, map(int, repeated), strict=True)))
        for topic, count, *repeated in rows
    }
    per_topic = [
        found.get(topic, RepeatContacts(topic, 0, dict.fromkeys(REPEAT_WINDOWS, 0))) for topic in Topic
    ]
    every = RepeatContacts(
        None,
        sum(r.contacts for r in per_topic),
        {days: sum(r.repeated[days] for r in per_topic) for days in REPEAT_WINDOWS},
    )
    return [*per_topic, every]
