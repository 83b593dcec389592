"""The audit trail of staff changes: who changed what, when, and the values before and after.

Supervisors change hours, closures, advisers, the rota, users and callbacks from the console; every such change
adds one `AuditEvent` in the same transaction as the change itself, so a change never lands unaudited and an
audit line never describes a change that rolled back. The audit page reads these rows; nothing updates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import Base, ClippedString


class AuditEvent(Base):
    """One staff change: `action` in the council's words ("library.hours_changed"), on one subject."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    # None when the system made the change (a command, a job); else the console user who did.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    subject_kind: Mapped[str] = mapped_column(String(40))  # "library", "adviser", "user", "callback", ...
    subject_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(ClippedString(300))  # one line a supervisor reads on the audit page
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def record_change(
    session: Session,
    *,
    now: datetime,
    user_id: int | None,
    action: str,
    subject_kind: str,
    subject_id: int | None,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add the audit line of a change to the caller's transaction (it commits or rolls back with the change).

    `before` and `after` hold only JSON values (strings, numbers, lists, dicts): the fields that changed, as a
    supervisor would read them. Personal data (phone numbers) goes in masked, as the pages show it.
    """
    event = AuditEvent(
        occurred_at=now,
        user_id=user_id,
        action=action,
        subject_kind=subject_kind,
        subject_id=subject_id,
        summary=summary,
        before=before,
        after=after,
    )
    session.add(event)
    return event
