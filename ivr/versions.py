"""Flow versions in the database: draft → validate → publish → archive, rollback by republishing.

Every saved definition is a new immutable version row, so a call that started on version 7 keeps hearing
version 7 even if a supervisor publishes version 8 mid-call. The database allows exactly one published
version per flow (a partial unique index); publishing archives the previous one in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.flow import DEFAULT_FLOW_PATH, Flow, FlowError, LintWarning, Problem, lint, load_flow, validate
from models import Flow as FlowRecord
from models import FlowStatus, FlowVersion

MAIN_FLOW_NAME = "kirklees-main"


class FlowNotFound(LookupError):
    """No flow (or no such version of it) exists."""


@dataclass(frozen=True)
class ValidationReport:
    problems: list[Problem]
    warnings: list[LintWarning]

    @property
    def publishable(self) -> bool:
        return not self.problems


def check(definition: Any) -> ValidationReport:
    """Validate a definition and, when it is valid, lint it."""
    problems = validate(definition)
    warnings = [] if problems else lint(load_flow(definition))
    return ValidationReport(problems, warnings)


def _flow(session: Session, name: str, create: bool = False) -> FlowRecord:
    record = session.scalar(select(FlowRecord).where(FlowRecord.name == name))
    if record is None:
        if not create:
            raise FlowNotFound(f"no flow called {name!r}")
        record = FlowRecord(name=name)
        session.add(record)
        session.flush()
    return record


def save_draft(
    session: Session, name: str, definition: dict[str, Any], author: str, now: datetime
) -> FlowVersion:
    """Store a new draft version (drafts may be invalid; only publishing demands a clean validation)."""
    record = _flow(session, name, create=True)
    latest = session.scalar(select(func.max(FlowVersion.number)).where(FlowVersion.flow_id == record.id)) or 0
    version = FlowVersion(
        flow_id=record.id,
        number=latest + 1,
        definition=definition,
        status=FlowStatus.DRAFT,
        author=author,
        created_at=now,
    )
    session.add(version)
    session.flush()
    return version


def get_version(session: Session, name: str, number: int | None = None) -> FlowVersion:
    """A given version, or (number None) the published one."""
    record = _flow(session, name)
    query = select(FlowVersion).where(FlowVersion.flow_id == record.id)
    query = (
        query.where(FlowVersion.number == number)
        if number
        else query.where(FlowVersion.status == FlowStatus.PUBLISHED)
    )
    version = session.scalar(query)
    if version is None:
        raise FlowNotFound(
            f"flow {name!r} has no {'version ' + str(number) if number else 'published version'}"
        )
    return version


def list_versions(session: Session, name: str) -> list[FlowVersion]:
    return list(
        session.scalars(
            select(FlowVersion)
            .where(FlowVersion.flow_id == _flow(session, name).id)
            .order_by(FlowVersion.number)
        )
    )


def publish(session: Session, name: str, number: int, now: datetime) -> FlowVersion:
    """Make `number` the live version, archiving the current one. Refuses an invalid definition.

    Also how rollback works: publishing an older (archived) version makes it live again.
    """
    version = get_version(session, name, number)
    problems = validate(version.definition)
    if problems:
        raise FlowError(problems)
    current = session.scalar(
        select(FlowVersion).where(
            FlowVersion.flow_id == version.flow_id, FlowVersion.status == FlowStatus.PUBLISHED
        )
    )
    if current is not None and current.id != version.id:
        current.status = FlowStatus.ARCHIVED
        session.flush()  # free the one-published slot before taking it
    version.status = FlowStatus.PUBLISHED
    version.published_at = now
    session.flush()
    return version


def archive(session: Session, name: str, number: int) -> FlowVersion:
    version = get_version(session, name, number)
    if version.status == FlowStatus.PUBLISHED:
        raise ValueError("the published version cannot be archived; publish another version instead")
    version.status = FlowStatus.ARCHIVED
    session.flush()
    return version


def install_default_flow(session: Session, now: datetime) -> FlowVersion | None:
    """Load the shipped Kirklees flow and publish it when the main flow has no published version yet."""
    record = session.scalar(select(FlowRecord).where(FlowRecord.name == MAIN_FLOW_NAME))
    if record is not None and any(v.status == FlowStatus.PUBLISHED for v in record.versions):
        return None
    definition = json.loads(DEFAULT_FLOW_PATH.read_text())
    version = save_draft(session, MAIN_FLOW_NAME, definition, author="shipped default", now=now)
    return publish(session, MAIN_FLOW_NAME, version.number, now)


_FLOWS_BY_VERSION_ID: dict[int, Flow] = {}


def flow_of_version(session: Session, version_id: int) -> Flow | None:
    """The parsed flow of a stored version, cached per process.

    Safe to cache by id: a version row is never edited (every save is a new version). Only tests reuse ids,
    after emptying the tables, and they call `forget_loaded_flows()`.
    """
    flow = _FLOWS_BY_VERSION_ID.get(version_id)
    if flow is None:
        version = session.get(FlowVersion, version_id)
        if version is None:
            return None
        flow = _FLOWS_BY_VERSION_ID[version_id] = load_flow(version.definition)
    return flow


def forget_loaded_flows() -> None:
    _FLOWS_BY_VERSION_ID.clear()
