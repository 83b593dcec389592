"""Supervisors looking after advisers: add one, change their skills, languages, home library, where their calls
ring, and whether they are active at all. Plain Python (no Flask), in the caller's transaction, audited.

Why routing owns this: an adviser's skills and languages are what the matcher reads (the Redis store keeps a
copy of each adviser's profile), and "active or not" decides whether they are ever offered a call. So a change
here also refreshes that profile once it commits, and making an adviser inactive sets them offline through
routing.advisers.change_state (the same rules as any state change) so they are offered nothing from that moment.
Every change adds one models.audit line with the fields before and after; phone numbers go in masked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from callbacks.numbers import INVALID, check_callback_number
from ivr.prompts import LANGUAGES
from models import Adviser, AdviserSkill, AdviserState, AnswersOn, Library, Topic
from models.audit import record_change
from routing import advisers as adviser_states
from routing.contacts import TOPICS, mask
from routing.live import adviser_profile, announce, ready_store
from routing.states import StateChangeRefused
from runtime.logging import get_logger
from runtime.services import Services

log = get_logger(__name__)

LONGEST_NAME = 120  # Adviser.name
LONGEST_IDENTITY = 120  # Adviser.client_identity
PROFICIENCY = {
    1: "1 – learning",
    2: "2 – some experience",
    3: "3 – confident",
    4: "4 – experienced",
    5: "5 – expert, takes the hardest calls",
}
NOT_A_NUMBER = "Enter a UK mobile or landline number, like 07400 123456 or 01484 221000."
INACTIVE_REASON = "made inactive by a supervisor"
LARGEST_ID = 2**31 - 1


class AdviserNotFound(LookupError):
    """No adviser with that id."""


class AdviserRefused(ValueError):
    """What was asked cannot be saved: `errors` maps each field at fault to what to do about it (400)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class AdviserDetails:
    """An adviser as a supervisor sets them: checked by `checked_details` before anything is saved."""

    name: str
    home_library_id: int | None
    languages: tuple[str, ...]
    skills: dict[str, int]  # topic value → proficiency 1-5; a topic left out is one they do not take
    answers_on: str
    phone_number: str | None  # as typed (any common UK form); None keeps the number already stored
    is_active: bool = True


@dataclass(frozen=True)
class CheckedDetails:
    name: str
    home_library: Library
    languages: list[str]
    skills: dict[Topic, int]
    answers_on: AnswersOn
    phone_number: str | None  # E.164, or None to keep what is stored
    is_active: bool


def language_names() -> dict[str, str]:
    """The languages an adviser can be marked as helping in: the ones the phone menu offers callers."""
    return {code: language.name for code, language in LANGUAGES.items()}


def checked_details(
    session: Session, details: AdviserDetails, region: str, stored_number: str | None = None
) -> CheckedDetails:
    """The details made ready to save, or AdviserRefused with every field error at once."""
    errors: dict[str, str] = {}
    name = " ".join((details.name or "").split())
    if not name:
        errors["name"] = "Enter the adviser's full name."
    elif len(name) > LONGEST_NAME:
        errors["name"] = f"Keep the name to {LONGEST_NAME} characters or fewer."
    library = None
    if details.home_library_id is None:
        errors["home_library_id"] = "Choose the library the adviser works from."
    elif 1 <= details.home_library_id <= LARGEST_ID:
        library = session.get(Library, details.home_library_id)
    if library is None:
        errors.setdefault("home_library_id", "Choose the library the adviser works from.")
    known = language_names()
    languages = list(dict.fromkeys(details.languages))
    if not languages:
        errors["languages"] = "Choose at least one language the adviser can help residents in."
    elif any(code not in known for code in languages):
        errors["languages"] = "Choose languages from the list."
    skills: dict[Topic, int] = {}
    for topic, level in details.skills.items():
        if topic not in Topic._value2member_map_ or level not in PROFICIENCY:
            errors[f"skill_{topic}" if topic in TOPICS else "skills"] = "Choose a level from the list."
            continue
        skills[Topic(topic)] = level
    if not skills and "skills" not in errors and not any(key.startswith("skill_") for key in errors):
        errors["skill_general"] = "Choose at least one topic the adviser takes calls about."
    answers_on = AnswersOn.BROWSER
    if details.answers_on not in AnswersOn._value2member_map_:
        errors["answers_on"] = "Choose whether their calls ring in the browser or on a phone."
    else:
        answers_on = AnswersOn(details.answers_on)
    number = None
    typed = (details.phone_number or "").strip()
    if typed:
        check = check_callback_number(typed, region)
        if check.number is None:
            # The checker's reason is worded for a caller; an unrecognised number gets a staff example.
            errors["phone_number"] = (
                NOT_A_NUMBER if check.refused == INVALID or not check.reason else check.reason
            )
        number = check.number
    if answers_on == AnswersOn.PHONE and not typed and stored_number is None:
        errors["phone_number"] = "Enter the phone number their calls should ring, like 07400 123456."
    if errors:
        raise AdviserRefused(errors)
    assert library is not None
    return CheckedDetails(name, library, languages, skills, answers_on, number, details.is_active)


