"""The supervisor's callbacks: every callback, filtered and sorted; one callback with each of its attempts; give
it to another adviser, or cancel it with a reason.

Views parse the query string or form (bad input answers 400 with an error summary, never a 500) and call
callbacks.supervision, the same service the JSON API calls, which makes and audits each change. Numbers are
shown masked: a supervisor manages callbacks, the dialler and the adviser make them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from callbacks import supervision
from callbacks.supervision import CallbackFilters
from console.auth import supervisor_required
from console.inputs import Inputs
from console.supervisor import supervisor_bp
from ivr.hours import LONDON
from models import Adviser, Callback, CallbackStatus, Library, Topic
from routing.contacts import TOPICS, mask
from runtime.web import services

PER_PAGE = 25
LONGEST_SEARCH = 32  # Callback.reference
STATUS_LABELS = {
    "requested": ("Requested", "govuk-tag--grey"),
    "scheduled": ("Scheduled", "govuk-tag--blue"),
    "dialling": ("Being called", "govuk-tag--yellow"),
    "connected": ("Connected", "govuk-tag--green"),
    "failed": ("Failed", "govuk-tag--red"),
    "cancelled": ("Cancelled", "govuk-tag--grey"),
}
SORT_LABELS = {"due": "Due", "status": "Status", "topic": "Topic", "attempts": "Attempts"}
EXPIRED = "The form expired. Reload the page and try again."


class CallbackForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the forms are plain GOV.UK markup, read from request.form."""


# --- the list ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRequest:
    filters: CallbackFilters
    values: dict[str, Any]  # what was typed, to show back in the filter
    sort: str
    descending: bool
    page: int


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def parse_list_request(session: Session, args: MultiDict[str, str], inputs: Inputs) -> ListRequest:
    """The filter, sort and page asked for; field errors go to `inputs`."""
    known = {status.value for status in CallbackStatus}
    statuses = [s for s in args.getlist("status") if s]
    if any(s not in known for s in statuses) or len(statuses) > len(known):
        inputs.fail("status", "Choose statuses from the list.")
        statuses = []
    topic = args.get("topic") or None
    if topic is not None and topic not in TOPICS:
        inputs.fail("topic", "Choose a topic from the list.")
        topic = None
    library_id = inputs.whole_number(
        "library", args.get("library"), message="Choose a library from the list."
    )
    if library_id is not None and session.get(Library, library_id) is None:
        inputs.fail("library", "Choose a library from the list.")
    adviser_raw = args.get("adviser") or None
    adviser_id = None
    if adviser_raw not in (None, "none"):
        adviser_id = inputs.whole_number("adviser", adviser_raw, message="Choose an adviser from the list.")
        if adviser_id is not None and session.get(Adviser, adviser_id) is None:
            inputs.fail("adviser", "Choose an adviser from the list.")
    due_from = inputs.uk_date("due_from", args.get("due_from"), "The first due date")
    due_to = inputs.uk_date("due_to", args.get("due_to"), "The last due date")
    if due_from and due_to and due_to < due_from:
        inputs.fail("due_to", "The last due date must be the same as or after the first.")
    reference = inputs.text("reference", (args.get("reference") or "").strip(), max_length=LONGEST_SEARCH)
    sort = args.get("sort") or "due"
    if sort not in SORT_LABELS:
        inputs.fail("sort", "Sort by due, status, topic or attempts.")
        sort = "due"
    page = inputs.whole_number("page", args.get("page"), default=1, maximum=100_000) or 1
    filters = CallbackFilters(
        statuses=tuple(CallbackStatus(s) for s in statuses),
        topic=Topic(topic) if topic else None,
        library_id=library_id,
        unassigned=adviser_raw == "none",
        adviser_id=adviser_id,
        due_from=_start_of(due_from) if due_from else None,
        due_to=_start_of(due_to + timedelta(days=1)) if due_to else None,
        reference=reference or None,
    )
    values = {
        "status": statuses,
        "topic": topic or "",
        "library": args.get("library", "")[:12],
        "adviser": (adviser_raw or "")[:12],
        "due_from": (args.get("due_from") or "")[:40],
        "due_to": (args.get("due_to") or "")[:40],
        "reference": (args.get("reference") or "")[:40],
    }
    return ListRequest(filters, values, sort, args.get("order") == "desc", page)


@dataclass(frozen=True)
class Row:
    callback_id: int
    due: datetime | None
    status: str
    topic: str
    library: str | None
    adviser: str | None
    attempts: int
    number: str
    reference: str | None


def _choices(session: Session) -> dict[str, Any]:
    libraries = session.execute(select(Library.id, Library.name).order_by(Library.name)).all()
    advisers = session.execute(select(Adviser.id, Adviser.name).order_by(Adviser.name)).all()
    return {"libraries": libraries, "advisers": advisers}


def _query_string(values: dict[str, Any], **changes: Any) -> str:
    merged = {**values, **changes}
    pairs = [
        (key, item)
        for key, value in merged.items()
        for item in (value if isinstance(value, list) else [value])
        if item not in ("", None)
    ]
    return urlencode(pairs)


