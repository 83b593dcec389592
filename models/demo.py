"""Demo data for the embedded default and the simulator: Kirklees' 10 library hubs, advisers and console users.

Everything here is marked `is_demo`; seeding is idempotent (matched by name), so running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Adviser,
    AdviserShift,
    AdviserSkill,
    AdviserState,
    Library,
    LibraryClosure,
    Role,
    Topic,
    User,
)
from models.wrap_up import ensure_default_wrap_up_options

DEMO_PASSWORD = "kirklees-demo"  # printed in the README; demo users only

_WEEKDAY_HOURS = [["09:00", "17:00"]]
_LATE_HOURS = [["09:00", "19:00"]]
_SATURDAY_HOURS = [["09:30", "13:00"]]


def _hours(
    late_days: tuple[str, ...] = (), saturday: bool = True, closed: tuple[str, ...] = ()
) -> dict[str, list[list[str]]]:
    hours: dict[str, list[list[str]]] = {}
    for day in ("mon", "tue", "wed", "thu", "fri"):
        hours[day] = [] if day in closed else (_LATE_HOURS if day in late_days else _WEEKDAY_HOURS)
    hours["sat"] = _SATURDAY_HOURS if saturday else []
    hours["sun"] = []
    return hours


@dataclass(frozen=True)
class DemoLibrary:
    name: str
    address: str
    postcode: str
    neighbours: tuple[str, ...]
    hours: dict[str, list[list[str]]]


_MAIN_HUB = _hours(late_days=("tue", "thu"))
_TOWN_HUB = _hours(saturday=True)
_VILLAGE_HUB = _hours(saturday=False, closed=("wed",))

LIBRARIES = (
    DemoLibrary(
        "Huddersfield",
        "Princess Alexandra Walk, Huddersfield",
        "HD1 2SU",
        ("Almondbury", "Kirkburton", "Holmfirth"),
        _MAIN_HUB,
    ),
    DemoLibrary("Dewsbury", "Railway Street, Dewsbury", "WF12 8EQ", ("Ravensthorpe", "Batley"), _MAIN_HUB),
    DemoLibrary("Batley", "Market Place, Batley", "WF17 5DA", ("Birstall", "Dewsbury"), _TOWN_HUB),
    DemoLibrary(
        "Cleckheaton", "Whitcliffe Road, Cleckheaton", "BD19 3DX", ("Heckmondwike", "Birstall"), _TOWN_HUB
    ),
    DemoLibrary(
        "Heckmondwike", "Walkley Lane, Heckmondwike", "WF16 0PT", ("Cleckheaton", "Ravensthorpe"), _TOWN_HUB
    ),
    DemoLibrary("Birstall", "Market Street, Birstall", "WF17 9EN", ("Batley", "Cleckheaton"), _VILLAGE_HUB),
    DemoLibrary(
        "Ravensthorpe",
        "Huddersfield Road, Ravensthorpe",
        "WF13 3AA",
        ("Dewsbury", "Heckmondwike"),
        _VILLAGE_HUB,
    ),
    DemoLibrary(
        "Almondbury", "Farnley Road, Almondbury", "HD5 8LE", ("Huddersfield", "Kirkburton"), _VILLAGE_HUB
    ),
    DemoLibrary(
        "Holmfirth", "Huddersfield Road, Holmfirth", "HD9 3JH", ("Huddersfield", "Kirkburton"), _TOWN_HUB
    ),
    DemoLibrary(
        "Kirkburton", "Shelley Lane, Kirkburton", "HD8 0SJ", ("Almondbury", "Holmfirth"), _VILLAGE_HUB
    ),
)
# A dated closure shows how staff training days and maintenance are handled.
CLOSURES = (("Holmfirth", date(2026, 12, 29), date(2026, 12, 31), "Building maintenance"),)

CT, HB = Topic.COUNCIL_TAX, Topic.HOUSING_BENEFIT
# name, home library, {topic: proficiency}, languages
ADVISERS: tuple[tuple[str, str, dict[Topic, int], tuple[str, ...]], ...] = (
    ("Aisha Khan", "Huddersfield", {CT: 5, HB: 4}, ("en-GB", "ur-PK")),
    ("Tom Hirst", "Huddersfield", {CT: 4}, ("en-GB",)),
    ("Gurpreet Sandhu", "Huddersfield", {HB: 5, CT: 2}, ("en-GB", "pa-IN")),
    ("Zofia Nowak", "Dewsbury", {HB: 4, CT: 3}, ("en-GB", "pl-PL")),
    ("Imran Patel", "Dewsbury", {CT: 5}, ("en-GB", "ur-PK", "pa-IN")),
    ("Sarah Lockwood", "Dewsbury", {HB: 3}, ("en-GB",)),
    ("Bilal Hussain", "Batley", {CT: 3, HB: 3}, ("en-GB", "ur-PK")),
    ("Joanne Firth", "Batley", {HB: 5}, ("en-GB",)),
    ("Piotr Kowalski", "Cleckheaton", {CT: 4}, ("en-GB", "pl-PL")),
    ("Helen Brook", "Cleckheaton", {HB: 2, CT: 4}, ("en-GB",)),
    ("Nasreen Akhtar", "Heckmondwike", {HB: 4}, ("en-GB", "ur-PK", "pa-IN")),
    ("David Sykes", "Heckmondwike", {CT: 3}, ("en-GB",)),
    ("Emma Walsh", "Birstall", {CT: 4, HB: 4}, ("en-GB",)),
    ("Kamal Mahmood", "Ravensthorpe", {HB: 3, CT: 3}, ("en-GB", "ur-PK")),
    ("Rachel Dyson", "Ravensthorpe", {CT: 2}, ("en-GB",)),
    ("Mark Haigh", "Almondbury", {HB: 4}, ("en-GB",)),
    ("Anna Wiśniewska", "Almondbury", {CT: 3, HB: 2}, ("en-GB", "pl-PL")),
    ("Chris Booth", "Holmfirth", {CT: 4, HB: 3}, ("en-GB",)),
    ("Lucy Senior", "Kirkburton", {HB: 3, CT: 3}, ("en-GB",)),
    ("Harpreet Kaur", "Kirkburton", {CT: 4}, ("en-GB", "pa-IN")),
)


def client_identity_for(name: str) -> str:
    """The Twilio Client identity an adviser's browser registers as, e.g. "adviser-aisha-khan"."""
    ascii_name = name.lower().replace("ś", "s").replace(" ", "-")
    return f"adviser-{ascii_name}"


