"""One menu step of one call: load its flow version and state, run the engine, record the journey.

Service functions receive their dependencies and run inside the caller's transaction. Twilio retries
webhooks, so every step is keyed by (CallSid, turn): a replay of a step already taken changes nothing, and a
step is saved by one write guarded on the state it was computed from, so a concurrent duplicate writes nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session, selectinload

from ivr import engine
from ivr.calls import CallAlreadyEnded, record_call_started, save_step_once
from ivr.flow import CaptureNode, Flow, default_flow
from ivr.hours import closure_of
from ivr.versions import MAIN_FLOW_NAME, flow_of_version
from models import Call, FlowStatus, FlowVersion, Library, Topic
from models import Flow as FlowRecord

LIBRARY_CACHE_SECONDS = 60.0


class StepAlreadyTaken(Exception):
    """Saving found the call moved on since it was read: a concurrent duplicate of this webhook won."""


@dataclass(frozen=True)
class CallOnStep:
    """The columns of a call that a menu step reads, fetched with one light SELECT instead of an ORM entity.

    `ivr_state_text` is the state's JSON exactly as stored: saving is guarded on it. `reference` is the one
    after this step (a captured account number), as the handovers need it.
    """

    id: int
    call_sid: str
    caller_number: str | None
    reference: str | None
    flow_version_id: int | None
    ivr_state_text: str | None
    ivr_last_reply: str | None
    ivr_last_token: str | None
    ended_at: datetime | None

    @property
    def ivr_state(self) -> dict[str, Any] | None:
        return json.loads(self.ivr_state_text) if self.ivr_state_text else None


@dataclass(frozen=True)
class MenuTurn:
    """A step computed but not yet saved: `save_step` writes it together with the TwiML it was rendered to."""

    call: CallOnStep
    step: engine.Step
    turn: int  # the number the next Gather's action carries back
    call_changes: dict[str, Any]  # columns of the call row this step sets
    journey: list[dict[str, Any]]  # its call_event rows (without call_id, time and duration)
    now: datetime
    started: float


_CALL = Call.__table__
# Built once with a bound parameter: a statement built per request would pay for its cache key every time.
_CALL_ON_STEP = select(
    _CALL.c.id,
    _CALL.c.call_sid,
    _CALL.c.caller_number,
    _CALL.c.reference,
    _CALL.c.flow_version_id,
    cast(_CALL.c.ivr_state, Text),
    _CALL.c.ivr_last_reply,
    _CALL.c.ivr_last_token,
    _CALL.c.ended_at,
).where(_CALL.c.call_sid == bindparam("call_sid"))


def _read_call(session: Session, call_sid: str) -> CallOnStep | None:
    """Read the call's menu columns: Core on the session's connection (no identity map, no attribute
    instrumentation) and no row lock (saving is guarded instead)."""
    row = session.connection().execute(_CALL_ON_STEP, {"call_sid": call_sid}).one_or_none()
    return None if row is None else CallOnStep(*row)


def _call_on_step(
    session: Session, call_sid: str, from_raw: str | None, to_raw: str | None, now: datetime, region: str
) -> CallOnStep:
    """The call's menu columns, recording the call first when this CallSid is new.

    Raises CallAlreadyEnded for a call Twilio said has ended: a replayed or late step changes nothing.
    """
    call = _read_call(session, call_sid)
    if call is None:
        record_call_started(session, call_sid, from_raw, to_raw, now, region)
        call = _read_call(session, call_sid)
        if call is None:
            raise LookupError(f"call {call_sid} was recorded but cannot be read back")
    if call.ended_at is not None:
        raise CallAlreadyEnded(call_sid)
    return call


def last_reply(session: Session, call_sid: str) -> str | None:
    """The TwiML the call's latest saved step answered with."""
    call = _read_call(session, call_sid)
    return call.ivr_last_reply if call else None


