"""The supervisor's library operations: every library open or closed now; one library's weekly hours, its
closures, a dated closure to add, and closing it now in an emergency with the sentence callers will hear.

Views read the form (bad input answers 400 with an error summary and the typed values kept, never a 500) and
call ivr.library_operations, which checks, makes and audits each change. The menu and the queue read hours
afresh at least once a minute, so callers hear a closure from their next call on.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from console.auth import supervisor_required
from console.supervisor import supervisor_bp
from ivr import library_operations as operations
from ivr.hours import DAYS, LONDON, closure_of, parse_closures
from ivr.library_operations import DAY_NAMES, MOST_SESSIONS, LibraryNotFound, LibraryRefused
from models import LibraryClosure
from runtime.web import services

EXPIRED = "The form expired. Reload the page and try again."
LONGEST_FIELD = 400  # anything typed is cut to this before it is shown back


class LibraryForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the forms are plain GOV.UK markup, read from request.form."""


def _typed(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "")[:LONGEST_FIELD] for name in names}


def _not_found() -> ResponseReturnValue:
    return (
        render_template(
            "console/error.html",
            title="Page not found",
            paragraphs=["There is no library or closure with that number. It may have been mistyped."],
            link=(url_for("supervisor.libraries"), "Go back to libraries"),
        ),
        404,
    )


@supervisor_bp.get("/libraries")
@supervisor_required
def libraries() -> ResponseReturnValue:
    """Every library, open or closed now, with today's hours."""
    app_services = services()
    now = app_services.clock.now()
    with app_services.session_factory() as session:
        rows = operations.libraries_now(session, now)
        return render_template("supervisor/libraries.html", rows=rows, now=now, uk_time=uk_time)


