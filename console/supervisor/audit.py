"""The audit page: every change staff made from the console (hours, closures, advisers, the rota, accounts,
callbacks), newest first — who, when, what, and the values before and after — narrowed by what was changed, by
whom and when. It only reads models.audit.AuditEvent rows; nothing here changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from console.auth import supervisor_required
from console.inputs import Inputs
from console.supervisor import supervisor_bp
from console.supervisor.callbacks import uk_time
from ivr.hours import LONDON
from models import User
from models.audit import AuditEvent
from runtime.web import services

PER_PAGE = 50
# What a change was made to, in the council's words; kinds not listed show as they are stored.
SUBJECT_WORDS = {
    "library": "Libraries",
    "adviser": "Advisers",
    "user": "Accounts",
    "callback": "Callbacks",
}


@dataclass(frozen=True)
class AuditFilters:
    subject: str | None = None
    subject_id: int | None = None
    user_id: int | None = None
    since: datetime | None = None  # at or after
    before: datetime | None = None


def filtered(query: Select[Any], filters: AuditFilters) -> Select[Any]:
    """`query` (of AuditEvent) narrowed to what `filters` ask for."""
    if filters.subject is not None:
        query = query.where(AuditEvent.subject_kind == filters.subject)
    if filters.subject_id is not None:
        query = query.where(AuditEvent.subject_id == filters.subject_id)
    if filters.user_id is not None:
        query = query.where(AuditEvent.user_id == filters.user_id)
    if filters.since is not None:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.before is not None:
        query = query.where(AuditEvent.occurred_at < filters.before)
    return query


def changes(
    session: Session, filters: AuditFilters, page: int
) -> tuple[list[tuple[AuditEvent, str | None]], int]:
    """One page of changes, newest first, each with the name of who made it (None: the system)."""
    total = session.scalar(filtered(select(func.count()).select_from(AuditEvent), filters)) or 0
    rows = session.execute(
        filtered(select(AuditEvent, User.display_name), filters)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return [(event, name) for event, name in rows], total


def differences(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field the change names, as a supervisor reads them."""
    before, after = event.before or {}, event.after or {}
    return [
        (field.replace("_", " ").capitalize(), _words(before.get(field)), _words(after.get(field)))
        for field in dict.fromkeys([*before, *after])
    ]


def _words(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_words(item) for item in value) or "None"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_words(item)}" for key, item in value.items()) or "None"
    return str(value)


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LONDON)


def _read_filters(session: Session, inputs: Inputs) -> tuple[AuditFilters, dict[str, str]]:
    args = request.args
    subject = args.get("subject") or None
    if subject is not None:
        subject = inputs.text("subject", subject, max_length=40)
    subject_id = inputs.whole_number("id", args.get("id"), message="That is not a record's number.")
    user_id = inputs.whole_number(
        "user", args.get("user"), message="Choose who made the change from the list."
    )
    if user_id is not None and session.get(User, user_id) is None:
        inputs.fail("user", "Choose who made the change from the list.")
    since = inputs.uk_date("since", args.get("since"), "The first day")
    until = inputs.uk_date("until", args.get("until"), "The last day")
    if since and until and until < since:
        inputs.fail("until", "The last day must be the same as or after the first.")
    filters = AuditFilters(
        subject=subject,
        subject_id=subject_id,
        user_id=user_id,
        since=_local_midnight(since) if since else None,
        before=_local_midnight(until + timedelta(days=1)) if until else None,
    )
    values = {key: (args.get(key) or "")[:40] for key in ("subject", "id", "user", "since", "until")}
    return filters, values


@supervisor_bp.get("/audit")
@supervisor_required
def audit() -> ResponseReturnValue:
    """Every change staff made, newest first, as the filter narrows it, in pages."""
    inputs = Inputs()
    with services().session_factory() as session:
        filters, values = _read_filters(session, inputs)
        page = inputs.whole_number("page", request.args.get("page"), default=1, maximum=100_000) or 1
        rows: list[tuple[AuditEvent, str | None]] = []
        total = 0
        if not inputs.errors:
            rows, total = changes(session, filters, page)
        kinds = sorted(set(session.scalars(select(AuditEvent.subject_kind).distinct())) | set(SUBJECT_WORDS))
        people = session.execute(select(User.id, User.display_name).order_by(User.display_name)).all()
        pages = max(1, -(-total // PER_PAGE))
        return (
            render_template(
                "supervisor/audit.html",
                rows=rows,
                total=total,
                page=page,
                pages=pages,
                values=values,
                errors=inputs.errors,
                kinds=kinds,
                subject_words=SUBJECT_WORDS,
                people=people,
                differences=differences,
                uk_time=uk_time,
                query_string=lambda **changes: urlencode(
                    [(k, v) for k, v in {**values, **changes}.items() if v not in ("", None)]
                ),
            ),
            400 if inputs.errors else 200,
        )
