"""Whatever a caller says or Twilio sends, of any length and in any script, is heard as input, never an error.

These run on PostgreSQL in CI (`.ci/run` sets DATABASE_URL): SQLite ignores VARCHAR lengths, which is how
speech over 57 characters failing at the first prompt went unseen. The autouse guard in tests/conftest.py
fails a test during which any webhook fell back to the safe apology.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr import versions
from models import Call, CallEvent, QueueEntry
from models.demo import seed_demo
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text, verbs

SID = "CA" + "a" * 32
LONG_REQUEST = "Hello, I'd like to speak to someone about my council tax please"
# 1,000 characters in each of the scripts our callers use (Twilio returns speech as text in any of them).
THOUSAND = {
    "english": ("I am ringing about my council tax bill because " * 30)[:1000],
    "polish": ("Dzień dobry, dzwonię w sprawie podatku lokalnego, źle naliczono opłatę " * 20)[:1000],
    "urdu": ("میں اپنے کونسل ٹیکس کے بل کے بارے میں بات کرنا چاہتا ہوں " * 25)[:1000],
    "punjabi": ("ਮੈਂ ਆਪਣੇ ਕੌਂਸਲ ਟੈਕਸ ਬਾਰੇ ਗੱਲ ਕਰਨੀ ਚਾਹੁੰਦਾ ਹਾਂ " * 30)[:1000],
    "emoji and symbols": ("☎️ help 😟 £120 overdue — «bailiff» " * 40)[:1000],
}


@pytest.fixture
def council(app, db, clock):
    seed_demo(db, clock.now())
    versions.install_default_flow(db, clock.now())
    db.commit()


def _at_main_menu(twilio_post) -> None:
    twilio_post("/voice/incoming", call_form(SID))
    twilio_post("/voice/step?turn=0", call_form(SID, Digits="1"))  # English


def _say(twilio_post, turn: int, words: str):
    return twilio_post(f"/voice/step?turn={turn}", call_form(SID, SpeechResult=words, Confidence="0.92"))


def test_a_long_spoken_request_for_a_person_about_council_tax_queues_for_council_tax(
    council, twilio_post, db
):
    assert len(LONG_REQUEST) >= 58
    _at_main_menu(twilio_post)
    root = parse_twiml(_say(twilio_post, 1, LONG_REQUEST).data)
    assert "something went wrong" not in spoken_text(root).lower()
    [enqueue] = root.iter("Enqueue")
    assert enqueue.text == "council_tax" and "topic=council_tax" in enqueue.get("waitUrl", "")
    event = db.scalars(select(CallEvent).where(CallEvent.outcome == "adviser")).one()
    assert event.node == "main_menu" and event.caller_input.startswith("speech:hello i'd like to speak")
    assert db.scalars(select(Call)).one().topic.value == "council_tax"


@pytest.mark.parametrize("script", sorted(THOUSAND))
def test_a_thousand_characters_of_speech_at_a_menu_is_asked_again(council, twilio_post, db, script):
    _at_main_menu(twilio_post)
    root = parse_twiml(_say(twilio_post, 1, THOUSAND[script]).data)
    assert "Gather" in verbs(root)
    assert "something went wrong" not in spoken_text(root).lower()
    assert "sorry, i didn't catch that" in spoken_text(root).lower()
    db.expire_all()
    assert db.scalars(select(Call)).one().ivr_state["node"] == "main_menu"


@pytest.mark.parametrize("script", sorted(THOUSAND))
def test_a_thousand_characters_of_speech_at_the_account_number_is_asked_again(
    council, twilio_post, db, script
):
    _at_main_menu(twilio_post)
    twilio_post("/voice/step?turn=1", call_form(SID, Digits="1"))  # council tax
    twilio_post("/voice/step?turn=2", call_form(SID, Digits="1"))  # to pay: asks for the account number
    root = parse_twiml(_say(twilio_post, 3, THOUSAND[script]).data)
    assert "something went wrong" not in spoken_text(root).lower()
    assert "Gather" in verbs(root)
    db.expire_all()
    assert db.scalars(select(Call)).one().ivr_state["node"] == "ct_reference"


# Every field Twilio sends to our webhooks, at a length and with characters (NUL, controls) no column can hold.
OVERSIZED = ("9" * 1000) + "\x00\x07" + THOUSAND["polish"]
TWILIO_FIELDS = (
    "Digits",
    "SpeechResult",
    "Confidence",
    "From",
    "To",
    "Caller",
    "Called",
    "CallStatus",
    "QueueResult",
    "QueueTime",
    "QueueSid",
    "DialCallStatus",
    "DialCallSid",
    "DialCallDuration",
    "AnsweredBy",
    "ErrorCode",
    "ErrorUrl",
    "FinishedOnKey",
    "Body",
)


def _twilio_routes(app) -> list[str]:
    """Every route that wears the Twilio signature guard (POST under /voice, /callbacks and /sms)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and rule.rule.startswith(("/voice", "/callbacks", "/sms"))
        and "<" not in rule.rule
    )


def test_the_twilio_routes_are_all_covered(app):
    routes = _twilio_routes(app)
    assert {"/voice/step", "/voice/queue/wait", "/voice/callback/slot", "/sms/inbound"} <= set(routes)
    assert len(routes) >= 20


@pytest.mark.parametrize("field", TWILIO_FIELDS)
def test_every_twilio_route_answers_oversized_and_control_characters_in_every_field(
    council, twilio_post, db, app, field
):
    # A call that is in the menu and in the queue, so the routes reach their real work, not an early return.
    _at_main_menu(twilio_post)
    twilio_post("/voice/queue/wait?topic=council_tax&language=en-GB", call_form(SID, QueueTime="0"))
    for route in _twilio_routes(app):
        form = {**call_form(SID, MessageSid="SM" + "b" * 32, QueueTime="30"), field: OVERSIZED}
        response = twilio_post(f"{route}?turn=1&entry=1&attempt=1&topic=council_tax&language=en-GB", form)
        assert response.status_code == 200, f"{route} with an oversized {field}: {response.status_code}"
        body = response.get_data(as_text=True)
        assert body.startswith("<?xml"), f"{route}: {body[:200]}"
    assert db.scalar(select(QueueEntry.id).limit(1)) is not None


@pytest.mark.parametrize("sid", ["", "CA" + "z" * 32, "CA" + "1" * 500, "CA123\x00"])
def test_a_malformed_call_sid_gets_the_safe_answer_not_a_500_and_stores_nothing(
    council, twilio_post, db, sid
):
    for route in ("/voice/incoming", "/voice/step?turn=0", "/voice/queue/wait?topic=general&language=en-GB"):
        response = twilio_post(route, call_form(sid))
        assert response.status_code == 200, route
        assert "sorry, something went wrong" in spoken_text(parse_twiml(response.data)).lower(), route
    assert db.scalars(select(Call)).all() == []
