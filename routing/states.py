"""Adviser states: which changes are allowed and who may make them. Pure: state names in, a decision out.

The rules, and why:
- An adviser chooses available, break, customer at desk (a resident at the library counter) or offline for
  themselves, from any state except on call: the caller on the line comes first, so the call must end.
- On call is set only by routing (the store reserves the adviser atomically when it offers a call); no console
  user can set it, or routing would think a call is in progress that is not.
- Wrap-up follows a call (routing: on call → wrap-up) and ends by itself after ADVISER_WRAP_UP_SECONDS
  (wrap-up → available), or earlier when the adviser chooses a state themselves.
- A supervisor may set any adviser offline, available or break, with a reason (it lands in the audit trail and
  the adviser sees it). Not customer at desk: only the adviser knows who is at their desk. Not while on call.
- An operator at the command line (`flask advisers state`) may choose what an adviser may, reason optional.
- Asking for the state an adviser is already in changes nothing (no event; an available adviser keeps their
  place in the longest-idle order).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from routing.engine import (
    ADVISER_STATES,
    AVAILABLE,
    BREAK,
    CUSTOMER_AT_DESK,
    OFFLINE,
    ON_CALL,
    WRAP_UP,
)

MAX_REASON_LENGTH = 200


class Actor(enum.StrEnum):
    ADVISER = "adviser"  # the adviser, for themselves
    SUPERVISOR = "supervisor"  # a supervisor or admin, for any adviser
    OPERATOR = "operator"  # someone with shell access, through the CLI
    ROUTING = "routing"  # the system: offers, calls ending, wrap-up timer, missed offers


# What each person may choose (routing's moves are listed separately, by transition).
CHOICES: dict[Actor, frozenset[str]] = {
    Actor.ADVISER: frozenset({AVAILABLE, BREAK, CUSTOMER_AT_DESK, OFFLINE}),
    Actor.SUPERVISOR: frozenset({AVAILABLE, BREAK, OFFLINE}),
    Actor.OPERATOR: frozenset({AVAILABLE, BREAK, CUSTOMER_AT_DESK, OFFLINE}),
}
ROUTING_TRANSITIONS = frozenset(
    {
        (AVAILABLE, ON_CALL),  # a call is offered
        (ON_CALL, WRAP_UP),  # the conversation ended
        (ON_CALL, AVAILABLE),  # the caller hung up during the offer, or there is no wrap-up time
        (ON_CALL, BREAK),  # the adviser missed the offer
        (WRAP_UP, AVAILABLE),  # wrap-up time is over
        (WRAP_UP, ON_CALL),  # the adviser calls a resident back from their desk before wrap-up ends
    }
)
DEFAULT_REASONS = {
    AVAILABLE: "ready for calls",
    BREAK: "on a break",
    CUSTOMER_AT_DESK: "helping a customer at the desk",
    OFFLINE: "signed off",
    WRAP_UP: "call ended",
    ON_CALL: "call offered",
}
LABELS = {
    AVAILABLE: "available",
    BREAK: "on a break",
    CUSTOMER_AT_DESK: "with a customer at the desk",
    OFFLINE: "offline",
    WRAP_UP: "in wrap-up",
    ON_CALL: "on a call",
}


class StateChangeRefused(ValueError):
    """A state change that may not happen; `field` names the input at fault, `message` says why to a person."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InvalidStateRequest(StateChangeRefused):
    """The request itself is wrong whatever the adviser is doing (unknown state, missing reason)."""


class TransitionNotAllowed(StateChangeRefused):
    """A sensible request at the wrong moment (the adviser is on a call)."""


@dataclass(frozen=True)
class StateChange:
    previous: str
    state: str
    reason: str


def allowed_sources(actor: Actor, target: str) -> frozenset[str]:
    """The states from which `actor` may move an adviser to `target`."""
    if actor is Actor.ROUTING:
        return frozenset(source for source, to in ROUTING_TRANSITIONS if to == target)
    if target not in CHOICES[actor]:
        return frozenset()
    return ADVISER_STATES - {ON_CALL}


def decide(current: str, requested: str, actor: Actor, reason: str | None = None) -> StateChange | None:
    """Check a requested change; return it (with a reason), None when nothing changes, or raise with why not."""
    if current not in ADVISER_STATES:
        raise ValueError(f"unknown current state {current!r}")
    if not isinstance(requested, str) or requested not in ADVISER_STATES:
        raise InvalidStateRequest("state", f"Unknown state {requested!r}. Choose one of: {_listed(actor)}.")
    reason = _checked_reason(reason)
    if actor is not Actor.ROUTING and requested not in CHOICES[actor]:
        if requested in (ON_CALL, WRAP_UP):
            message = "On call and wrap-up are set when calls start and end, not by hand."
        else:
            message = f"A supervisor cannot set {LABELS[requested]}; only the adviser can."
        raise InvalidStateRequest("state", f"{message} Choose one of: {_listed(actor)}.")
    if actor is Actor.SUPERVISOR and not reason:
        raise InvalidStateRequest("reason", "Give a reason: the adviser and the audit trail will see it.")
    if current == requested:
        return None
    if current not in allowed_sources(actor, requested):
        if current == ON_CALL:
            raise TransitionNotAllowed(
                "state", f"The adviser is on a call; they can be {LABELS[requested]} once it ends."
            )
        raise TransitionNotAllowed("state", f"Routing cannot move an adviser from {current} to {requested}.")
    return StateChange(current, requested, reason or DEFAULT_REASONS[requested])


def wrap_up_ends_at(since: datetime, wrap_up_seconds: int) -> datetime:
    return since + timedelta(seconds=wrap_up_seconds)


def wrap_up_is_over(state: str, since: datetime, now: datetime, wrap_up_seconds: int) -> bool:
    """True when an adviser's wrap-up has run its time (so a lost timer job can be made good)."""
    return state == WRAP_UP and now >= wrap_up_ends_at(since, wrap_up_seconds)


def _checked_reason(reason: str | None) -> str:
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise InvalidStateRequest("reason", "The reason must be text.")
    reason = " ".join(reason.split())  # newlines and tabs would only confuse the audit trail
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidStateRequest("reason", f"Keep the reason to {MAX_REASON_LENGTH} characters or fewer.")
    return reason


def _listed(actor: Actor) -> str:
    choices = CHOICES.get(actor, ADVISER_STATES)
    return ", ".join(sorted(choices))
