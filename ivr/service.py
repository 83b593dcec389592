"""One menu step of one call: load its flow version and state, run the engine, record the journey.

Service functions receive their dependencies and run inside the caller's transaction. Twilio retries
webhooks, so every step is keyed by (CallSid, turn): a replay of a step already taken changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ivr import engine
from ivr.calls import record_call_started, record_events_once
from ivr.flow import CaptureNode, Flow, default_flow
from ivr.versions import MAIN_FLOW_NAME, flow_of_version
from models import Call, FlowStatus, FlowVersion, Library, Topic
from models import Flow as FlowRecord

LIBRARY_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class MenuTurn:
    call: Call
    step: engine.Step
    turn: int  # the number the next Gather's action carries back


class LibraryHoursCache:
    """Opening hours and closures of every hub, re-read at most once a minute (they change rarely)."""

    def __init__(self) -> None:
        self._loaded_at = -LIBRARY_CACHE_SECONDS
        self._libraries: list[dict[str, Any]] = []

    def get(self, session: Session) -> list[dict[str, Any]]:
        if time.monotonic() - self._loaded_at > LIBRARY_CACHE_SECONDS:
            query = (
                select(Library).where(Library.offers_phone_support).options(selectinload(Library.closures))
            )
            self._libraries = [
                {
                    "name": library.name,
                    "opening_hours": library.opening_hours,
                    "closures": [
                        {
                            "starts_on": c.starts_on.isoformat(),
                            "ends_on": c.ends_on.isoformat(),
                            "reason": c.reason,
                        }
                        for c in library.closures
                    ],
                }
                for library in session.scalars(query)
            ]
            self._loaded_at = time.monotonic()
        return self._libraries


@lru_cache(maxsize=4096)
def is_mobile(number: str | None) -> bool:
    if not number:
        return False
    parsed = phonenumbers.parse(number)
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE


def _context(call: Call, now: datetime, libraries: list[dict[str, Any]]) -> engine.CallContext:
    return engine.CallContext(
        now=now,
        caller_withheld=call.caller_number is None,
        caller_has_mobile=is_mobile(call.caller_number),
        libraries=libraries,
    )


def _flow_for(session: Session, call: Call, draft_version_id: int | None = None) -> Flow:
    """The flow version this call runs: fixed at its first step, so publishing mid-call changes nothing for it."""
    if call.flow_version_id is None:
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
            return default_flow()
        call.flow_version_id = version_id
    return flow_of_version(session, call.flow_version_id) or default_flow()


def _record(
    session: Session, call: Call, flow: Flow, step: engine.Step, now: datetime, turn: int, started: float
) -> None:
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    record_events_once(
        session,
        [
            {
                "call_id": call.id,
                "occurred_at": now,
                "kind": "ivr_step",
                "node": event.node,
                "caller_input": event.caller_input,
                "outcome": event.outcome,
                "idempotency_key": f"{call.call_sid}:{turn}:{index}",
                "detail": {"kind": event.kind, **dict(event.detail)},
                "duration_ms": elapsed_ms,
            }
            for index, event in enumerate(step.journey)
        ],
    )
    # Kept after the menu finishes too, so a replayed last step is recognised as one.
    call.ivr_state = step.state.to_dict()
    call.language = step.state.language
    captured = [step.state.data.get(name) for name in capture_names(flow)]
    reference = next((value for value in captured if isinstance(value, str) and value), None)
    if reference:
        call.reference = reference[:32]
    topic = step.state.data.get("topic")
    if topic in Topic._value2member_map_:
        call.topic = Topic(topic)


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
    call = record_call_started(session, call_sid, from_raw, to_raw, now, region)
    call = session.scalars(select(Call).where(Call.id == call.id).with_for_update()).one()
    if call.ivr_state is not None and call.ivr_last_reply is not None:
        return call.ivr_last_reply
    flow = _flow_for(session, call, draft_version_id)
    step = engine.start(flow, _context(call, now, libraries.get(session)))
    _record(session, call, flow, step, now, turn=0, started=started)
    return MenuTurn(call, step, turn=step.state.turns)


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
    and nothing is recorded twice.
    """
    started = time.perf_counter()
    call = session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is None:
        # A step for a call we never saw start (lost record, or the database was restored): don't drop them.
        call = record_call_started(session, call_sid, from_raw, to_raw, now, region)
    state = call.ivr_state or {}
    if call.ivr_last_reply is not None and (
        (idempotency_token and idempotency_token == call.ivr_last_token)
        or (turn is not None and state and turn != state.get("turns"))
    ):
        return call.ivr_last_reply
    call.ivr_last_token = idempotency_token[:128] if idempotency_token else None
    flow = _flow_for(session, call)
    step = engine.advance(flow, state, caller_input, _context(call, now, libraries.get(session)))
    _record(session, call, flow, step, now, turn=step.state.turns, started=started)
    return MenuTurn(call, step, turn=step.state.turns)


def capture_names(flow: Flow) -> list[str]:
    return [node.name for node in flow.nodes.values() if isinstance(node, CaptureNode)]
