"""Two council days (Monday 2 and Tuesday 3 November 2026, GMT) of calls, callbacks, wrap-ups and menu steps,
with every report's figures worked out by hand below: the fixed data set the report tests check against, on
PostgreSQL and SQLite, in the page and in its CSV.

The callers (queue places of phone calls; waits in seconds; "Asha" works at Batley, "Ben" at Dewsbury):

    #   joined (UTC = GMT)   topic  home      outcome                    number  menu
    1   Mon 09:10            CT     Batley    answered after 20 by Asha  N1      v1: welcome, topic (matched)
    2   Mon 09:20            CT     Batley    answered after 60 by Asha  N3      v1: welcome (pressed 0)
    3   Mon 09:40            HB     Dewsbury  answered after 90 by Ben   N2
    4   Mon 10:05            CT     Batley    hung up after 3 (short)    N5
    5   Mon 10:15            HB     Dewsbury  hung up after 45           N3
    6   Mon 10:30            HB     none      hung up after 400          withheld
    7   Mon 10:45            CT     Batley    left for a callback at 120 N6
    8   Tue 09:05            CT     Batley    answered after 30 by Ben   N1      v2: welcome (matched)
    9   Tue 14:00            HB     Dewsbury  answered after 200 by Ben  N2
    10  Tue 14:30            CT     Batley    hung up after 10           N7

and calls that never reached the queue: 11 (Mon 11:00, N4, v1: welcome, topic, silence, then hung up), 13 (Mon
11:30, withheld, v2: welcome, a wrong key, then hung up); outside the days, Sunday 23:59:30 and Wednesday 00:00
(answered) and Friday 20 November (N1, council tax again: 17 days after #8).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from models import (
    Adviser,
    Call,
    Callback,
    CallbackAttempt,
    CallbackStatus,
    CallEvent,
    CallOutcome,
    Flow,
    FlowStatus,
    FlowVersion,
    Library,
    QueueEntry,
    QueueEntryStatus,
    Topic,
)
from models.wrap_up import WrapUp, WrapUpStatus, ensure_default_wrap_up_options

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 3)
MONDAY = datetime(2026, 11, 2, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)
CT, HB = Topic.COUNCIL_TAX, Topic.HOUSING_BENEFIT
N = {n: f"+4477009000{n:02d}" for n in range(1, 8)}
ANSWERED, ABANDONED, LEFT = (
    QueueEntryStatus.CONNECTED,
    QueueEntryStatus.ABANDONED,
    QueueEntryStatus.LEFT_FOR_CALLBACK,
)

# (n, joined, topic, home, status, wait, adviser, number, menu version, menu steps)
CALLERS = (
    (1, MONDAY.replace(hour=9, minute=10), CT, "Batley", ANSWERED, 20, "Asha", N[1], 1,
     (("welcome", "presented"), ("topic", "presented"), ("topic", "matched"))),
    (2, MONDAY.replace(hour=9, minute=20), CT, "Batley", ANSWERED, 60, "Asha", N[3], 1,
     (("welcome", "presented"), ("welcome", "adviser"))),
    (3, MONDAY.replace(hour=9, minute=40), HB, "Dewsbury", ANSWERED, 90, "Ben", N[2], None, ()),
    (4, MONDAY.replace(hour=10, minute=5), CT, "Batley", ABANDONED, 3, None, N[5], None, ()),
    (5, MONDAY.replace(hour=10, minute=15), HB, "Dewsbury", ABANDONED, 45, None, N[3], None, ()),
    (6, MONDAY.replace(hour=10, minute=30), HB, None, ABANDONED, 400, None, None, None, ()),
    (7, MONDAY.replace(hour=10, minute=45), CT, "Batley", LEFT, 120, None, N[6], None, ()),
    (8, TUESDAY.replace(hour=9, minute=5), CT, "Batley", ANSWERED, 30, "Ben", N[1], 2,
     (("welcome", "presented"), ("welcome", "matched"))),
    (9, TUESDAY.replace(hour=14), HB, "Dewsbury", ANSWERED, 200, "Ben", N[2], None, ()),
    (10, TUESDAY.replace(hour=14, minute=30), CT, "Batley", ABANDONED, 10, None, N[7], None, ()),
    # outside the two days: just before Monday, just after Tuesday
    (20, MONDAY - timedelta(seconds=30), CT, "Batley", ANSWERED, 5, "Asha", N[4], None, ()),
    (21, TUESDAY + timedelta(days=1), CT, "Batley", ANSWERED, 5, "Asha", N[4], None, ()),
)  # fmt: skip
MENU_ONLY = (
    (11, MONDAY.replace(hour=11), N[4], CallOutcome.IN_PROGRESS, 1,
     (("welcome", "presented"), ("topic", "presented"), ("topic", "no_input"))),
    (13, MONDAY.replace(hour=11, minute=30), None, CallOutcome.ABANDONED, 2,
     (("welcome", "presented"), ("welcome", "invalid"))),
)  # fmt: skip
# (code, avoidable, cause) per caller
WRAP_UPS = {
    1: ("council_tax_payment_arrangement", False, None),
    2: ("council_tax_payment_arrangement", True, "chasing_progress"),
    3: ("housing_benefit_claim_progress", True, "chasing_progress"),
    8: ("council_tax_bill_query", True, "letter_not_understood"),
    9: None,  # not coded yet
}

# --- the figures, by hand ---------------------------------------------------------------------------------
# Monday: 7 joined; answered 20, 60, 90 (in time: 20, 60); abandoned 45, 400 (3 is short); 1 to a callback.
# Tuesday: 3 joined; answered 30, 200 (in time: 30); abandoned 10.
BY_DAY = {  # day: (calls started, answered, answered in time, abandoned, short, to callback, ASA seconds)
    FIRST: (9, 3, 2, 2, 1, 1, (20 + 60 + 90) / 3),
    LAST: (3, 2, 1, 1, 0, 0, (30 + 200) / 2),
}
SERVICE_LEVEL = {FIRST: 2 / 5, LAST: 1 / 3}
ABANDONMENT = {FIRST: 2 / 5, LAST: 1 / 3}
WHOLE = {"calls": 12, "answered": 5, "service_level": 3 / 8, "abandonment": 3 / 8, "asa": 80.0}
BY_HOUR = {9: (4, 4), 10: (4, 0), 11: (2, 0), 12: (0, 0), 13: (0, 0), 14: (2, 1)}  # calls, answered
GIVE_UP = [1, 1, 1, 0, 0, 1, 0, 0]  # 3 s; 10 s; 45 s; -; -; 400 s; -; -
# library: (callers whose library it is, answered by its advisers, service level of its callers)
LIBRARY_LOAD = {"Batley": (6, 2, 3 / 4), "Dewsbury": (3, 3, 0.0), "No home library": (1, 0, 0.0)}
CALLBACKS = {  # day: (booked, kept, late, failed, cancelled, open)
    FIRST: (4, 1, 1, 1, 1, 0),
    LAST: (2, 0, 1, 0, 0, 1),
}
WRAP_UP_CODES = {
    "council_tax_payment_arrangement": 2,
    "housing_benefit_claim_progress": 1,
    "council_tax_bill_query": 1,
}
UNCODED = 1
AVOIDABLE = {"coded": 4, "avoidable": 3, "chasing_progress": 2, "letter_not_understood": 1}
# topic: (contacts, repeated within 7, 14, 28 days); #1 is repeated by #8 the next day, #8 by 20 November
# (17 days), #3 by #9; #5 is the same number as #2 but another topic.
REPEATS = {CT: (6, 1, 1, 2), HB: (3, 1, 1, 1), Topic.GENERAL: (0, 0, 0, 0), None: (9, 2, 2, 3)}
# flow version: node: (reached, asked for a person, not understood, hung up there)
FUNNEL = {
    1: {"welcome": (3, 1, 0, 0), "topic": (2, 0, 1, 1)},
    2: {"welcome": (2, 0, 1, 1)},
}


def _events(session: Session, call: Call, steps) -> None:  # noqa: ANN001
    for k, (node, outcome) in enumerate(steps):
        session.add(
            CallEvent(
                call_id=call.id,
                occurred_at=call.started_at + timedelta(seconds=k),
                kind="ivr_step",
                node=node,
                outcome=outcome,
                detail={},
            )
        )


def seed_report_days(session: Session) -> None:
    """Write the two days into an empty database (in the caller's transaction)."""
    ensure_default_wrap_up_options(session)
    libraries = {name: Library(name=name, address=f"{name} Library", postcode="WF17 5DA") for name in
                 ("Batley", "Dewsbury")}  # fmt: skip
    session.add_all(libraries.values())
    session.flush()
    advisers = {
        name: Adviser(
            name=name,
            home_library_id=libraries[home].id,
            client_identity=f"report-{name.lower()}",
            state_since=MONDAY,
        )
        for name, home in (("Asha", "Batley"), ("Ben", "Dewsbury"))
    }
    flow = Flow(name="report-days", description="")
    versions = {
        number: FlowVersion(
            flow=flow,
            number=number,
            definition={},
            status=FlowStatus.ARCHIVED,
            author="test",
            created_at=MONDAY,
        )
        for number in (1, 2)
    }
    session.add_all([*advisers.values(), flow, *versions.values()])
    session.flush()
    entries: dict[int, QueueEntry] = {}
    for n, joined, topic, home, status, wait, adviser, number, version, steps in CALLERS:
        call = Call(
            call_sid=f"CA{n:032d}",
            caller_number=number,
            started_at=joined,
            topic=topic,
            ended_at=joined + timedelta(seconds=wait + 300),
            outcome=CallOutcome.ANSWERED if status == ANSWERED else CallOutcome.ABANDONED,
            flow_version_id=versions[version].id if version else None,
        )
        session.add(call)
        session.flush()
        _events(session, call, steps)
        entries[n] = QueueEntry(
            call_id=call.id,
            topic=topic,
            home_library_id=libraries[home].id if home else None,
            joined_at=joined,
            status=status,
            adviser_id=advisers[adviser].id if adviser else None,
            connected_at=joined + timedelta(seconds=wait) if status == ANSWERED else None,
            ended_at=joined + timedelta(seconds=wait + (300 if status == ANSWERED else 0)),
        )
        session.add(entries[n])
    for n, started, number, outcome, version, steps in MENU_ONLY:
        call = Call(
            call_sid=f"CA{n:032d}",
            caller_number=number,
            started_at=started,
            ended_at=started + timedelta(seconds=40),
            outcome=outcome,
            flow_version_id=versions[version].id,
        )
        session.add(call)
        session.flush()
        _events(session, call, steps)
    later = datetime(2026, 11, 20, 12, tzinfo=UTC)
    session.add(Call(call_sid="CA" + "9" * 32, caller_number=N[1], started_at=later, topic=CT))
    session.flush()
    for n, coded in WRAP_UPS.items():
        entry = entries[n]
        code, avoidable, cause = coded if coded else (None, None, None)
        session.add(
            WrapUp(
                queue_entry_id=entry.id,
                call_id=entry.call_id,
                adviser_id=entry.adviser_id,
                topic=entry.topic,
                status=WrapUpStatus.CODED if coded else WrapUpStatus.UNCODED,
                reason_code=code,
                avoidable=avoidable,
                avoidable_cause=cause,
                started_at=entry.connected_at + timedelta(minutes=5),
            )
        )
    _callbacks(session, libraries["Batley"].id)


def _callbacks(session: Session, library_id: int) -> None:
    """Monday: kept (rung 2 min after booking), late (rung after its slot), failed, cancelled; Tuesday: late
    (rung 20 min after booking), still to ring. A kept place in the queue (not counted) too."""
    slot = (MONDAY.replace(hour=14), MONDAY.replace(hour=16))
    rows = (
        (1, MONDAY.replace(hour=10, minute=47), None, CallbackStatus.CONNECTED, [timedelta(minutes=2)], False),
        (2, MONDAY.replace(hour=11), slot, CallbackStatus.CONNECTED, [timedelta(hours=5, minutes=10)], False),
        (3, MONDAY.replace(hour=11, minute=5), slot, CallbackStatus.FAILED,
         [timedelta(hours=3), timedelta(hours=4)], False),
        (4, MONDAY.replace(hour=11, minute=10), None, CallbackStatus.CANCELLED, [], False),
        (5, TUESDAY.replace(hour=9), None, CallbackStatus.CONNECTED,
         [timedelta(minutes=20), timedelta(minutes=50)], False),
        (6, TUESDAY.replace(hour=15), None, CallbackStatus.REQUESTED, [], False),
        (7, MONDAY.replace(hour=10, minute=45), None, CallbackStatus.CONNECTED, [timedelta(minutes=1)], True),
    )  # fmt: skip
    for n, booked, window, status, dials, keeps_place in rows:
        callback = Callback(
            number=f"+4477009001{n:02d}",
            topic=CT,
            status=status,
            dedupe_key=f"report-{n}",
            library_id=library_id,
            keeps_place=keeps_place,
            slot_starts_at=window[0] if window else None,
            slot_ends_at=window[1] if window else None,
            created_at=booked,
            updated_at=booked,
        )
        callback.attempt_records = [
            CallbackAttempt(
                number=k, claimed_at=booked + after, claimed_by="test", dial_started_at=booked + after
            )
            for k, after in enumerate(dials, start=1)
        ]
        session.add(callback)