@supervisor_bp.get("/callbacks")
@supervisor_required
def callbacks() -> ResponseReturnValue:
    """Every callback, as the filter narrows it, in pages."""
    inputs = Inputs()
    with services().session_factory() as session:
        asked = parse_list_request(session, request.args, inputs)
        choices = _choices(session)
        rows: list[Row] = []
        total = 0
        if not inputs.errors:
            query = supervision.filtered(select(Callback), asked.filters)
            found, total = supervision.page_of_callbacks(
                session, query, asked.page, PER_PAGE, sort=asked.sort, descending=asked.descending
            )
            names = supervision.names_for(session, found)
            rows = [
                Row(
                    c.id,
                    c.next_attempt_at,
                    c.status.value,
                    TOPICS.get(c.topic.value, c.topic.value),
                    names.library(c),
                    names.adviser(c.assigned_adviser_id),
                    c.attempts,
                    mask(c.number) or "",
                    c.reference,
                )
                for c in found
            ]
    pages = max(1, -(-total // PER_PAGE))
    status = 400 if inputs.errors else 200
    return (
        render_template(
            "supervisor/callbacks.html",
            asked=asked,
            values=asked.values,
            errors=inputs.errors,
            rows=rows,
            total=total,
            page=asked.page,
            pages=pages,
            per_page=PER_PAGE,
            query_string=_query_string,
            sort_labels=SORT_LABELS,
            status_labels=STATUS_LABELS,
            topics=TOPICS,
            uk_time=uk_time,
            **choices,
        ),
        status,
    )


def uk_time(moment: datetime | None, with_date: bool = True) -> str:
    if moment is None:
        return "As soon as possible"
    local = moment.astimezone(LONDON)
    return local.strftime("%-d %b %Y %H:%M") if with_date else local.strftime("%H:%M")


# --- one callback --------------------------------------------------------------------------------------------


def _render_callback(
    callback_id: int,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> ResponseReturnValue:
    with services().session_factory() as session:
        try:
            detail = supervision.callback_detail(session, callback_id)
        except supervision.CallbackNotFound:
            return render_template("console/error.html", **_not_found()), 404
        return (
            render_template(
                "supervisor/callback.html",
                detail=detail,
                callback=detail.callback,
                form=CallbackForm(),
                errors=errors or {},
                typed=typed or {},
                status_labels=STATUS_LABELS,
                uk_time=uk_time,
            ),
            status,
        )


def _not_found() -> dict[str, Any]:
    return {
        "title": "Page not found",
        "paragraphs": ["There is no callback with that number. It may have been mistyped."],
        "link": (url_for("supervisor.callbacks"), "Go back to callbacks"),
    }


@supervisor_bp.get("/callbacks/<int:callback_id>")
@supervisor_required
def callback(callback_id: int) -> ResponseReturnValue:
    """One callback: what it is, each attempt to ring the resident, and what a supervisor can change."""
    return _render_callback(callback_id)


@supervisor_bp.post("/callbacks/<int:callback_id>/reassign")
@supervisor_required
def reassign(callback_id: int) -> ResponseReturnValue:
    """Give the callback to the chosen adviser (the dialler offers it to them first)."""
    typed = {"adviser_id": request.form.get("adviser_id", "")[:12]}
    if not CallbackForm().validate_on_submit():
        return _render_callback(callback_id, 400, {"adviser_id": EXPIRED}, typed)
    inputs = Inputs()
    adviser_id = inputs.whole_number(
        "adviser_id", request.form.get("adviser_id"), message="Choose the adviser to take this callback."
    )
    if adviser_id is None:
        inputs.fail("adviser_id", "Choose the adviser to take this callback.")
        return _render_callback(callback_id, 400, inputs.errors, typed)
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            changed = supervision.reassign_callback(
                session, callback_id, adviser_id, app_services.clock.now(), current_user.id
            )
            name = session.scalar(select(Adviser.name).where(Adviser.id == changed.assigned_adviser_id))
    except supervision.CallbackNotFound:
        return render_template("console/error.html", **_not_found()), 404
    except supervision.CallbackRefused as refused:
        return _render_callback(callback_id, 400, {refused.field: refused.message}, typed)
    except supervision.CallbackNotChangeable as late:
        return _render_callback(callback_id, 409, {"callback": late.message}, typed)
    flash(f"Callback {callback_id} is now {name}'s. They will be offered it first when it is due.")
    return redirect(url_for("supervisor.callback", callback_id=callback_id))


@supervisor_bp.post("/callbacks/<int:callback_id>/cancel")
@supervisor_required
def cancel(callback_id: int) -> ResponseReturnValue:
    """Cancel the callback, with the reason the resident may later ask for."""
    typed = {"reason": request.form.get("reason", "")[:400]}
    if not CallbackForm().validate_on_submit():
        return _render_callback(callback_id, 400, {"reason": EXPIRED}, typed)
    inputs = Inputs()
    reason = inputs.text("reason", request.form.get("reason"), max_length=supervision.LONGEST_REASON)
    if inputs.errors:
        return _render_callback(callback_id, 400, inputs.errors, typed)
    app_services = services()
    try:
        with app_services.session_factory.begin() as session:
            supervision.cancel_callback(app_services, session, callback_id, reason, current_user.id)
    except supervision.CallbackNotFound:
        return render_template("console/error.html", **_not_found()), 404
    except supervision.CallbackRefused as refused:
        return _render_callback(callback_id, 400, {refused.field: refused.message}, typed)
    except supervision.CallbackNotChangeable as late:
        return _render_callback(callback_id, 409, {"callback": late.message}, typed)
    flash(f"Callback {callback_id} is cancelled. The resident will not be called.")
    return redirect(url_for("supervisor.callback", callback_id=callback_id))