def _render_library(
    library_id: int,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> ResponseReturnValue:
    app_services = services()
    now = app_services.clock.now()
    with app_services.session_factory() as session:
        try:
            library = operations.get_library(session, library_id)
        except LibraryNotFound:
            return _not_found()
        typed = typed or {}
        if "caller_message" not in typed:
            typed["caller_message"] = operations.suggested_sentence(library.name, now)
        closures = [
            (closure, parse_closures([closure_of(closure)])[0])
            for closure in operations.closures_to_show(library, now)
        ]
        return (
            render_template(
                "supervisor/library.html",
                library=library,
                status_now=operations.library_now(library, now),
                closures=closures,
                week=_week_values(library.opening_hours, typed),
                form=LibraryForm(),
                errors=errors or {},
                typed=typed,
                days=DAYS,
                day_names=DAY_NAMES,
                sessions=range(1, MOST_SESSIONS + 1),
                now=now,
                uk_time=uk_time,
                longest_caller_message=operations.LONGEST_CALLER_MESSAGE,
            ),
            status,
        )


def _week_values(opening_hours: dict[str, Any], typed: dict[str, str]) -> dict[str, str]:
    """Every hours field's value: what was typed, else the library's hours now."""
    values = {}
    for day in DAYS:
        sessions = opening_hours.get(day, [])
        for number in range(1, MOST_SESSIONS + 1):
            saved = sessions[number - 1] if number <= len(sessions) else ["", ""]
            for index, end in enumerate(("opens", "closes")):
                field = f"{day}-{number}-{end}"
                values[field] = typed.get(field, saved[index])
    return values


@supervisor_bp.get("/libraries/<int:library_id>")
@supervisor_required
def library(library_id: int) -> ResponseReturnValue:
    """One library: open or closed now, its weekly hours, its closures, and the forms that change them."""
    return _render_library(library_id)


def _change(
    library_id: int,
    typed: dict[str, str],
    make: Any,
    message: Any,
    field_names: dict[str, str] | None = None,
) -> ResponseReturnValue:
    """Run one change in a transaction; field errors answer 400 with the page and what was typed.

    `field_names`: the service's field → this form's (two forms on the page each have a reason)."""
    if not LibraryForm().validate_on_submit():
        return _render_library(library_id, 400, {"form": EXPIRED}, typed)
    app_services = services()
    now = app_services.clock.now()
    try:
        with app_services.session_factory.begin() as session:
            result = make(session, now)
            said = message(result)
    except LibraryNotFound:
        return _not_found()
    except LibraryRefused as refused:
        names = field_names or {}
        errors = {names.get(field, field): text for field, text in refused.errors.items()}
        return _render_library(library_id, 400, errors, typed)
    flash(said)
    return redirect(url_for("supervisor.library", library_id=library_id))


@supervisor_bp.post("/libraries/<int:library_id>/hours")
@supervisor_required
def change_hours(library_id: int) -> ResponseReturnValue:
    """Set the weekly hours."""
    names = [
        f"{d}-{n}-{end}" for d in DAYS for n in range(1, MOST_SESSIONS + 1) for end in ("opens", "closes")
    ]
    typed = _typed(*names)
    week = {
        day: [(typed[f"{day}-{n}-opens"], typed[f"{day}-{n}-closes"]) for n in range(1, MOST_SESSIONS + 1)]
        for day in DAYS
    }
    return _change(
        library_id,
        typed,
        lambda session, now: operations.change_weekly_hours(session, library_id, week, now, current_user.id),
        lambda changed: f"{changed.name}'s weekly hours are saved. New calls follow them within a minute.",
    )


def _date(typed: dict[str, str], prefix: str, errors: dict[str, str], label: str) -> date | None:
    parts = [typed.get(f"{prefix}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None
    try:
        day, month, year = (int(part) for part in parts)
        if year < 2000 or year > 2100:
            raise ValueError(year)
        return date(year, month, day)
    except ValueError:
        errors[prefix] = f"{label} must be a real date, like 24 12 2026."
        return None


@supervisor_bp.post("/libraries/<int:library_id>/closures")
@supervisor_required
def add_closure(library_id: int) -> ResponseReturnValue:
    """Add a closure of whole days."""
    typed = _typed(
        *(f"{p}-{part}" for p in ("starts_on", "ends_on") for part in ("day", "month", "year")),
        "reason",
        "closure_message",
    )
    errors: dict[str, str] = {}
    starts_on = _date(typed, "starts_on", errors, "The first day")
    ends_on = _date(typed, "ends_on", errors, "The last day")
    if errors:
        return _render_library(library_id, 400, errors, typed)
    return _change(
        library_id,
        typed,
        lambda session, now: operations.add_closure(
            session,
            library_id,
            starts_on,
            ends_on,
            typed["reason"],
            typed["closure_message"],
            now,
            current_user.id,
        ),
        lambda closure: (
            f"{closure.library.name} will be closed from {closure.starts_on:%-d %B %Y} "
            f"to {closure.ends_on:%-d %B %Y}."
        ),
        field_names={"reason": "reason", "caller_message": "closure_message"},
    )


def _clock_today(raw: str, now: datetime, field: str, errors: dict[str, str]) -> datetime | None:
    if not raw.strip():
        return None
    found = operations.read_clock(raw)
    if found is None:
        errors[field] = "Enter a 24-hour time, like 14:00."
        return None
    return datetime.combine(now.astimezone(LONDON).date(), found, tzinfo=LONDON)


@supervisor_bp.post("/libraries/<int:library_id>/close-now")
@supervisor_required
def close_now(library_id: int) -> ResponseReturnValue:
    """Close the library now (or from a time today) in an emergency."""
    typed = _typed(
        "emergency_reason",
        "caller_message",
        "starts_at",
        "ends_at-day",
        "ends_at-month",
        "ends_at-year",
        "ends_at_time",
    )
    errors: dict[str, str] = {}
    now = services().clock.now()
    starts_at = _clock_today(typed["starts_at"], now, "starts_at", errors)
    until_day = _date(typed, "ends_at", errors, "The day it opens again")
    until_time = operations.read_clock(typed["ends_at_time"]) if typed["ends_at_time"].strip() else None
    if typed["ends_at_time"].strip() and until_time is None:
        errors["ends_at_time"] = "Enter a 24-hour time, like 09:00."
    ends_at = None
    if until_day or until_time:
        day = until_day or now.astimezone(LONDON).date()
        ends_at = (
            datetime.combine(day, until_time, tzinfo=LONDON)
            if until_time
            else datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
        )
    if errors:
        return _render_library(library_id, 400, errors, typed)
    return _change(
        library_id,
        typed,
        lambda session, now: operations.close_now(
            session,
            library_id,
            typed["emergency_reason"],
            typed["caller_message"],
            now,
            current_user.id,
            starts_at=starts_at,
            ends_at=ends_at,
        ),
        lambda closure: (
            f"{closure.library.name} is closed from {uk_time(closure.starts_at)}. "
            f"New calls hear within a minute: “{closure.caller_message}”"
        ),
        field_names={"reason": "emergency_reason", "ends_at": "ends_at_time"},
    )


@supervisor_bp.post("/libraries/<int:library_id>/closures/<int:closure_id>/end")
@supervisor_required
def end_closure(library_id: int, closure_id: int) -> ResponseReturnValue:
    """Open the library again now: the closure in effect ends."""
    return _change(
        library_id,
        {},
        lambda session, now: operations.end_closure_now(
            session, _own(session, library_id, closure_id), now, current_user.id
        ),
        lambda closure: f"{closure.library.name} is open again (within its hours) from now.",
    )


@supervisor_bp.post("/libraries/<int:library_id>/closures/<int:closure_id>/remove")
@supervisor_required
def remove_closure(library_id: int, closure_id: int) -> ResponseReturnValue:
    """Remove a closure that has not started."""
    return _change(
        library_id,
        {},
        lambda session, now: operations.remove_closure(
            session, _own(session, library_id, closure_id), now, current_user.id
        ),
        lambda closure: f"The closure “{closure.reason}” is removed.",
    )


def _own(session: Any, library_id: int, closure_id: int) -> int:
    """The closure's id, if it is this library's (a closure of another library is not found here)."""
    closure = session.get(LibraryClosure, closure_id)
    if closure is None or closure.library_id != library_id:
        raise LibraryNotFound(closure_id)
    return closure_id


def uk_time(moment: datetime | None, ending: bool = False) -> str:
    """ "14:00 on 25 Nov 2026"; an end at midnight is "the end of" the day before."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    if ending and local.time() == time(0):
        return f"The end of {local - timedelta(days=1):%-d %b %Y}"
    return local.strftime("%H:%M on %-d %b %Y")
