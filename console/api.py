"""The console's JSON API: adviser states and callbacks, for signed-in advisers and supervisors.

Every answer is JSON, errors included: 401 when not signed in, 403 for the wrong role, 400 with
`{"errors": {"field": "message"}}` for bad input, 409 when the request is fine but the moment is not, 429 past
API_REQUESTS_PER_MINUTE, and a plain 500 (logged, no stack trace) for anything unforeseen. Every value read from
the path, query string or body goes through console.inputs, so nothing the database would refuse reaches it.
POSTs must send `Content-Type: application/json`: a cross-site HTML form cannot, so no CSRF token is needed here.
Phone numbers and references go in full only to supervisors and the adviser the callback is assigned to (they
must call); everyone else sees them masked. They are never logged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import HTTPException

from callbacks import supervision
from console.auth import ConsoleUser
from console.inputs import Inputs, column_length
from models import (
    Adviser,
    AdviserStateChange,
    Callback,
    CallbackStatus,
    Library,
    Topic,
    User,
)
from routing import states
from routing.advisers import AdviserNotFound, NotPermitted, change_state, end_overdue_wrap_ups
from routing.answering import AnsweringRefused, set_answering
from routing.states import InvalidStateRequest, StateChangeRefused
from runtime.logging import get_logger
from runtime.web import db_session, services

log = get_logger(__name__)

api_bp = Blueprint("api", __name__, url_prefix="/api")

LOCAL = ZoneInfo("Europe/London")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Every request body here is a small JSON object; anything bigger is refused unread (413).
MAX_BODY_BYTES = 64 * 1024
LONGEST_NAME = 32  # states, topics: longer text cannot be one of them
LONGEST_MOMENT = 40  # "2026-11-25T14:00:00.000000+00:00" and then some
LONGEST_NUMBER = 32  # a phone number as typed ("+44 (0)1484 221 000"); stored in E.164
SOMETHING_WENT_WRONG = (
    "Something went wrong on our side. Try again; if it keeps happening, tell the service desk."
)


class ApiError(Exception):
    """An answer other than 200, raised anywhere in a view and turned into JSON by the handler below."""

    def __init__(self, status: int, message: str = "", errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def field_errors(errors: dict[str, str], status: int = 400) -> ApiError:
    return ApiError(status, errors=errors)


@api_bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> ResponseReturnValue:
    body: dict[str, Any] = {"errors": error.errors} if error.errors else {"error": error.message}
    return jsonify(body), error.status


@api_bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.response is not None:  # already answered in JSON, e.g. the limiter's 429 with Retry-After
        return error.response
    return jsonify({"error": error.description}), error.code or 500


@api_bp.errorhandler(Exception)
def _unexpected_error(error: Exception) -> ResponseReturnValue:
    log.exception("api.failed", endpoint=request.endpoint)
    return jsonify({"error": SOMETHING_WENT_WRONG}), 500


@api_bp.errorhandler(StateChangeRefused)
def _state_refused(error: StateChangeRefused) -> ResponseReturnValue:
    status = 400 if isinstance(error, InvalidStateRequest) else 409
    return jsonify({"errors": {error.field: error.message}}), status


@api_bp.errorhandler(NotPermitted)
def _not_permitted(error: NotPermitted) -> ResponseReturnValue:
    return jsonify({"error": "You can change only your own state."}), 403


@api_bp.before_request
def _signed_in_json_only() -> ResponseReturnValue | None:
    if not current_user.is_authenticated:
        return jsonify({"error": "Sign in first (POST /console/login)."}), 401
    if request.method == "POST" and not request.is_json:
        return jsonify({"error": "Send JSON with Content-Type: application/json."}), 415
    request.max_content_length = MAX_BODY_BYTES
    inputs = Inputs()
    for name, value in (
        request.view_args or {}
    ).items():  # ids in the path, e.g. /api/callbacks/<callback_id>
        inputs.whole_number(name, value)
    if inputs.errors:
        raise field_errors(inputs.errors)
    return None


def me() -> ConsoleUser:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def require_supervisor() -> ConsoleUser:
    user = me()
    if not user.is_supervisor:
        raise ApiError(403, "Only supervisors can do that.")
    return user


def json_body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # "[[[[…" nested past Python's limit: not an object either
        body = None
    if not isinstance(body, dict):
        raise field_errors({"body": "Send a JSON object."})
    return body


# --- advisers -----------------------------------------------------------------------------------------------


@api_bp.get("/me")
def who_am_i() -> ResponseReturnValue:
    user = me()
    session = db_session()
    adviser = _adviser(session, user.adviser_id) if user.adviser_id is not None else None
    return jsonify(
        user={
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role.value,
        },
        adviser=adviser_json(adviser) if adviser is not None else None,
    )


@api_bp.post("/advisers/me/state")
def change_my_state() -> ResponseReturnValue:
    user = me()
    if user.adviser_id is None:
        raise ApiError(403, "Your account is not linked to an adviser.")
    return _change(user.adviser_id, user)


@api_bp.post("/advisers/<int:adviser_id>/state")
def change_adviser_state(adviser_id: int) -> ResponseReturnValue:
    return _change(adviser_id, me())


def _change(adviser_id: int, user: ConsoleUser) -> ResponseReturnValue:
    body, inputs = json_body(), Inputs()
    state = inputs.text("state", body.get("state"), max_length=LONGEST_NAME)
    reason = inputs.text("reason", body.get("reason"), max_length=column_length(AdviserStateChange.reason))
    if state is None and "state" not in inputs.errors:
        inputs.fail("state", f"Choose a state: {', '.join(sorted(states.CHOICES[states.Actor.ADVISER]))}.")
    if inputs.errors:
        raise field_errors(inputs.errors)
    assert state is not None
    session = db_session()
    try:
        with session.begin():
            change = change_state(services(), session, adviser_id, state, reason, by_user=user)
    except AdviserNotFound:
        raise ApiError(404, f"No adviser with id {adviser_id}.") from None
    adviser = _adviser(session, adviser_id)
    assert adviser is not None
    return jsonify(adviser=adviser_json(adviser), changed=change is not None)


@api_bp.post("/advisers/<int:adviser_id>/answering")
def set_adviser_answering(adviser_id: int) -> ResponseReturnValue:
    """Where this adviser's calls ring: `{"answers_on": "browser"|"phone", "phone_number"}` (supervisors)."""
    user = require_supervisor()
    body, inputs = json_body(), Inputs()
    answers_on = inputs.text("answers_on", body.get("answers_on"), max_length=LONGEST_NAME)
    phone_number = inputs.text("phone_number", body.get("phone_number"), max_length=LONGEST_NUMBER)
    if answers_on is None and "answers_on" not in inputs.errors:
        inputs.fail("answers_on", "Choose browser or phone.")
    if inputs.errors:
        raise field_errors(inputs.errors)
    assert answers_on is not None
    session = db_session()
    try:
        with session.begin():
            change = set_answering(
                session,
                adviser_id,
                answers_on,
                phone_number,
                services().settings.default_region,
                by=f"user {user.id}",
            )
    except AdviserNotFound:
        raise ApiError(404, f"No adviser with id {adviser_id}.") from None
    except AnsweringRefused as refused:
        raise field_errors({refused.field: refused.message}) from None
    adviser = _adviser(session, adviser_id)
    assert adviser is not None
    return jsonify(adviser=adviser_json(adviser), changed=change.changed)