def client_identity(session: Session, name: str) -> str:
    """A Twilio Client identity for a new adviser's browser phone, from their name and unique: "adviser-tom-hirst"."""
    plain = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    slug = re.sub(r"[^a-z0-9]+", "-", plain.encode("ascii", "ignore").decode().lower()).strip("-")
    base = f"adviser-{slug or 'new'}"[: LONGEST_IDENTITY - 6]
    taken = set(
        session.scalars(select(Adviser.client_identity).where(Adviser.client_identity.like(f"{base}%")))
    )
    identity, number = base, 1
    while identity in taken:
        number += 1
        identity = f"{base}-{number}"
    return identity


def audit_view(adviser: Adviser) -> dict[str, Any]:
    """The adviser's settings as the audit trail keeps them (the phone number masked)."""
    return {
        "name": adviser.name,
        "home_library": adviser.home_library.name,
        "languages": sorted(adviser.languages),
        "skills": {skill.topic.value: skill.proficiency for skill in sorted(adviser.skills, key=_topic)},
        "answers_on": adviser.answers_on.value,
        "phone_number": mask(adviser.phone_number),
        "is_active": adviser.is_active,
    }


def _topic(skill: AdviserSkill) -> str:
    return skill.topic.value


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def load_adviser(session: Session, adviser_id: int, lock: bool = False) -> Adviser:
    """The adviser with skills, shifts and home library; raises AdviserNotFound."""
    if not 1 <= adviser_id <= LARGEST_ID:
        raise AdviserNotFound(adviser_id)
    query = (
        select(Adviser)
        .where(Adviser.id == adviser_id)
        .options(
            selectinload(Adviser.skills), selectinload(Adviser.home_library), selectinload(Adviser.shifts)
        )
    )
    if lock:
        query = query.with_for_update(of=Adviser)
    adviser = session.scalar(query)
    if adviser is None:
        raise AdviserNotFound(adviser_id)
    return adviser


def create_adviser(
    services: Services, session: Session, details: AdviserDetails, by_user: adviser_states.StateChanger
) -> Adviser:
    """Add an adviser (offline, with a browser phone identity), in the caller's transaction, audited."""
    checked = checked_details(session, details, services.settings.default_region)
    now = services.clock.now()
    adviser = Adviser(
        name=checked.name,
        home_library=checked.home_library,
        languages=checked.languages,
        client_identity=client_identity(session, checked.name),
        phone_number=checked.phone_number,
        answers_on=checked.answers_on,
        state=AdviserState.OFFLINE,
        state_since=now,
        is_active=checked.is_active,
        skills=[AdviserSkill(topic=topic, proficiency=level) for topic, level in checked.skills.items()],
    )
    session.add(adviser)
    session.flush()
    record_change(
        session,
        now=now,
        user_id=by_user.id,
        action="adviser.added",
        subject_kind="adviser",
        subject_id=adviser.id,
        summary=f"Adviser {adviser.name} added at {checked.home_library.name}",
        before=None,
        after=audit_view(adviser),
    )
    return adviser