class LibraryHoursCache:
    """Opening hours and closures of every hub, re-read at most once a minute (they change rarely).

    "A minute" by the real clock or by the call's clock (the injected one, which the simulator and tests move),
    whichever passes first, so a closure a supervisor makes reaches new calls within a minute either way. A
    different database (another app in the same process: tests, scenarios) is always read afresh.
    """

    def __init__(self) -> None:
        self._loaded_at = -LIBRARY_CACHE_SECONDS
        self._loaded_for: datetime | None = None
        self._bind: object = None
        self._libraries: list[dict[str, Any]] = []

    def _stale(self, session: Session, now: datetime | None) -> bool:
        if time.monotonic() - self._loaded_at > LIBRARY_CACHE_SECONDS or session.get_bind() is not self._bind:
            return True
        if now is None or self._loaded_for is None:
            return False
        return abs((now - self._loaded_for).total_seconds()) >= LIBRARY_CACHE_SECONDS

    def get(self, session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
        if self._stale(session, now):
            query = (
                select(Library).where(Library.offers_phone_support).options(selectinload(Library.closures))
            )
            self._libraries = [
                {
                    "name": library.name,
                    "opening_hours": library.opening_hours,
                    "closures": [closure_of(c) for c in library.closures],
                }
                for library in session.scalars(query)
            ]
            self._loaded_at = time.monotonic()
            self._loaded_for = now
            self._bind = session.get_bind()
        return self._libraries


@lru_cache(maxsize=4096)
def is_mobile(number: str | None) -> bool:
    if not number:
        return False
    parsed = phonenumbers.parse(number)
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE


def _context(call: CallOnStep, now: datetime, libraries: list[dict[str, Any]]) -> engine.CallContext:
    return engine.CallContext(
        now=now,
        caller_withheld=call.caller_number is None,
        caller_has_mobile=is_mobile(call.caller_number),
        libraries=libraries,
    )


def _flow_for(
    session: Session, call: CallOnStep, draft_version_id: int | None = None
) -> tuple[int | None, Flow]:
    """The flow version this call runs: fixed at its first step, so publishing mid-call changes nothing for it."""
    version_id = call.flow_version_id
    if version_id is None:
        query = (
            select(FlowVersion.id)
            .join(FlowRecord)
            .where(FlowRecord.name == MAIN_FLOW_NAME, FlowVersion.status == FlowStatus.PUBLISHED)
        )
        if draft_version_id is not None:
            query = select(FlowVersion.id).where(FlowVersion.id == draft_version_id)
        version_id = session.scalar(query)
        if version_id is None:
            # No published flow in the database (not seeded yet): the shipped default still serves callers.
            return None, default_flow()
    return version_id, flow_of_version(session, version_id) or default_flow()


def _turn(
    call: CallOnStep,
    flow_version_id: int | None,
    flow: Flow,
    step: engine.Step,
    now: datetime,
    token: str | None,
    started: float,
) -> MenuTurn:
    """What the step changes: the call's state (kept after the menu finishes too, so a replayed last step is
    recognised as one), language, topic and captured reference, and its journey events keyed by (call, turn)."""
    turn = step.state.turns
    changes: dict[str, Any] = {
        "ivr_state": step.state.to_dict(),
        "ivr_last_token": token[:128] if token else None,
        "language": step.state.language,
        "flow_version_id": flow_version_id,
    }
    captured = [step.state.data.get(name) for name in capture_names(flow)]
    reference = next((value for value in captured if isinstance(value, str) and value), None)
    if reference:
        changes["reference"] = reference[:32]
        call = replace(call, reference=reference[:32])
    # The topic it was handed over with, once there is one: a caller who backed out of a menu has none left.
    handed_over = [a.topic for a in step.actions if isinstance(a, engine.Enqueue | engine.OfferCallback)]
    topic = handed_over[-1] if handed_over else step.state.data.get("topic")
    if topic in Topic._value2member_map_:
        changes["topic"] = Topic(topic)
    journey = [
        {
            "kind": "ivr_step",
            "node": event.node,
            "caller_input": event.caller_input,
            "outcome": event.outcome,
            "idempotency_key": f"{call.call_sid}:{turn}:{index}",
            "detail": {"kind": event.kind, **dict(event.detail)},
        }
        for index, event in enumerate(step.journey)
    ]
    return MenuTurn(call, step, turn, changes, journey, now, started)


def save_step(session: Session, menu: MenuTurn, reply: str) -> None:
    """Write the step with the TwiML it answers (kept for Twilio's retries) in the caller's transaction.

    Raises StepAlreadyTaken, having written nothing, when a concurrent duplicate saved first: the caller's
    transaction must then be rolled back and the call's `last_reply` answered instead.
    """
    call = menu.call
    saved = save_step_once(
        session,
        call.id,
        (call.ivr_state_text, call.ivr_last_token),
        {**menu.call_changes, "ivr_last_reply": reply},
        menu.now,
        int((time.perf_counter() - menu.started) * 1000),
        menu.journey,
    )
    if not saved:
        raise StepAlreadyTaken(call.call_sid)


def start_menu(
    session: Session,
    call_sid: str,
    from_raw: str | None,
    to_raw: str | None,
    now: datetime,
    region: str,
    libraries: LibraryHoursCache,
    draft_version_id: int | None = None,
) -> MenuTurn | str:
    """A resident rings: record the call and present the flow's first prompt.

    Returns the last reply instead when the menu already started (Twilio retried the incoming webhook).
    """
    started = time.perf_counter()
    call = _call_on_step(session, call_sid, from_raw, to_raw, now, region)
    if call.ivr_state_text is not None and call.ivr_last_reply is not None:
        return call.ivr_last_reply
    version_id, flow = _flow_for(session, call, draft_version_id)
    step = engine.start(flow, _context(call, now, libraries.get(session, now)))
    return _turn(call, version_id, flow, step, now, call.ivr_last_token, started)


def continue_menu(
    session: Session,
    call_sid: str,
    from_raw: str | None,
    to_raw: str | None,
    turn: int | None,
    idempotency_token: str | None,
    caller_input: engine.CallerInput,
    now: datetime,
    region: str,
    libraries: LibraryHoursCache,
) -> MenuTurn | str:
    """Apply the caller's input, or return the last reply when this step was already taken.

    A step is "already taken" when Twilio sends the same idempotency token again, or a turn number that is not
    the call's current one (a retry, possibly late): the caller then hears their current prompt again,
    and nothing is recorded twice. Nothing is locked here: a concurrent duplicate that read the same state
    loses at `save_step`.
    """
    started = time.perf_counter()
    # A step for a call we never saw start (lost record, or the database was restored) records it: don't drop them.
    call = _call_on_step(session, call_sid, from_raw, to_raw, now, region)
    state = call.ivr_state or {}
    if call.ivr_last_reply is not None and (
        (idempotency_token and idempotency_token == call.ivr_last_token)
        or (turn is not None and state and turn != state.get("turns"))
    ):
        return call.ivr_last_reply
    version_id, flow = _flow_for(session, call)
    step = engine.advance(flow, state, caller_input, _context(call, now, libraries.get(session, now)))
    return _turn(call, version_id, flow, step, now, idempotency_token, started)


def capture_names(flow: Flow) -> list[str]:
    return [node.name for node in flow.nodes.values() if isinstance(node, CaptureNode)]
