"""Holding while nobody for the topic is working: said twice, then the callback offered plainly with the time
advisers are next expected (from the rota), and then not every half minute."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import delete, select

from models import Adviser, AdviserShift, Library
from models.demo import seed_demo
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text, verbs

SID = "CA" + "6" * 32
MOBILE = "+447400123456"
WAIT_EN = "/voice/queue/wait?topic=council_tax&language=en-GB&priority=0"
WAIT_PL = "/voice/queue/wait?topic=council_tax&language=pl-PL&priority=0"
NOBODY = "No advisers for this are working right now."


@pytest.fixture
def council(app, db, clock):
    """Demo hubs and rota (Wednesday 25 November, 10 am: every shift began at 9), nobody logged in."""
    seed_demo(db, clock.now())
    db.commit()


def hold_round(twilio_post, queue_time: int, wait: str = WAIT_EN):
    response = twilio_post(wait, call_form(SID, From=MOBILE, QueueTime=str(queue_time)))
    assert response.status_code == 200
    return parse_twiml(response.data)


def pause_seconds(root) -> int:
    return sum(int(pause.get("length", "1")) for pause in root.iter("Pause"))


def test_the_first_two_rounds_say_nobody_is_working_as_today(council, twilio_post):
    for queue_time in (0, 38):
        root = hold_round(twilio_post, queue_time)
        assert NOBODY in spoken_text(root)
        assert "To get a call back without losing your place, press 1." in spoken_text(root)


def test_from_the_third_round_the_callback_is_offered_plainly_with_the_next_expected_time(
    council, twilio_post
):
    hold_round(twilio_post, 0)
    root = hold_round(twilio_post, 76)

    assert spoken_text(root) == (
        "No one can take your call right now. Advisers are next expected tomorrow, Thursday, at 9 am. "
        "To be called back then, press 1. To keep holding, press 2."
    )
    assert verbs(root) == ["Gather", "Pause"]
    assert root.find("Gather").get("action").startswith("/voice/queue/key")
    assert pause_seconds(root) >= 60, "the offer is not repeated every half minute"


def test_a_later_shift_today_is_the_time_said(council, twilio_post, db):
    db.execute(delete(AdviserShift))
    tom = db.scalars(select(Adviser).where(Adviser.name == "Tom Hirst")).one()
    huddersfield = db.scalars(select(Library).where(Library.name == "Huddersfield")).one()
    db.add(
        AdviserShift(adviser_id=tom.id, library_id=huddersfield.id, weekday=2, starts=time(14), ends=time(17))
    )
    db.commit()
    hold_round(twilio_post, 0)

    assert "Advisers are next expected today at 2 pm." in spoken_text(hold_round(twilio_post, 80))


def test_a_polish_caller_hears_the_offer_in_polish(council, twilio_post):
    hold_round(twilio_post, 0, WAIT_PL)
    root = hold_round(twilio_post, 80, WAIT_PL)

    assert spoken_text(root) == (
        "Nikt nie może teraz odebrać połączenia. Konsultantów spodziewamy się jutro, w czwartek, o 9. "
        "Aby otrzymać wtedy oddzwonienie, proszę nacisnąć 1. Aby dalej czekać, proszę nacisnąć 2."
    )
    assert {say.get("language") for say in root.iter("Say")} == {"pl-PL"}


def test_with_nobody_rostered_in_the_next_two_weeks_we_say_we_cant_tell_and_still_offer_it(
    council, twilio_post, db
):
    db.execute(delete(AdviserShift))
    db.commit()
    hold_round(twilio_post, 0)
    text = spoken_text(hold_round(twilio_post, 80))

    assert text == (
        "No one can take your call right now, and we can't tell when advisers will next be working. "
        "To be called back as soon as someone can, press 1. To keep holding, press 2."
    )