def update_adviser(
    services: Services,
    session: Session,
    adviser_id: int,
    details: AdviserDetails,
    by_user: adviser_states.StateChanger,
) -> list[str]:
    """Save a supervisor's changes to an adviser; returns the names of the fields that changed (none: nothing
    saved or audited). In the caller's transaction.

    Making an adviser inactive sets them offline with a reason first (refused while they are on a call: the
    resident on the line comes first), so they are offered nothing more; the matcher's copy of their skills and
    languages is refreshed once this commits. Raises AdviserNotFound or AdviserRefused.
    """
    adviser = load_adviser(session, adviser_id, lock=True)
    checked = checked_details(
        session, details, services.settings.default_region, stored_number=adviser.phone_number
    )
    before = audit_view(adviser)
    old_number = adviser.phone_number
    if not checked.is_active and adviser.is_active and adviser.state != AdviserState.OFFLINE:
        try:
            adviser_states.change_state(
                services, session, adviser_id, AdviserState.OFFLINE.value, INACTIVE_REASON, by_user
            )
        except StateChangeRefused:
            raise AdviserRefused(
                {"is_active": f"{adviser.name} is on a call. Make them inactive once it ends."}
            ) from None
        adviser = load_adviser(session, adviser_id)
    adviser.name = checked.name
    adviser.home_library = checked.home_library
    adviser.languages = checked.languages
    if checked.phone_number is not None:
        adviser.phone_number = checked.phone_number
    if checked.answers_on == AnswersOn.BROWSER and not adviser.client_identity:
        adviser.client_identity = client_identity(session, adviser.name)
    adviser.answers_on = checked.answers_on
    adviser.is_active = checked.is_active
    wanted = dict(checked.skills)
    for skill in list(adviser.skills):
        if skill.topic not in wanted:
            adviser.skills.remove(skill)
        else:
            skill.proficiency = wanted.pop(skill.topic)
    adviser.skills.extend(AdviserSkill(topic=topic, proficiency=level) for topic, level in wanted.items())
    session.flush()
    after = audit_view(adviser)
    if adviser.phone_number != old_number and after["phone_number"] == before["phone_number"]:
        after["phone_number"] = f"{after['phone_number']} (new number)"  # same last digits, still a change
    old, new = _changed(before, after)
    if not new:
        return []
    now = services.clock.now()
    record_change(
        session,
        now=now,
        user_id=by_user.id,
        action="adviser.changed",
        subject_kind="adviser",
        subject_id=adviser.id,
        summary=f"Adviser {adviser.name}: {', '.join(key.replace('_', ' ') for key in new)} changed",
        before=old,
        after=new,
    )
    _refresh_profile(services, session, adviser, now)
    return list(new)


def _refresh_profile(services: Services, session: Session, adviser: Adviser, now: datetime) -> None:
    """Tell the matcher the adviser's new skills, languages and library once the change commits."""
    profile = adviser_profile(adviser)
    adviser_id = adviser.id
    try:
        store = ready_store(services, session)
    except redis.RedisError:
        # The database holds the change; the store takes it when it is next rebuilt.
        log.warning("adviser.profile_not_refreshed", adviser_id=adviser_id)
        return
    adviser_states.after_commit(session, lambda: store.register_adviser(profile, now))
    adviser_states.after_commit(session, lambda: announce(services, "adviser", adviser_id))


# --- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdviserRow:
    adviser_id: int
    name: str
    library: str
    state: str
    is_active: bool
    languages: tuple[str, ...]
    skills: tuple[tuple[str, int], ...]  # (topic label, proficiency)


def adviser_rows(session: Session, library_id: int | None = None) -> list[AdviserRow]:
    """Every adviser (or one library's), by name, for the advisers list."""
    query = (
        select(Adviser)
        .options(selectinload(Adviser.skills), selectinload(Adviser.home_library))
        .order_by(func.lower(Adviser.name), Adviser.id)
    )
    if library_id is not None:
        query = query.where(Adviser.home_library_id == library_id)
    names = language_names()
    return [
        AdviserRow(
            adviser.id,
            adviser.name,
            adviser.home_library.name,
            adviser.state.value,
            adviser.is_active,
            tuple(names.get(code, code) for code in adviser.languages),
            tuple(
                (TOPICS.get(skill.topic.value, skill.topic.value), skill.proficiency)
                for skill in sorted(adviser.skills, key=_topic)
            ),
        )
        for adviser in session.scalars(query)
    ]
