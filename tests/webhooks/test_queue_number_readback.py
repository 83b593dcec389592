"""The keep-your-place number read-back ("press 1 for that number, or 2 to give another"): every other key
and silence is answered plainly, and none of them drops the caller's booking without a word."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Call, Callback, QueueEntryStatus
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text, verbs
from tests.webhooks.test_queue_webhooks import KEY, MOBILE, SID, WAIT, council, entries  # noqa: F401

STILL_HOLDING = "You're still holding, and you keep your place in the queue."


def read_back(twilio_post, db, language: str = "en-GB"):
    """Join the queue, press 1 while holding: the Gather that reads back the caller's own number."""
    twilio_post(WAIT.replace("language=en-GB", f"language={language}"), call_form(SID, From=MOBILE))
    db.scalars(select(Call)).one().language = language  # as the menu leaves it
    db.commit()
    reply = parse_twiml(twilio_post(KEY, call_form(SID, From=MOBILE, Digits="1")).data)
    [confirm] = reply.iter("Gather")
    return reply, confirm


def press(twilio_post, gather, digits: str):
    return parse_twiml(twilio_post(gather.get("action"), call_form(SID, From=MOBILE, Digits=digits)).data)


def nothing_booked(db) -> bool:
    db.expire_all()
    return db.scalars(select(Callback)).all() == [] and entries(db)[0].status == QueueEntryStatus.WAITING


def test_pressing_0_says_no_call_back_and_the_caller_keeps_their_place(council, twilio_post, db):  # noqa: F811
    _, confirm = read_back(twilio_post, db)
    reply = press(twilio_post, confirm, "0")

    assert spoken_text(reply) == "OK, no call back. You keep your place in the queue."
    assert "Leave" not in verbs(reply)
    assert nothing_booked(db)


def test_another_key_asks_again_once_and_1_then_still_keeps_the_place(council, twilio_post, db):  # noqa: F811
    _, confirm = read_back(twilio_post, db)
    again = press(twilio_post, confirm, "7")

    assert spoken_text(again).startswith(
        "Sorry, that key isn't one of the choices. We'll call you on the number"
    )
    [confirm_again] = again.iter("Gather")
    kept = press(twilio_post, confirm_again, "1")
    assert "Leave" in verbs(kept) and "ending 4 5 6" in spoken_text(kept)
    assert entries(db)[0].status == QueueEntryStatus.LEFT_FOR_CALLBACK


def test_a_second_wrong_key_goes_back_to_holding_and_says_so(council, twilio_post, db):  # noqa: F811
    _, confirm = read_back(twilio_post, db)
    [confirm_again] = press(twilio_post, confirm, "7").iter("Gather")
    reply = press(twilio_post, confirm_again, "#")

    assert set(verbs(reply)) == {"Say"}  # no more questions: the hold round carries on
    assert spoken_text(reply) == f"Sorry, that key isn't one of the choices. {STILL_HOLDING}"
    assert nothing_booked(db)


def test_silence_at_the_read_back_goes_back_to_holding_and_says_so(council, twilio_post, db):  # noqa: F811
    reply, _ = read_back(twilio_post, db)

    # Twilio runs the verb after the Gather when nothing is pressed.
    assert verbs(reply) == ["Gather", "Say"]
    assert reply.findall("Say")[-1].text == f"We didn't hear a choice. {STILL_HOLDING}"
    assert nothing_booked(db)


@pytest.mark.parametrize(
    ("digits", "said"),
    [
        ("0", "Dobrze, bez oddzwaniania. Miejsce w kolejce jest zachowane."),
        ("7", "Przepraszamy, tego klawisza nie ma wśród możliwości. Oddzwonimy na numer"),
    ],
)
def test_a_polish_caller_hears_the_same_in_polish(council, twilio_post, db, digits, said):  # noqa: F811
    _, confirm = read_back(twilio_post, db, "pl-PL")
    reply = press(twilio_post, confirm, digits)

    assert spoken_text(reply).startswith(said)
    assert {say.get("language") for say in reply.iter("Say")} == {"pl-PL"}
