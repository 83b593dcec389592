"""Read the journeys back: one call's steps in order, and how many callers reached and left each node."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Call, CallEvent


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
