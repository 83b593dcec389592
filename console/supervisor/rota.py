"""The supervisor's rota: a library's week (or one adviser's) as a table, when advisers are next expected, and,
for one adviser, forms to add or remove weekly shifts and to record days away (leave, sickness, training).

Views parse the forms (400 with an error summary and the typed values kept) and call routing.rota, which checks,
saves and audits each change. A day away takes that adviser's shifts out of callback slots and "next expected"
at once, which this page shows.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from console.auth import supervisor_required
from console.inputs import Inputs
from console.supervisor import supervisor_bp
from console.supervisor.callbacks import EXPIRED, CallbackForm
from ivr.hours import LONDON
from models import Adviser, Library
from routing import rota
from runtime.web import services

_CLOCK = re.compile(r"([0-9]{1,2})(?:[:.]([0-9]{2}))?")
DATE_PARTS = ("day", "month", "year")


def read_time(inputs: Inputs, field: str, raw: str | None, label: str) -> time | None:
    """A time of day typed as 9, 09:00, 9.30 or 17:45; a field error otherwise."""
    text = inputs.text(field, (raw or "").strip(), max_length=5)
    if not text:
        return None
    found = _CLOCK.fullmatch(text)
    if found and int(found[1]) <= 23 and int(found[2] or 0) <= 59:
        return time(int(found[1]), int(found[2] or 0))
    inputs.fail(field, f"{label} must be a time like 09:00 or 17:30.")
    return None


def read_date(inputs: Inputs, form: MultiDict[str, str], field: str, label: str) -> date | None:
    """A GOV.UK date input (field-day, field-month, field-year); nothing typed gives None."""
    parts = [(form.get(f"{field}-{part}") or "").strip() for part in DATE_PARTS]
    if not any(parts):
        return None
    if all(re.fullmatch(r"[0-9]{1,4}", part) for part in parts):
        day, month, year = (int(part) for part in parts)
        if 2000 <= year <= 2100:
            try:
                return date(year, month, day)
            except ValueError:
                pass
    inputs.fail(f"{field}-day", f"{label} must be a real date, like 27 3 2027.")
    return None


def _week_start(raw: str | None, today: date) -> date:
    try:
        chosen = date.fromisoformat((raw or "")[:10]) if raw else today
    except ValueError:
        chosen = today
    if not 2000 <= chosen.year <= 2100:
        chosen = today  # the previous and next weeks of year 1 or 9999 do not exist
    return rota.monday_of(chosen)


def uk_moment(moment: datetime | None) -> str:
    if moment is None:
        return "Not in the next two weeks"
    return moment.astimezone(LONDON).strftime("%A %-d %B, %H:%M")


def _render(
    library_id: int | None,
    adviser_id: int | None,
    week: str | None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
) -> ResponseReturnValue:
    app_services = services()
    now = app_services.clock.now()
    today = rota.today(now)
    with app_services.session_factory() as session:
        libraries = [
            (row[0], row[1])
            for row in session.execute(select(Library.id, Library.name).order_by(Library.name))
        ]
        adviser = session.get(Adviser, adviser_id) if adviser_id and adviser_id <= rota.LARGEST_ID else None
        if adviser_id is not None and adviser is None:
            return _not_found()
        if adviser is None and library_id not in dict(libraries):
            library_id = libraries[0][0] if libraries else None
        starts_on = _week_start(week, today)
        the_week = rota.week_of(
            session, starts_on, library_id=None if adviser else library_id, adviser_id=adviser_id
        )
        context: dict[str, Any] = {
            "week": the_week,
            "today": today,
            "weekdays": rota.WEEKDAYS,
            "libraries": libraries,
            "library_id": library_id,
            "adviser": adviser,
            "expected": rota.next_expected(session, now),
            "uk_moment": uk_moment,
            "kinds": {kind.value: label for kind, label in rota.KINDS.items()},
            "previous_week": (starts_on - timedelta(days=7)).isoformat(),
            "next_week": (starts_on + timedelta(days=7)).isoformat(),
            "this_week": rota.monday_of(today).isoformat(),
            "errors": errors or {},
            "typed": typed or {},
            "form": CallbackForm(),
        }
        if adviser is not None:
            context["adviser_expected"] = rota.adviser_next_expected(session, adviser.id, now)
            context["home_library_id"] = adviser.home_library_id
        else:
            context["library_name"] = dict(libraries).get(library_id or -1, "")
        return render_template("supervisor/rota.html", **context), status


def _not_found() -> ResponseReturnValue:
    return (
        render_template(
            "console/error.html",
            title="Page not found",
            paragraphs=[
                "There is no adviser, shift or day away with that number. It may have been mistyped."
            ],
            link=(url_for("supervisor.rota"), "Go back to the rota"),
        ),
        404,
    )


@supervisor_bp.get("/rota", endpoint="rota")
@supervisor_required
def rota_page() -> ResponseReturnValue:
    """A library's week of shifts (or one adviser's), days away marked, and when advisers are next expected."""
    inputs = Inputs()
    library_id = inputs.whole_number("library", request.args.get("library"))
    adviser_id = inputs.whole_number("adviser", request.args.get("adviser"))
    if inputs.errors:
        return _render(None, None, None, 400, {"library": "Choose a library from the list."})
    return _render(library_id, adviser_id, request.args.get("week"))


def _back(adviser_id: int) -> ResponseReturnValue:
    return redirect(
        url_for("supervisor.rota", adviser=adviser_id, week=request.form.get("week", "")[:10] or None)
    )


@supervisor_bp.post("/rota/advisers/<int:adviser_id>/shifts")
@supervisor_required
def add_shift(adviser_id: int) -> ResponseReturnValue:
    """Add a weekly shift to the adviser's pattern."""
    form = request.form
    typed = {key: (form.get(key) or "")[:12] for key in ("weekday", "library_id", "starts", "ends")}
    week = form.get("week")
    if not CallbackForm().validate_on_submit():
        return _render(None, adviser_id, week, 400, {"weekday": EXPIRED}, typed)
    inputs = Inputs()
    weekday = inputs.whole_number(
        "weekday", form.get("weekday"), minimum=0, maximum=6, message="Choose the day of the week."
    )
    library_id = inputs.whole_number("library_id", form.get("library_id"), message="Choose the library.")
    starts = read_time(inputs, "starts", form.get("starts"), "The start time")
    ends = read_time(inputs, "ends", form.get("ends"), "The end time")
    for field, value, message in (
        ("weekday", weekday, "Choose the day of the week."),
        ("library_id", library_id, "Choose the library the shift is worked at."),
        ("starts", starts, "Enter the start time, like 09:00."),
        ("ends", ends, "Enter the end time, like 17:00."),
    ):
        if value is None:
            inputs.fail(field, message)
    app_services = services()
    errors = dict(inputs.errors)
    if not errors:
        try:
            with app_services.session_factory.begin() as session:
                rota.add_shift(
                    session,
                    adviser_id,
                    library_id,
                    weekday,
                    starts,
                    ends,
                    app_services.clock.now(),
                    current_user.id,
                )
        except rota.RotaNotFound:
            return _not_found()
        except rota.RotaRefused as refused:
            errors = refused.errors
    if errors:
        return _render(None, adviser_id, week, 400, errors, typed)
    assert weekday is not None and starts is not None and ends is not None
    flash(f"Shift added: {rota.WEEKDAYS[weekday]}s {starts:%H:%M} to {ends:%H:%M}.")
    return _back(adviser_id)


