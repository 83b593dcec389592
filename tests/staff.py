"""Signing staff in for tests: the demo council's users, and a client holding a real sign-in's cookie."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from flask_login import FlaskLoginClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.auth import start_console_session
from models import Call, CallOutcome, QueueEntry, QueueEntryStatus, Topic, User, WrapUp, WrapUpStatus
from models.demo import seed_demo
from runtime.clock import Clock
from runtime.web import EXTENSION_KEY

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def seed_council(db: Session, clock: Clock) -> dict[str, User]:
    """The demo council: libraries, advisers (all offline) and users, keyed by username."""
    with db.begin():
        seed_demo(db, clock.now(), password_hasher=CHEAP_HASHER)
    users = {user.username: user for user in db.scalars(select(User))}
    db.expunge_all()
    db.rollback()  # leave the session with no transaction open, ready for `with db.begin():`
    return users


def signed_in(app: Flask, user: User) -> FlaskClient:
    """A client holding the cookie of a real sign-in (a console_session row) of `user`."""
    services = app.extensions[EXTENSION_KEY]
    with services.session_factory.begin() as session:
        console_user = start_console_session(session, session.get_one(User, user.id), services.clock.now())
    app.test_client_class = FlaskLoginClient
    return app.test_client(user=console_user)


def add_earlier_coded_contact(
    session: Session, caller_number: str, adviser_id: int, started_at: datetime, call_sid: str
) -> Call:
    """A council tax call from this number, answered by this adviser and coded "payment arrangement" with a note:
    what the desk's screen pop lists under the resident's previous contacts."""
    earlier = Call(
        call_sid=call_sid,
        caller_number=caller_number,
        started_at=started_at,
        topic=Topic.COUNCIL_TAX,
        outcome=CallOutcome.ANSWERED,
        language="en-GB",
    )
    session.add(earlier)
    session.flush()
    entry = QueueEntry(
        call_id=earlier.id,
        topic=Topic.COUNCIL_TAX,
        joined_at=started_at,
        status=QueueEntryStatus.CONNECTED,
        adviser_id=adviser_id,
        connected_at=started_at,
        ended_at=started_at,
        priority_reasons=[],
        skipped_adviser_ids=[],
    )
    session.add(entry)
    session.flush()
    session.add(
        WrapUp(
            queue_entry_id=entry.id,
            call_id=earlier.id,
            adviser_id=adviser_id,
            topic=Topic.COUNCIL_TAX,
            status=WrapUpStatus.CODED,
            reason_code="council_tax_payment_arrangement",
            avoidable=False,
            resolved_first_contact=False,
            note="Will ring back after payday",
            started_at=started_at,
            coded_at=started_at,
        )
    )
    return earlier
