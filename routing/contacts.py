"""What an adviser sees of a resident before answering (the screen pop), so nobody asks again what the menu
already captured: the choices made, language, the confirmed reference, why they were prioritised, how long they
waited, the journey through the menu, their contacts in the last 28 days and their open callbacks.

A read model over the database, plain data out; numbers are masked unless the viewer may see them in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.flow import Flow, MenuNode, default_flow
from ivr.prompts import language
from ivr.versions import flow_of_version
from models import (
    ACTIVE_CALLBACK_STATUSES,
    Adviser,
    Call,
    Callback,
    CallEvent,
    CallOutcome,
    QueueEntry,
    WrapUp,
    WrapUpOptionKind,
    WrapUpStatus,
)
from routing.wrap_up import Options, options

PREVIOUS_CONTACT_DAYS = 28
PREVIOUS_CONTACT_LIMIT = 10
JOURNEY_LIMIT = 60
TOPICS = {"council_tax": "Council tax", "housing_benefit": "Housing benefit", "general": "General enquiry"}
OUTCOMES = {
    CallOutcome.IN_PROGRESS: "In progress",
    CallOutcome.ANSWERED: "Spoke to an adviser",
    CallOutcome.ABANDONED: "Hung up before an adviser answered",
    CallOutcome.CALLBACK_BOOKED: "Booked a callback",
    CallOutcome.APPOINTMENT_BOOKED: "Booked an appointment",
    CallOutcome.SELF_SERVED: "Served themselves",
    CallOutcome.TRANSFERRED: "Transferred",
    CallOutcome.FAILED: "Call failed",
}
# Priority reasons as the menu and routing record them, in words an adviser reads at a glance.
PRIORITY_WORDS = {
    "vulnerable": "Told us they may need extra help",
    "vulnerable flag": "Told us they may need extra help",
    "accessibility": "Struggled with the menu (stayed silent)",
    "interpreter": "Needs an interpreter",
    "fallback": "The menu could not help them",
    "scheduled callback": "Calling back as booked",
    "closed": "Rang while we were closed",
    "called back from the desk": "You are calling them back",
}
# Journey steps that only say a prompt was played: the adviser sees what the caller did, not every prompt.
QUIET_OUTCOMES = frozenset({"presented", "said"})
CALLBACK_STATUS_WORDS = {
    "requested": "Keeping their place",
    "scheduled": "Booked",
    "dialling": "Being called now",
}


@dataclass(frozen=True)
class JourneyStep:
    at: datetime
    node: str
    caller_did: str  # "pressed 1", "said “council tax”", "stayed silent", ""
    outcome: str


@dataclass(frozen=True)
class PreviousContact:
    at: datetime
    topic: str
    outcome: str
    adviser: str | None
    reason: str | None
    note: str | None
    coded: bool


@dataclass(frozen=True)
class OpenCallback:
    callback_id: int
    topic: str
    due: datetime | None
    slot_ends: datetime | None
    status: str


@dataclass(frozen=True)
class ScreenPop:
    entry_id: int
    is_callback: bool
    topic: str
    choices: tuple[str, ...]
    language: str
    interpreter: str | None
    reference: str | None
    reference_confirmed: bool
    priority_reasons: tuple[str, ...]
    waited_seconds: int
    number: str | None
    journey: tuple[JourneyStep, ...]
    previous: tuple[PreviousContact, ...]
    open_callbacks: tuple[OpenCallback, ...]


def mask(value: str | None, full: bool = False) -> str | None:
    """Keep the last three characters ("•••••••••123"), unless the viewer may see the number in full."""
    if value is None or full:
        return value
    return "•" * max(len(value) - 3, 3) + value[-3:]


def screen_pop(session: Session, entry: QueueEntry, now: datetime, full_numbers: bool = False) -> ScreenPop:
    """Everything about the resident behind a queue entry (a live caller, or a callback being made)."""
    callback = session.get(Callback, entry.callback_id) if entry.callback_id else None
    call_id = entry.call_id or (callback.call_id if callback is not None else None)
    call = session.get(Call, call_id) if call_id else None
    number = call.caller_number if call is not None and entry.call_id else None
    if callback is not None:
        number = callback.number
    events = _journey_events(session, call)
    flow = _flow_of(session, call)
    reasons = tuple(entry.priority_reasons)
    interpreter = next((r.split(":", 1)[1] for r in reasons if r.startswith("interpreter:")), None)
    reference = (call.reference if call is not None else None) or (callback.reference if callback else None)
    return ScreenPop(
        entry_id=entry.id,
        is_callback=callback is not None,
        topic=TOPICS.get(entry.topic.value, entry.topic.value),
        choices=menu_choices(flow, events),
        language=language(entry.language).name,
        interpreter=language(interpreter).name if interpreter else None,
        reference=reference,
        reference_confirmed=any(e.outcome == "confirmed" and e.kind == "ivr_step" for e in events),
        priority_reasons=tuple(dict.fromkeys(plain_reason(reason) for reason in reasons)),
        waited_seconds=max(0, int((now - entry.joined_at).total_seconds())),
        number=mask(number, full_numbers),
        journey=tuple(_step(e, full_numbers) for e in events if e.outcome not in QUIET_OUTCOMES)[
            -JOURNEY_LIMIT:
        ],
        previous=previous_contacts(session, number, now, exclude_call_id=call_id) if number else (),
        open_callbacks=open_callbacks(session, number) if number else (),
    )


def plain_reason(reason: str) -> str:
    head, _, rest = reason.partition(":")
    if head == "interpreter" and rest:
        return f"Needs an interpreter ({language(rest).name})"
    return PRIORITY_WORDS.get(reason) or PRIORITY_WORDS.get(head) or reason[:1].upper() + reason[1:]


def menu_choices(flow: Flow, events: list[CallEvent]) -> tuple[str, ...]:
    """The menu choices that stood when the caller was handed over, in staff words ("Council tax", "Paying a
    bill"); going back (*) undoes the choice made at the menu they returned to."""
    chosen: list[tuple[str, str]] = []
    for event in events:
        if event.kind != "ivr_step":
            continue
        node = flow.nodes.get(event.node or "")
        detail: dict[str, Any] = dict(event.detail or {})
        if event.outcome == "back":
            back_to = detail.get("to")
            while chosen and chosen[-1][0] != back_to:
                chosen.pop()
            if chosen:
                chosen.pop()
        elif isinstance(node, MenuNode) and event.outcome in ("matched", "adviser"):
            label = _option_label(node, detail)
            if label:
                chosen.append((node.id, label))
    return tuple(label for _, label in chosen)


def _option_label(node: MenuNode, detail: dict[str, Any]) -> str | None:
    for option in node.options:
        if ("key" in detail and option.key == detail["key"]) or (
            "key" not in detail and detail.get("set") and dict(option.set) == detail["set"]
        ):
            english = option.phrases.get("en-GB")
            return option.label or (english[0].capitalize() if english else f"Option {option.key}")
    return None


def previous_contacts(
    session: Session, number: str, now: datetime, exclude_call_id: int | None = None
) -> tuple[PreviousContact, ...]:
    """This number's calls (in and out) in the last 28 days, newest first, with who helped and how it was coded."""
    since = now - timedelta(days=PREVIOUS_CONTACT_DAYS)
    query = (
        select(Call)
        .where(Call.caller_number == number, Call.started_at >= since)
        .order_by(Call.started_at.desc())
        .limit(PREVIOUS_CONTACT_LIMIT + 1)
    )
    calls = [call for call in session.scalars(query) if call.id != exclude_call_id][:PREVIOUS_CONTACT_LIMIT]
    if not calls:
        return ()
    ids = [call.id for call in calls]
    spoke_to = dict(
        session.execute(
            select(QueueEntry.call_id, Adviser.name)
            .join(Adviser, Adviser.id == QueueEntry.adviser_id)
            .where(QueueEntry.call_id.in_(ids), QueueEntry.connected_at.is_not(None))
        )
        .tuples()
        .all()
    )
    wrap_ups = {
        wrap_up.call_id: wrap_up for wrap_up in session.scalars(select(WrapUp).where(WrapUp.call_id.in_(ids)))
    }
    lists = options(session, include_inactive=True)
    return tuple(_contact(call, spoke_to.get(call.id), wrap_ups.get(call.id), lists) for call in calls)


def _contact(call: Call, adviser: str | None, wrap_up: WrapUp | None, lists: Options) -> PreviousContact:
    coded = wrap_up is not None and wrap_up.status == WrapUpStatus.CODED
    return PreviousContact(
        at=call.started_at,
        topic=TOPICS.get(call.topic.value, call.topic.value) if call.topic else "Not chosen",
        outcome=OUTCOMES.get(call.outcome, call.outcome.value),
        adviser=adviser,
        reason=lists.label(WrapUpOptionKind.REASON, wrap_up.reason_code) if coded and wrap_up else None,
        note=wrap_up.note if wrap_up is not None else None,
        coded=coded,
    )


def open_callbacks(session: Session, number: str) -> tuple[OpenCallback, ...]:
    rows = session.scalars(
        select(Callback)
        .where(Callback.number == number, Callback.status.in_(ACTIVE_CALLBACK_STATUSES))
        .order_by(Callback.next_attempt_at)
    )
    return tuple(
        OpenCallback(
            callback.id,
            TOPICS.get(callback.topic.value, callback.topic.value),
            callback.slot_starts_at or callback.next_attempt_at,
            callback.slot_ends_at,
            CALLBACK_STATUS_WORDS.get(callback.status.value, callback.status.value),
        )
        for callback in rows
    )


def _journey_events(session: Session, call: Call | None) -> list[CallEvent]:
    if call is None:
        return []
    return list(
        session.scalars(
            select(CallEvent)
            .where(CallEvent.call_id == call.id)
            .order_by(CallEvent.occurred_at, CallEvent.id)
        )
    )


def _flow_of(session: Session, call: Call | None) -> Flow:
    if call is not None and call.flow_version_id is not None:
        return flow_of_version(session, call.flow_version_id) or default_flow()
    return default_flow()


def _step(event: CallEvent, full_numbers: bool) -> JourneyStep:
    raw = event.caller_input or ""
    kind, _, value = raw.partition(":")
    if event.node == "callback_number" and raw:
        caller_did = f"number {mask(raw, full_numbers)}"
    elif kind == "digits":
        caller_did = f"pressed {value}" if value else "pressed nothing"
    elif kind == "speech":
        caller_did = f"said “{value}”"
    elif kind == "bad":
        caller_did = f"unclear input ({value})"
    elif raw == "none":
        caller_did = "stayed silent"
    else:
        caller_did = ""
    return JourneyStep(
        event.occurred_at, event.node or event.kind, caller_did, (event.outcome or "").replace("_", " ")
    )