@supervisor_bp.post("/rota/advisers/<int:adviser_id>/shifts/<int:shift_id>/remove")
@supervisor_required
def remove_shift(adviser_id: int, shift_id: int) -> ResponseReturnValue:
    """Take a weekly shift out of the adviser's pattern."""
    if not CallbackForm().validate_on_submit():
        return _render(None, adviser_id, request.form.get("week"), 400, {"shifts": EXPIRED})
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            rota.remove_shift(session, adviser_id, shift_id, app_services.clock.now(), current_user.id)
    except rota.RotaNotFound:
        return _not_found()
    flash("Shift removed.")
    return _back(adviser_id)


@supervisor_bp.post("/rota/advisers/<int:adviser_id>/away")
@supervisor_required
def add_away(adviser_id: int) -> ResponseReturnValue:
    """Record days the adviser is away: their shifts on those days stop counting for callbacks."""
    form = request.form
    typed: dict[str, Any] = {key: (form.get(key) or "")[:400] for key in ("kind", "note")}
    for field in ("starts_on", "ends_on"):
        for part in DATE_PARTS:
            typed[f"{field}-{part}"] = (form.get(f"{field}-{part}") or "")[:4]
    week = form.get("week")
    if not CallbackForm().validate_on_submit():
        return _render(None, adviser_id, week, 400, {"kind": EXPIRED}, typed)
    inputs = Inputs()
    kind = form.get("kind") or None
    starts_on = read_date(inputs, form, "starts_on", "The first day")
    ends_on = read_date(inputs, form, "ends_on", "The last day")
    note = inputs.text("note", form.get("note"), max_length=rota.LONGEST_NOTE)
    errors = dict(inputs.errors)
    app_services = services()
    if "starts_on-day" not in errors and "ends_on-day" not in errors and "note" not in errors:
        try:
            with app_services.session_factory.begin() as session:
                rota.add_exception(
                    session,
                    adviser_id,
                    kind,
                    starts_on,
                    ends_on,
                    note,
                    app_services.clock.now(),
                    current_user.id,
                )
        except rota.RotaNotFound:
            return _not_found()
        except rota.RotaRefused as refused:
            errors.update(
                {f"{key}-day" if key.endswith("_on") else key: m for key, m in refused.errors.items()}
            )
    if errors:
        return _render(None, adviser_id, week, 400, errors, typed)
    assert kind is not None and starts_on is not None
    label = rota.KINDS[rota.RotaExceptionKind(kind)].lower()
    last = ends_on or starts_on
    days = f"{starts_on:%-d %B}" if last == starts_on else f"{starts_on:%-d %B} to {last:%-d %B}"
    flash(f"Recorded: away ({label}) {days}. Their shifts then are not offered for callbacks.")
    return _back(adviser_id)


@supervisor_bp.post("/rota/advisers/<int:adviser_id>/away/<int:exception_id>/remove")
@supervisor_required
def remove_away(adviser_id: int, exception_id: int) -> ResponseReturnValue:
    """Cancel recorded days away: the adviser's shifts on them count again."""
    if not CallbackForm().validate_on_submit():
        return _render(None, adviser_id, request.form.get("week"), 400, {"away": EXPIRED})
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            rota.remove_exception(
                session, adviser_id, exception_id, app_services.clock.now(), current_user.id
            )
    except rota.RotaNotFound:
        return _not_found()
    flash("Days away removed: their shifts count again.")
    return _back(adviser_id)
