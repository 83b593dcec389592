"""Read the journeys back: one call's steps in order, and how many callers reached and left each node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from models import Call, Callback, CallEvent, CallOutcome, Flow, FlowVersion, QueueEntry


@dataclass(frozen=True)
class FunnelRow:
    node: str
    outcome: str
    calls: int


def journey(session: Session, call_sid: str) -> list[CallEvent]:
    """Every recorded step of one call, in the order it happened."""
    query = select(CallEvent).join(Call).where(Call.call_sid == call_sid).order_by(CallEvent.id)
    return list(session.scalars(query))


def funnel(session: Session, since: datetime | None = None) -> list[FunnelRow]:
    """Distinct calls per (node, outcome) for menu steps: where callers go, get stuck, or give up."""
    query = (
        select(CallEvent.node, CallEvent.outcome, func.count(func.distinct(CallEvent.call_id)))
        .where(CallEvent.kind == "ivr_step")
        .group_by(CallEvent.node, CallEvent.outcome)
        .order_by(CallEvent.node, CallEvent.outcome)
    )
    if since is not None:
        query = query.where(CallEvent.occurred_at >= since)
    return [FunnelRow(node or "", outcome or "", count) for node, outcome, count in session.execute(query)]


@dataclass(frozen=True)
class MenuStep:
    """One node of one flow version over a period: the callers who reached it and what they did there."""

    node: str
    reached: int
    asked_for_person: int  # pressed 0 or said "adviser" here
    not_understood: int  # said nothing, or nothing the menu knew, at least once here
    hung_up_here: int  # their line ended while this was the last step they heard, in the menu


@dataclass(frozen=True)
class VersionFunnel:
    flow: str
    version: int
    steps: list[MenuStep]


def menu_funnel(session: Session, since: datetime, until: datetime) -> list[VersionFunnel]:
    """Per flow version used by calls that started in [since, until): each node's reached, asked for a person,
    not understood and hung up there, nodes in the order callers first reach them.

    Hung up here: the caller's line ended with this as their last menu step, and they never joined the queue,
    booked a callback, or were put through (a call the menu ended itself is not counted as hanging up).
    """
    in_period = and_(Call.started_at >= since, Call.started_at < until, Call.flow_version_id.is_not(None))
    steps = (
        select(CallEvent.call_id, CallEvent.node, CallEvent.outcome, CallEvent.id)
        .join(Call, Call.id == CallEvent.call_id)
        .where(in_period, CallEvent.kind == "ivr_step")
        .subquery()
    )
    last_step = (
        select(steps.c.call_id, func.max(steps.c.id).label("last_id")).group_by(steps.c.call_id).subquery()
    )
    handed_over = or_(
        exists(select(QueueEntry.id).where(QueueEntry.call_id == Call.id)),
        exists(select(Callback.id).where(Callback.call_id == Call.id)),
    )

    def calls_where(condition):  # noqa: ANN001, ANN202
        return func.count(func.distinct(case((condition, steps.c.call_id))))

    reached = session.execute(
        select(
            Call.flow_version_id,
            steps.c.node,
            func.count(func.distinct(steps.c.call_id)),
            calls_where(steps.c.outcome == "adviser"),
            calls_where(steps.c.outcome.in_(("no_input", "invalid"))),
            func.min(steps.c.id),
        )
        .join(Call, Call.id == steps.c.call_id)
        .group_by(Call.flow_version_id, steps.c.node)
    ).all()
    left = {
        (version_id, node): int(count)
        for version_id, node, count in session.execute(
            select(Call.flow_version_id, CallEvent.node, func.count(CallEvent.call_id))
            .join(last_step, last_step.c.last_id == CallEvent.id)
            .join(Call, Call.id == CallEvent.call_id)
            .where(
                Call.ended_at.is_not(None),
                Call.outcome.in_((CallOutcome.IN_PROGRESS, CallOutcome.ABANDONED)),
                CallEvent.outcome.not_in(("hangup", "transferred")),
                ~handed_over,
            )
            .group_by(Call.flow_version_id, CallEvent.node)
        ).all()
    }
    names = {
        version_id: (flow, number)
        for version_id, flow, number in session.execute(
            select(FlowVersion.id, Flow.name, FlowVersion.number).join(Flow, Flow.id == FlowVersion.flow_id)
        )
    }
    by_version: dict[int, list[tuple[int, MenuStep]]] = {}
    for version_id, node, count, person, lost, first_seen in reached:
        step = MenuStep(node or "", int(count), int(person), int(lost), left.get((version_id, node), 0))
        by_version.setdefault(version_id, []).append((int(first_seen), step))
    return [
        VersionFunnel(*names[version_id], [step for _, step in sorted(rows, key=lambda row: row[0])])
        for version_id, rows in sorted(by_version.items(), key=lambda item: names[item[0]])
    ]