@api_bp.get("/advisers")
def list_advisers() -> ResponseReturnValue:
    require_supervisor()
    end_overdue_wrap_ups(services())  # a cheap sweep, in case a wrap-up timer was lost
    session = db_session()
    query = select(Adviser).options(selectinload(Adviser.skills), selectinload(Adviser.home_library))
    inputs = Inputs()
    state = inputs.text("state", request.args.get("state"), max_length=LONGEST_NAME)
    if state:
        if state not in states.LABELS:
            inputs.fail("state", f"Unknown state {state!r}. Use one of: {', '.join(sorted(states.LABELS))}.")
        query = query.where(Adviser.state == state)
    library = inputs.text("library", request.args.get("library"), max_length=column_length(Library.name))
    if library:
        library_id = session.scalar(select(Library.id).where(Library.name == library))
        if library_id is None:
            inputs.fail("library", f"No library called {library!r}.")
        query = query.where(Adviser.home_library_id == library_id)
    if inputs.errors:
        raise field_errors(inputs.errors)
    advisers = session.scalars(query.order_by(Adviser.name)).all()
    return jsonify(advisers=[adviser_json(a) for a in advisers])


@api_bp.get("/advisers/<int:adviser_id>/events")
def adviser_events(adviser_id: int) -> ResponseReturnValue:
    user = me()
    if not user.is_supervisor and user.adviser_id != adviser_id:
        raise ApiError(403, "You can see only your own state changes.")
    session = db_session()
    if _adviser(session, adviser_id) is None:
        raise ApiError(404, f"No adviser with id {adviser_id}.")
    inputs = Inputs()
    page, per_page = paging(inputs)
    if inputs.errors:
        raise field_errors(inputs.errors)
    rows = session.execute(
        select(AdviserStateChange, User.display_name)
        .outerjoin(User, AdviserStateChange.changed_by_user_id == User.id)
        .where(AdviserStateChange.adviser_id == adviser_id)
        .order_by(AdviserStateChange.occurred_at.desc(), AdviserStateChange.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return jsonify(
        events=[
            {
                "id": change.id,
                "from_state": change.from_state.value,
                "to_state": change.to_state.value,
                "reason": change.reason,
                "occurred_at": change.occurred_at.isoformat(),
                "changed_by": (
                    {"id": change.changed_by_user_id, "display_name": name}
                    if change.changed_by_user_id is not None
                    else None
                ),
            }
            for change, name in rows
        ],
        page=page,
        per_page=per_page,
    )


def _adviser(session: Session, adviser_id: int) -> Adviser | None:
    return session.scalar(
        select(Adviser)
        .where(Adviser.id == adviser_id)
        .options(selectinload(Adviser.skills), selectinload(Adviser.home_library))
    )


def adviser_json(adviser: Adviser) -> dict[str, Any]:
    wrap_up_ends = (
        states.wrap_up_ends_at(adviser.state_since, services().settings.adviser_wrap_up_seconds).isoformat()
        if adviser.state.value == states.WRAP_UP
        else None
    )
    return {
        "id": adviser.id,
        "name": adviser.name,
        "state": adviser.state.value,
        "state_since": adviser.state_since.isoformat(),
        "state_reason": adviser.state_reason,
        "wrap_up_ends_at": wrap_up_ends,
        "library": adviser.home_library.name,
        "skills": {skill.topic.value: skill.proficiency for skill in adviser.skills},
        "languages": list(adviser.languages),
        "client_identity": adviser.client_identity,
        # Only ever sent to the adviser themself or a supervisor (who set it).
        "answers_on": adviser.answers_on.value,
        "phone_number": adviser.phone_number,
    }


# --- callbacks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who is looking at callbacks, and so which they see and which numbers in full."""

    user: ConsoleUser
    home_library_id: int | None

    def sees_number(self, callback: Callback) -> bool:
        return self.user.is_supervisor or (
            self.user.adviser_id is not None and callback.assigned_adviser_id == self.user.adviser_id
        )


def viewer(session: Session) -> Viewer:
    user = me()
    library_id = (
        session.scalar(select(Adviser.home_library_id).where(Adviser.id == user.adviser_id))
        if user.adviser_id is not None
        else None
    )
    if not user.is_supervisor and user.adviser_id is None:
        raise ApiError(403, "Your account is not linked to an adviser.")
    return Viewer(user, library_id)


def visible(query: Select[Any], who: Viewer) -> Select[Any]:
    """Supervisors see every callback; an adviser theirs, plus unassigned ones of their home library."""
    if who.user.is_supervisor:
        return query
    return query.where(
        or_(
            Callback.assigned_adviser_id == who.user.adviser_id,
            and_(Callback.assigned_adviser_id.is_(None), Callback.library_id == who.home_library_id),
        )
    )


@api_bp.get("/callbacks")
def list_callbacks() -> ResponseReturnValue:
    session = db_session()
    who = viewer(session)
    inputs = Inputs()
    args = request.args
    statuses = {status.value for status in CallbackStatus}
    wanted: list[str] = []
    status = inputs.text("status", args.get("status"), max_length=(LONGEST_NAME + 1) * len(statuses))
    if status:
        wanted = status.split(",")
        unknown = [s for s in wanted if s not in statuses]
        if unknown:
            inputs.fail(
                "status", f"Unknown status {unknown[0]!r}. Use: {', '.join(s.value for s in CallbackStatus)}."
            )
    topic = inputs.text("topic", args.get("topic"), max_length=LONGEST_NAME)
    if topic and topic not in {known.value for known in Topic}:
        inputs.fail("topic", f"Unknown topic {topic!r}. Use: {', '.join(t.value for t in Topic)}.")
    library = inputs.text("library", args.get("library"), max_length=column_length(Library.name))
    library_id = None
    if library:
        library_id = session.scalar(select(Library.id).where(Library.name == library))
        if library_id is None:
            inputs.fail("library", f"No library called {library!r}.")
    adviser_id = None
    if args.get("adviser") and args.get("adviser") != "none":
        adviser_id = inputs.whole_number(
            "adviser", args["adviser"], message="Give an adviser id, or none for unassigned callbacks."
        )
    slot_from = moment_arg("slot_from", inputs)
    slot_to = moment_arg("slot_to", inputs, end_of_day=True)
    if slot_from and slot_to and slot_to <= slot_from:
        inputs.fail("slot_to", "The end of the range must be after its start.")
    page, per_page = paging(inputs)
    if inputs.errors:
        raise field_errors(inputs.errors)
    filters = supervision.CallbackFilters(
        statuses=tuple(CallbackStatus(s) for s in wanted),
        topic=Topic(topic) if topic else None,
        library_id=library_id,
        unassigned=args.get("adviser") == "none",
        adviser_id=adviser_id,
        slot_from=slot_from,
        slot_to=slot_to,
    )
    query = supervision.filtered(visible(select(Callback), who), filters)
    rows, total = supervision.page_of_callbacks(session, query, page, per_page)
    names = supervision.names_for(session, rows)
    return jsonify(
        callbacks=[callback_json(c, who, names) for c in rows], page=page, per_page=per_page, total=total
    )


@api_bp.get("/callbacks/<int:callback_id>")
def get_callback(callback_id: int) -> ResponseReturnValue:
    session = db_session()
    who = viewer(session)
    callback = _visible_callback(session, who, callback_id)
    return jsonify(callback=callback_json(callback, who, supervision.names_for(session, [callback])))


@api_bp.post("/callbacks/<int:callback_id>/reassign")
def reassign_callback(callback_id: int) -> ResponseReturnValue:
    user = require_supervisor()
    inputs = Inputs()
    adviser_id = inputs.whole_number(
        "adviser_id",
        json_body().get("adviser_id"),
        message="Give the id (a number) of the adviser to take this callback.",
        digits_allowed=False,
    )
    if adviser_id is None:
        inputs.fail("adviser_id", "Give the id (a number) of the adviser to take this callback.")
        raise field_errors(inputs.errors)
    session = db_session()
    with session.begin(), _callback_errors():
        who = viewer(session)
        _visible_callback(session, who, callback_id)
        supervision.reassign_callback(session, callback_id, adviser_id, services().clock.now(), user.id)
    log.info("callback.reassigned", callback_id=callback_id, adviser_id=adviser_id, by_user_id=user.id)
    return _fresh_callback(session, who, callback_id)


@api_bp.post("/callbacks/<int:callback_id>/cancel")
def cancel_callback(callback_id: int) -> ResponseReturnValue:
    user = me()
    inputs = Inputs()
    typed = inputs.text(
        "reason", json_body().get("reason"), max_length=column_length(Callback.cancelled_reason)
    )
    if inputs.errors:
        raise field_errors(inputs.errors)
    app_services, session = services(), db_session()
    with _callback_errors():
        supervision.cancel_reason(typed)  # no reason: 400 before anything is read
        with session.begin():
            who = viewer(session)
            _visible_callback(session, who, callback_id)
            supervision.cancel_callback(app_services, session, callback_id, typed, user.id)
    log.info("callback.cancelled_in_console", callback_id=callback_id, by_user_id=user.id)
    return _fresh_callback(session, who, callback_id)


@contextmanager
def _callback_errors() -> Iterator[None]:
    """The callback services' refusals as the API's answers: 400 with the field, 409, 404."""
    try:
        yield
    except supervision.CallbackRefused as refused:
        raise field_errors({refused.field: refused.message}) from None
    except supervision.CallbackNotChangeable as late:
        raise ApiError(409, late.message) from None
    except supervision.CallbackNotFound:
        raise ApiError(404, "No callback with that id that you can see.") from None


def _fresh_callback(session: Session, who: Viewer, callback_id: int) -> ResponseReturnValue:
    callback = session.scalars(
        select(Callback).where(Callback.id == callback_id).execution_options(populate_existing=True)
    ).one()
    return jsonify(callback=callback_json(callback, who, supervision.names_for(session, [callback])))


def _visible_callback(session: Session, who: Viewer, callback_id: int) -> Callback:
    callback = session.scalar(visible(select(Callback).where(Callback.id == callback_id), who))
    if callback is None:  # 404 rather than 403: an adviser learns nothing about other libraries' callbacks
        raise ApiError(404, f"No callback {callback_id} that you can see.")
    return callback


def callback_json(callback: Callback, who: Viewer, names: supervision.Names) -> dict[str, Any]:
    in_full = who.sees_number(callback)
    adviser_id = callback.assigned_adviser_id
    return {
        "id": callback.id,
        "status": callback.status.value,
        "topic": callback.topic.value,
        "language": callback.language,
        "number": callback.number if in_full else mask(callback.number),
        "number_masked": not in_full,
        "reference": callback.reference
        if in_full or callback.reference is None
        else mask(callback.reference),
        "slot_starts_at": _iso(callback.slot_starts_at),
        "slot_ends_at": _iso(callback.slot_ends_at),
        "keeps_place": callback.keeps_place,
        "attempts": callback.attempts,
        "next_attempt_at": _iso(callback.next_attempt_at),
        "last_result": callback.last_result,
        "library": names.libraries.get(callback.library_id) if callback.library_id is not None else None,
        "assigned_adviser": (
            {"id": adviser_id, "name": names.advisers.get(adviser_id)} if adviser_id is not None else None
        ),
        "cancelled_reason": callback.cancelled_reason,
        "created_at": callback.created_at.isoformat(),
        "updated_at": callback.updated_at.isoformat(),
        "completed_at": _iso(callback.completed_at),
    }


def mask(value: str) -> str:
    """Keep the last three characters, enough to tell two callbacks apart, e.g. "•••••••••123"."""
    return "•" * max(len(value) - 3, 3) + value[-3:]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def paging(inputs: Inputs) -> tuple[int, int]:
    """?page= and ?per_page= (at most MAX_PAGE_SIZE); a page past the last is simply empty."""
    page = inputs.whole_number("page", request.args.get("page"), default=1)
    per_page = inputs.whole_number(
        "per_page", request.args.get("per_page"), default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE
    )
    return page or 1, per_page or DEFAULT_PAGE_SIZE


def moment_arg(name: str, inputs: Inputs, end_of_day: bool = False) -> datetime | None:
    """A date (a whole day in UK time; as an end, up to the end of that day) or a date-time with an offset."""
    raw = inputs.text(name, request.args.get(name), max_length=LONGEST_MOMENT)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day + timedelta(days=1 if end_of_day else 0), time(), LOCAL)
        else:
            moment = datetime.fromisoformat(raw)
            moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL)
        # In UTC here, as the database compares it: the first and last days of the calendar overflow.
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        inputs.fail(name, "Use a date like 2026-11-25 or a time like 2026-11-25T14:00:00+00:00.")
        return None
