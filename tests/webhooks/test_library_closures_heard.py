"""What a new call hears once a supervisor closes libraries (ivr.library_operations): the caller whose library is
closed hears its sentence as they join the queue and is homed to an open neighbour; when every library is closed,
the menu's closed notice says the sentence, within a minute of the closure by the call's clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from ivr import library_operations, versions
from models import Library, QueueEntry
from models.demo import seed_demo
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
FLOODING = "Huddersfield Library is closed from 10 am today because of flooding."
SNOW = "All Kirklees libraries are closed today because of snow."
WAIT = "/voice/queue/wait?topic=council_tax&language={language}"


@pytest.fixture
def council(app, db, clock):
    seed_demo(db, clock.now(), password_hasher=CHEAP_HASHER)
    versions.install_default_flow(db, clock.now())
    db.commit()


def close(db, clock, name: str, sentence: str) -> None:
    with db.begin():
        library = db.scalars(select(Library).where(Library.name == name)).one()
        library_operations.close_now(db, library.id, "Emergency", sentence, clock.now(), None)


def hold_round(twilio_post, sid: str, language: str = "en-GB") -> str:
    form = call_form(sid, From="+447700900123")
    twilio_post("/voice/incoming", form)
    response = twilio_post(WAIT.format(language=language), form)
    assert response.status_code == 200
    return spoken_text(parse_twiml(response.data))


def home_library_of(db, sid: str) -> str:
    db.expire_all()
    entry = db.scalars(select(QueueEntry).order_by(QueueEntry.id.desc())).first()
    assert entry is not None
    return db.get_one(Library, entry.home_library_id).name


def test_a_caller_whose_library_is_closed_now_hears_its_sentence_once_and_goes_to_an_open_neighbour(
    council, twilio_post, db, clock
):
    close(db, clock, "Huddersfield", FLOODING)  # the default home library of a caller we have not met

    first = hold_round(twilio_post, "CA" + "1" * 32)
    assert first.startswith(FLOODING)
    # Huddersfield's neighbours: Almondbury and Kirkburton shut on Wednesdays; Holmfirth is open.
    assert home_library_of(db, "CA" + "1" * 32) == "Holmfirth"
    again = twilio_post(WAIT.format(language="en-GB"), call_form("CA" + "1" * 32, From="+447700900123"))
    assert FLOODING not in spoken_text(parse_twiml(again.data)), "said once, as they join"


def test_a_polish_caller_hears_nothing_invented_about_the_closure(council, twilio_post, db, clock):
    close(db, clock, "Huddersfield", FLOODING)

    said = hold_round(twilio_post, "CA" + "2" * 32, language="pl-PL")
    assert FLOODING not in said and "Żaden konsultant nie pracuje teraz" in said
    assert home_library_of(db, "CA" + "2" * 32) == "Holmfirth"


def test_a_caller_whose_library_is_open_hears_no_closure(council, twilio_post, db, clock):
    close(db, clock, "Batley", "Batley Library is closed because of flooding.")

    said = hold_round(twilio_post, "CA" + "3" * 32)
    assert "closed" not in said
    assert home_library_of(db, "CA" + "3" * 32) == "Huddersfield"


def menu_closed_notice(twilio_post, sid: str, language_key: str = "1") -> str:
    """Ring, choose a language, ask for an adviser (0): what the menu says next."""
    form = call_form(sid, From="+441484000001")  # a landline: no text message is offered
    root = parse_twiml(twilio_post("/voice/incoming", form).data)
    for digits in (language_key, "0"):
        action = next(root.iter("Gather")).get("action")
        root = parse_twiml(twilio_post(action, {**form, "Digits": digits}).data)
    return spoken_text(root)


def test_when_every_library_is_closed_a_new_call_hears_the_sentence_within_a_minute(
    council, twilio_post, db, clock
):
    assert "closed" not in menu_closed_notice(twilio_post, "CA" + "4" * 32)  # the menu has read the hours
    names = db.scalars(select(Library.name)).all()
    db.rollback()
    for name in names:
        close(db, clock, name, SNOW)
    clock.advance(timedelta(seconds=61))

    said = menu_closed_notice(twilio_post, "CA" + "5" * 32)
    assert said.startswith(
        f"Sorry, our lines are closed now. {SNOW} We open again tomorrow, Thursday, at 9 am."
    )
    polish = menu_closed_notice(twilio_post, "CA" + "6" * 32, language_key="2")
    assert "Dziś jesteśmy zamknięci." in polish and SNOW not in polish