def username_for(name: str) -> str:
    return name.split()[0].lower().replace("ś", "s")


def seed_demo(
    session: Session, now: datetime, password_hasher: PasswordHasher | None = None
) -> dict[str, int]:
    """Insert whatever demo data is missing; returns how many of each were created."""
    hasher = password_hasher or PasswordHasher()
    password_hash = hasher.hash(DEMO_PASSWORD)
    created = {"libraries": 0, "closures": 0, "advisers": 0, "shifts": 0, "users": 0}
    # Not demo data: the council's wrap-up lists, which a fresh database has from its migration already.
    created["wrap_up_options"] = ensure_default_wrap_up_options(session)

    libraries = {lib.name: lib for lib in session.scalars(select(Library))}
    for demo in LIBRARIES:
        if demo.name in libraries:
            continue
        library = Library(
            name=demo.name,
            address=demo.address,
            postcode=demo.postcode,
            offers_phone_support=True,
            opening_hours=demo.hours,
            neighbours=list(demo.neighbours),
            is_demo=True,
        )
        session.add(library)
        libraries[demo.name] = library
        created["libraries"] += 1
    session.flush()

    for library_name, starts_on, ends_on, reason in CLOSURES:
        library = libraries[library_name]
        if not any(c.starts_on == starts_on for c in library.closures):
            library.closures.append(LibraryClosure(starts_on=starts_on, ends_on=ends_on, reason=reason))
            created["closures"] += 1

    advisers = {a.name: a for a in session.scalars(select(Adviser))}
    for name, library_name, skills, languages in ADVISERS:
        if name in advisers:
            continue
        adviser = Adviser(
            name=name,
            home_library=libraries[library_name],
            languages=list(languages),
            client_identity=client_identity_for(name),
            state=AdviserState.OFFLINE,
            state_since=now,
            is_demo=True,
            # Every adviser takes general enquiries (callers who asked for a person before choosing a topic).
            skills=[
                AdviserSkill(topic=topic, proficiency=level)
                for topic, level in {Topic.GENERAL: 3, **skills}.items()
            ],
        )
        session.add(adviser)
        advisers[name] = adviser
        created["advisers"] += 1
    session.flush()

    # A weekly rota for callback slots: each demo adviser takes phone work whenever their home hub is open.
    for name, library_name, *_ in ADVISERS:
        adviser = advisers[name]
        if adviser.shifts:
            continue
        hub = libraries[library_name]
        for weekday, day in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
            for starts, ends in hub.opening_hours.get(day, []):
                adviser.shifts.append(
                    AdviserShift(
                        library_id=hub.id,
                        weekday=weekday,
                        starts=time.fromisoformat(starts),
                        ends=time.fromisoformat(ends),
                    )
                )
                created["shifts"] += 1
    session.flush()

    users = set(session.scalars(select(User.username)))
    wanted = [
        ("supervisor", "Demo Supervisor", Role.SUPERVISOR, None),
        ("admin", "Demo Admin", Role.ADMIN, None),
    ]
    wanted += [(username_for(name), name, Role.ADVISER, advisers[name].id) for name, *_ in ADVISERS]
    for username, display_name, role, adviser_id in wanted:
        if username in users:
            continue
        session.add(
            User(
                username=username,
                display_name=display_name,
                role=role,
                password_hash=password_hash,
                adviser_id=adviser_id,
                is_demo=True,
                created_at=now,
            )
        )
        created["users"] += 1
    return created
