"""Where an adviser's offered calls ring: their browser (the desk's softphone) or a phone number.

Supervisors choose it (console API, `flask advisers answer-on`); routing reads it each time it rings someone
(routing/views.py `connect`, routing/matching.py for keep-your-place callbacks), so a change applies from the
next offer and never to a call already ringing. A phone number must be one we may ring (a UK mobile or
landline, checked as callback numbers are) and is stored in E.164. There is no audit table for adviser settings:
the change is logged with who made it, never with the number.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from callbacks.numbers import check_callback_number
from models import Adviser, AnswersOn
from routing.advisers import AdviserNotFound
from runtime.logging import get_logger

log = get_logger(__name__)


class AnsweringRefused(ValueError):
    """The choice cannot be made as asked; `field` names the input at fault, `message` says why in words."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class AnsweringChange:
    adviser_id: int
    previous: AnswersOn
    answers_on: AnswersOn
    number_changed: bool

    @property
    def changed(self) -> bool:
        return self.previous != self.answers_on or self.number_changed


def dial_address(adviser: Adviser) -> str:
    """What Twilio rings for this adviser: "client:<identity>" for the browser, else their E.164 number."""
    if adviser.answers_on == AnswersOn.PHONE:
        return str(adviser.phone_number)
    return f"client:{adviser.client_identity}"


def set_answering(
    session: Session,
    adviser_id: int,
    answers_on: str,
    phone_number: str | None,
    region: str,
    by: str,
) -> AnsweringChange:
    """Make `adviser_id` answer on `answers_on` ("browser" or "phone"), in the caller's transaction.

    `phone_number` (any common written form) replaces the stored one; "phone" without one uses the stored number.
    `by` says who asked, for the log ("user 7", "command line").
    """
    if answers_on not in AnswersOn._value2member_map_:
        raise AnsweringRefused("answers_on", "Choose browser or phone.")
    wanted = AnswersOn(answers_on)
    adviser = session.get(Adviser, adviser_id, with_for_update=True)
    if adviser is None:
        raise AdviserNotFound(adviser_id)
    number = adviser.phone_number
    if phone_number is not None:
        check = check_callback_number(phone_number, region)
        if check.number is None:
            raise AnsweringRefused("phone_number", check.reason or "That is not a number we can ring.")
        number = check.number
    if wanted == AnswersOn.PHONE and number is None:
        raise AnsweringRefused("phone_number", f"Give the phone number {adviser.name}'s calls should ring.")
    if wanted == AnswersOn.BROWSER and not adviser.client_identity:
        raise AnsweringRefused(
            "answers_on",
            f"{adviser.name} has no browser phone (client identity), so can answer only on a phone.",
        )
    change = AnsweringChange(adviser.id, adviser.answers_on, wanted, number != adviser.phone_number)
    adviser.answers_on, adviser.phone_number = wanted, number
    if change.changed:
        log.info(
            "adviser.answering_changed",
            adviser_id=adviser.id,
            previous=change.previous.value,
            answers_on=wanted.value,
            number_changed=change.number_changed,
            by=by,
        )
    return change
