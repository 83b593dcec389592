"""Whole calls through the simulator: the menu as a resident meets it, over real HTTP, on the real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ivr import versions
from models import Call, CallEvent, FlowVersion
from models.demo import seed_demo

COUNCIL = "+441484221000"
RESIDENT = "+447700900123"


@pytest.fixture
def line(live_service):
    """The council's line with demo data and the shipped flow published."""
    services = live_service.services
    with services.session_factory.begin() as session:
        seed_demo(session, live_service.clock.now())
        versions.install_default_flow(session, live_service.clock.now())
    return live_service


def dial(line, from_=RESIDENT):
    return line.world.place_call(to=COUNCIL, url=f"{line.base_url}/voice/incoming", from_=from_)


def heard(call) -> str:
    return " ".join(call.heard).lower()


def stored_call(line, call):
    with line.services.session_factory() as session:
        return session.scalars(select(Call).where(Call.call_sid == call.sid)).one()


def test_council_tax_by_keypad_reaches_the_council_tax_queue_with_the_reference(line):
    call = dial(line)
    assert "welcome to kirklees council" in heard(call)
    call.press("1")  # English
    call.press("1")  # council tax
    assert "council tax" in heard(call)
    call.press("1")  # first option of the council tax menu
    call.press("12345678")
    assert "1 2 3 4 5 6 7 8" in heard(call)
    call.press("1")  # that's right
    assert call.in_queue
    record = stored_call(line, call)
    assert record.topic.value == "council_tax"
    assert record.reference == "12345678"
    assert record.language == "en-GB"


def test_housing_benefit_by_speech(line):
    call = dial(line)
    call.speak("English")
    call.speak("housing benefit")
    assert "housing benefit" in call.heard[-1].lower()
    with line.services.session_factory() as session:
        record = session.scalars(select(Call).where(Call.call_sid == call.sid)).one()
        main_menu = session.scalars(
            select(CallEvent).where(CallEvent.call_id == record.id, CallEvent.node == "main_menu")
        ).all()
    assert [(e.outcome, e.caller_input) for e in main_menu][-1] == ("matched", "speech:housing benefit")


def test_polish_caller_hears_polish_prompts_with_a_polish_voice(line):
    call = dial(line)
    call.press("2")
    says = call.events("heard")
    assert says[-1].language == "pl-PL" and says[-1].voice.startswith("Polly.")
    assert "podatku" in says[-1].text.lower() or "podatku" in " ".join(e.text for e in says[-3:]).lower()
    assert stored_call(line, call).language == "pl-PL"


def test_silent_caller_is_never_cut_off_and_reaches_a_person(line):
    call = dial(line)
    for _ in range(8):
        if call.ended or call.in_queue:
            break
        call.stay_silent()
    assert call.in_queue, f"a silent caller must end up with an adviser; heard: {call.heard}"
    assert "didn't hear" in heard(call)


def test_every_step_is_recorded_as_a_journey_event(line):
    call = dial(line)
    call.press("1")
    call.press("7")  # not an option
    with line.services.session_factory() as session:
        record = session.scalars(select(Call).where(Call.call_sid == call.sid)).one()
        events = session.scalars(select(CallEvent).where(CallEvent.call_id == record.id)).all()
    outcomes = [(e.node, e.outcome) for e in events]
    assert ("main_menu", "invalid") in outcomes
    assert all(e.duration_ms is not None for e in events)


def test_a_draft_flow_does_not_reach_live_callers_until_published_and_calls_keep_their_version(line):
    services = line.services
    with services.session_factory.begin() as session:
        live = versions.get_version(session, versions.MAIN_FLOW_NAME)
        changed = dict(live.definition)
        nodes = dict(changed["nodes"])
        welcome = dict(nodes["welcome"])
        welcome["text"] = dict(welcome["text"], **{"en-GB": "Hello from the new Kirklees menu."})
        nodes["welcome"] = welcome
        changed["nodes"] = nodes
        draft = versions.save_draft(session, versions.MAIN_FLOW_NAME, changed, "supervisor", line.clock.now())
        draft_number, live_number = draft.number, live.number

    before = dial(line)
    assert "welcome to kirklees council" in heard(before)
    assert "new kirklees menu" not in heard(before)

    with services.session_factory.begin() as session:
        versions.publish(session, versions.MAIN_FLOW_NAME, draft_number, line.clock.now())
    after = dial(line, from_="+447700900124")
    assert "new kirklees menu" in heard(after)
    # The call that started on the old version still runs it after the publish.
    before.press("1")
    assert stored_call(line, before).flow_version_id != stored_call(line, after).flow_version_id

    with services.session_factory.begin() as session:
        versions.publish(session, versions.MAIN_FLOW_NAME, live_number, line.clock.now())  # rollback
    rolled_back = dial(line, from_="+447700900125")
    assert "welcome to kirklees council" in heard(rolled_back)
    with services.session_factory() as session:
        published = session.scalars(select(FlowVersion).where(FlowVersion.status == "published")).all()
    assert [v.number for v in published] == [live_number]


def test_closed_on_christmas_day_a_mobile_caller_is_offered_a_callback(line):
    line.clock.set(datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    call = dial(line)
    call.press("1")
    call.press("1")
    call.press("1")
    call.press("12345678")
    call.press("1")
    assert not call.in_queue
    text = heard(call)
    assert "closed" in text or "call you back" in text


@pytest.mark.parametrize(
    "rambling",
    [
        ("My council tax bill is wrong and I can't pay it this month " * 20)[:1000],
        ("Nie rozumiem tego listu w sprawie podatku, proszę o pomoc, żona jest chora " * 15)[:1000],
        ("مجھے اپنے ہاؤسنگ بینیفٹ کے بارے میں مدد چاہیے، خط سمجھ نہیں آیا " * 20)[:1000],
        ("ਮੈਨੂੰ ਹਾਊਸਿੰਗ ਬੈਨੀਫਿਟ ਬਾਰੇ ਮਦਦ ਚਾਹੀਦੀ ਹੈ ਚਿੱਠੀ ਸਮਝ ਨਹੀਂ ਆਈ " * 20)[:1000],
    ],
    ids=["english", "polish", "urdu", "punjabi"],
)
def test_a_thousand_characters_of_speech_is_asked_again_and_the_caller_still_gets_through(line, rambling):
    call = dial(line)
    call.press("1")  # English
    call.speak(rambling)  # at the main menu
    call.press("1")  # council tax
    call.press("1")  # to pay
    call.speak(rambling)  # at the account number
    assert heard(call).count("sorry, i didn't catch that") == 2
    assert "something went wrong" not in heard(call)
    call.press("12345678")
    call.press("1")  # that's right
    assert call.in_queue
    journey = [(event.node, event.outcome) for event in stored_events(line, call)]
    assert ("main_menu", "invalid") in journey and ("ct_reference", "invalid") in journey


def stored_events(line, call):
    with line.services.session_factory() as session:
        stored = session.scalars(select(Call).where(Call.call_sid == call.sid)).one()
        return session.scalars(
            select(CallEvent).where(CallEvent.call_id == stored.id).order_by(CallEvent.id)
        ).all()
