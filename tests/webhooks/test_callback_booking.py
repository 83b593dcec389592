"""The callback booking dialogue's webhooks: signed posts, TwiML read verb by verb, the database checked after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from callbacks.service import request_callback
from ivr import versions
from ivr.hours import DAYS
from models import Adviser, AdviserShift, Call, Callback, CallbackStatus, CallEvent, CallOutcome, Topic
from models.demo import seed_demo
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text, verbs

SID = "CA" + "7" * 32
MOBILE = "+447911123456"
START = "/voice/callback/start?topic=council_tax&language=en-GB"
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # nobody logs in to these tests


@pytest.fixture
def council(app, db, clock):
    seed_demo(db, clock.now(), password_hasher=CHEAP_HASHER)
    versions.install_default_flow(db, clock.now())
    db.commit()


def gather_action(root) -> str:
    gathers = list(root.iter("Gather"))
    assert gathers, f"expected a question, got {verbs(root)}"
    return gathers[0].get("action")


class Dialogue:
    """Answer each question the dialogue asks, the way Twilio posts the caller's keys."""

    def __init__(self, twilio_post, sid=SID, from_=MOBILE):
        self.post, self.form = twilio_post, call_form(sid, From=from_)
        self.root = None
        self.last_path = ""

    def start(self, path=START):
        return self._post(path)

    def press(self, digits):
        return self._post(gather_action(self.root), Digits=digits)

    def silence(self):
        return self._post(gather_action(self.root))

    def replay(self, **fields):
        return self._post(self.last_path, **fields)

    def _post(self, path, **fields):
        response = self.post(path, {**self.form, **fields})
        assert response.status_code == 200
        self.last_path, self.root = path, parse_twiml(response.data)
        return self.root

    @property
    def said(self):
        return spoken_text(self.root)


def callbacks(db):
    db.expire_all()
    return db.scalars(select(Callback)).all()


def stored_call(db):
    db.expire_all()
    return db.scalars(select(Call).where(Call.call_sid == SID)).one()


def test_the_menu_hands_a_callback_offer_to_the_dialogue_with_topic_and_language(
    council, twilio_post, clock, db
):
    clock.set(datetime(2026, 11, 25, 22, 0, tzinfo=UTC))  # closed
    landline = call_form(SID, From="+441484123456")
    twilio_post("/voice/incoming", landline)
    twilio_post("/voice/step?turn=0", {**landline, "Digits": "1"})  # English
    reply = parse_twiml(twilio_post("/voice/step?turn=1", {**landline, "Digits": "0"}).data)  # an adviser
    assert "closed" in spoken_text(reply).lower()
    assert verbs(reply)[-1] == "Redirect"
    assert reply.find("Redirect").text == "/voice/callback/start?topic=general&language=en-GB"
    assert callbacks(db) == [], "nothing is booked until the caller has chosen"


def test_a_caller_picks_their_own_number_and_a_slot_and_is_booked(council, twilio_post, db):
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    assert (
        "We'll call you on the number ending 4 5 6. Press 1 for that number, or 2 to give another."
        in dialogue.said
    )
    dialogue.press("1")
    assert "Press 1 for a call today between 11 am and 12 noon." in dialogue.said
    assert "Press 2 for a call today between 12 and 1 pm." in dialogue.said
    assert "Press 4 for a call as soon as an adviser is free." in dialogue.said
    assert "press 0 to talk to an adviser now" in dialogue.said
    reply = dialogue.press("2")
    assert verbs(reply) == ["Say", "Hangup"]
    assert (
        "Your callback is booked: we'll call you today between 12 and 1 pm, on the number ending 4 5 6."
        in (dialogue.said)
    )
    [callback] = callbacks(db)
    assert callback.number == MOBILE and callback.topic == Topic.COUNCIL_TAX
    assert callback.status == CallbackStatus.SCHEDULED
    assert callback.slot_starts_at == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert callback.next_attempt_at == callback.slot_starts_at
    assert callback.library_id is not None and callback.call_id == stored_call(db).id
    assert stored_call(db).outcome == CallOutcome.CALLBACK_BOOKED


def test_every_step_is_a_journey_event_and_a_replayed_booking_books_and_records_nothing_twice(
    council, twilio_post, db
):
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    dialogue.press("1")
    events = db.scalar(select(func.count()).select_from(CallEvent))
    first = dialogue.said
    dialogue.replay(Digits="1")  # Twilio retries the last webhook
    assert dialogue.said == first, "the retry hears 'booked' again, not 'updated'"
    assert db.scalar(select(func.count()).select_from(CallEvent)) == events
    assert len(callbacks(db)) == 1
    nodes = [e.node for e in db.scalars(select(CallEvent).order_by(CallEvent.id))]
    assert nodes == [
        "callback_offer",
        "callback_number",
        "callback_confirm",
        "callback_slots",
        "callback_slot",
        "callback_booked",
    ]


def test_a_second_request_for_the_same_number_and_topic_updates_the_first_and_says_so(
    council, twilio_post, db, clock
):
    with db.begin():
        request_callback(db, MOBILE, Topic.COUNCIL_TAX, clock.now())
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    dialogue.press("3")
    assert "we've updated your existing callback: we'll call you today between 1 and 2 pm" in dialogue.said
    [callback] = callbacks(db)
    assert callback.slot_starts_at == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    assert callback.status == CallbackStatus.SCHEDULED


def test_a_withheld_caller_must_key_a_number_which_is_read_back(council, twilio_post, db):
    dialogue = Dialogue(twilio_post, from_="anonymous")
    dialogue.start()
    assert "We can't see your phone number." in dialogue.said
    gather = dialogue.root.find("Gather")
    assert gather.get("finishOnKey") == "#" and gather.get("actionOnEmptyResult") == "true"
    dialogue.press("07911123456")
    assert "You keyed 0 7 9 1 1, 1 2 3 4 5 6. Press 1 if that's right, or 2 to key it again." in dialogue.said
    dialogue.press("1")
    dialogue.press("4")
    assert "we'll call you as soon as an adviser is free, on the number ending 4 5 6" in dialogue.said
    [callback] = callbacks(db)
    assert callback.number == MOBILE and callback.slot_starts_at is None
    assert callback.next_attempt_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # open now: straight away


@pytest.mark.parametrize(
    ("keyed", "reason"),
    [
        (
            "09098790000",
            "That number is a premium rate number. We can only call UK mobile and landline numbers.",
        ),
        ("0033612345678", "That number is not a UK number."),
        ("07700900", "Sorry, that isn't a phone number we recognise."),
    ],
)
def test_a_refused_number_is_explained_and_the_caller_may_try_again(council, twilio_post, keyed, reason):
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("2")  # another number
    dialogue.press(keyed)
    assert reason in dialogue.said
    assert "Please key the phone number we should call" in dialogue.said
    dialogue.press("01484221000")
    assert "You keyed 0 1 4 8 4, 2 2 1 0 0 0." in dialogue.said


def test_a_caller_id_we_cannot_ring_is_explained_before_asking_for_another(council, twilio_post):
    dialogue = Dialogue(twilio_post, from_="+33612345678")
    dialogue.start()
    assert (
        "We can't call back the number you're calling from. That number is not a UK number." in dialogue.said
    )
    assert "Please key the phone number" in dialogue.said


def test_three_refused_numbers_put_the_caller_through_to_an_adviser_not_round_again(council, twilio_post, db):
    dialogue = Dialogue(twilio_post, from_="anonymous")
    dialogue.start()
    dialogue.press("09098790000")
    dialogue.silence()
    reply = dialogue.press("123")
    assert verbs(reply)[-1] == "Enqueue"
    assert "Let me put you through to an adviser." in dialogue.said
    assert "/voice/queue/wait" in reply.find("Enqueue").get("waitUrl")
    assert callbacks(db) == []


def test_silence_at_the_slot_question_ends_in_an_as_soon_as_possible_callback(council, twilio_post, db):
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    dialogue.silence()
    assert "Sorry, I didn't catch that." in dialogue.said and "Press 1 for a call" in dialogue.said
    dialogue.press("9")
    reply = dialogue.silence()
    assert verbs(reply) == ["Say", "Say", "Hangup"]
    assert "as soon as an adviser is free" in dialogue.said
    assert callbacks(db)[0].slot_starts_at is None


def test_zero_at_any_question_reaches_an_adviser(council, twilio_post):
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    reply = dialogue.press("0")
    assert verbs(reply)[-1] == "Enqueue" and reply.find("Enqueue").text == "council_tax"


def test_a_slot_taken_while_the_caller_chose_is_not_double_booked(council, twilio_post, db, clock):
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    offered = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    with db.begin():  # everyone able to take council tax at 11 is booked by other residents meanwhile
        for index in range(40):
            request_callback(
                db,
                f"+4479111230{index:02d}",
                Topic.COUNCIL_TAX,
                clock.now(),
                slot=(offered, offered.replace(hour=12)),
            )
    dialogue.press("1")
    assert "Sorry, that time has just been taken." in dialogue.said
    assert "today between 11 am and 12 noon" not in dialogue.said
    assert all(c.number != MOBILE for c in callbacks(db))


def test_when_closed_as_soon_as_possible_means_when_we_open(council, twilio_post, db, clock):
    clock.set(datetime(2026, 11, 25, 22, 0, tzinfo=UTC))
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    assert "Press 1 for a call tomorrow, Thursday, between 9 and 10 am." in dialogue.said
    dialogue.press("4")
    assert "we'll call you as soon as we open" in dialogue.said
    assert callbacks(db)[0].next_attempt_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_the_callers_number_never_travels_in_a_url(council, twilio_post):
    dialogue = Dialogue(twilio_post, from_="anonymous")
    urls = []
    for step in (dialogue.start, lambda: dialogue.press("07911123456"), lambda: dialogue.press("1")):
        step()
        urls.append(gather_action(dialogue.root))
    assert not any("7911" in url for url in urls), urls


def test_an_unsigned_post_is_refused(council, twilio_post):
    assert twilio_post(START, call_form(SID), signed=False).status_code == 403


def test_a_booked_slot_is_handed_to_the_dialler_to_ring_at_the_slot_start(council, twilio_post, db, app):
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    dialogue.press("1")
    [callback] = callbacks(db)
    queue = app.extensions["contact_centre"].queue
    registry = queue.scheduled_job_registry
    scheduled = [queue.fetch_job(job_id) for job_id in registry.get_job_ids()]
    assert any(job is not None and callback.id in job.args for job in scheduled), (
        "the dial waits in RQ's schedule"
    )


def test_the_demo_rota_puts_every_adviser_at_their_home_hub_inside_its_hours_once(council, db, clock):
    advisers = db.scalars(select(Adviser)).all()
    assert advisers and all(adviser.shifts for adviser in advisers)
    for adviser in advisers:
        hours = adviser.home_library.opening_hours
        for shift in adviser.shifts:
            assert shift.library_id == adviser.home_library_id
            sessions = hours[DAYS[shift.weekday]]
            assert [shift.starts.strftime("%H:%M"), shift.ends.strftime("%H:%M")] in sessions
    shifts = db.scalar(select(func.count()).select_from(AdviserShift))
    assert seed_demo(db, clock.now(), password_hasher=CHEAP_HASHER)["shifts"] == 0
    assert db.scalar(select(func.count()).select_from(AdviserShift)) == shifts


# --- the caller's language ---------------------------------------------------------------------------------------

START_PL = "/voice/callback/start?topic=council_tax&language=pl-PL"


def voices(root) -> set[tuple[str, str]]:
    """Every (language, voice) the reply speaks with, Gathers included."""
    return {(say.get("language"), say.get("voice")) for say in root.iter("Say")}


def test_a_polish_caller_books_a_slot_hearing_polish_in_the_polish_voice_throughout(council, twilio_post, db):
    dialogue = Dialogue(twilio_post)
    heard = [dialogue.start(START_PL)]
    assert (
        "Oddzwonimy na numer kończący się cyframi 4 5 6. Jeśli to ten numer, proszę nacisnąć 1. "
        "Aby podać inny, proszę nacisnąć 2." in dialogue.said
    )
    heard.append(dialogue.press("1"))
    assert "Jeśli mamy zadzwonić dzisiaj między 11 a 12, proszę nacisnąć 1." in dialogue.said
    assert "Jeśli mamy zadzwonić dzisiaj między 12 a 13, proszę nacisnąć 2." in dialogue.said
    assert "Jeśli mamy zadzwonić, gdy tylko konsultant będzie wolny, proszę nacisnąć 4." in dialogue.said
    assert "Aby teraz porozmawiać z konsultantem, proszę nacisnąć 0." in dialogue.said
    heard.append(dialogue.press("2"))
    assert verbs(heard[-1]) == ["Say", "Hangup"]
    assert dialogue.said == (
        "Dziękujemy. Oddzwonienie jest zamówione: zadzwonimy dzisiaj między 12 a 13, "
        "na numer kończący się cyframi 4 5 6. Do widzenia."
    )
    for reply in heard:
        assert voices(reply) == {("pl-PL", "Polly.Ola-Neural")}
        said = spoken_text(reply)
        assert "Press" not in said and " pm" not in said and "noon" not in said, said
    [callback] = callbacks(db)
    assert callback.language == "pl-PL"
    assert callback.slot_starts_at == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_a_polish_caller_who_already_had_a_callback_hears_it_was_updated_in_polish(
    council, twilio_post, db, clock
):
    with db.begin():
        request_callback(db, MOBILE, Topic.COUNCIL_TAX, clock.now())
    dialogue = Dialogue(twilio_post)
    dialogue.start(START_PL)
    dialogue.press("1")
    reply = dialogue.press("4")
    assert dialogue.said == (
        "Oddzwonienie było już u nas zamówione, więc je zaktualizowaliśmy: zadzwonimy od razu, "
        "gdy konsultant będzie wolny, na numer kończący się cyframi 4 5 6. Do widzenia."
    )
    assert voices(reply) == {("pl-PL", "Polly.Ola-Neural")}
    assert len(callbacks(db)) == 1


def test_a_polish_caller_keying_a_premium_number_hears_why_in_polish_and_may_try_again(council, twilio_post):
    dialogue = Dialogue(twilio_post)
    dialogue.start(START_PL)
    dialogue.press("2")  # another number
    assert "Proszę wpisać numer telefonu, na który mamy oddzwonić, zaczynając od 0" in dialogue.said
    assert "krzyżyk" in dialogue.said
    reply = dialogue.press("09098790000")
    assert dialogue.said.startswith(
        "To jest numer o podwyższonej opłacie. "
        "Możemy dzwonić tylko na brytyjskie numery komórkowe i stacjonarne. Proszę wpisać numer telefonu"
    )
    assert "premium" not in dialogue.said
    assert voices(reply) == {("pl-PL", "Polly.Ola-Neural")}
    dialogue.press("07911123456")
    assert "Wpisany numer to 0 7 9 1 1, 1 2 3 4 5 6. Jeśli jest poprawny, proszę nacisnąć 1." in dialogue.said


def test_a_polish_caller_whose_caller_id_is_foreign_hears_why_in_polish(council, twilio_post):
    dialogue = Dialogue(twilio_post, from_="+33612345678")
    dialogue.start(START_PL)
    assert dialogue.said.startswith(
        "Nie możemy oddzwonić na numer, z którego wykonano to połączenie. To nie jest brytyjski numer."
    )


def test_a_polish_caller_who_presses_0_is_told_in_polish_and_queued_as_a_polish_speaker(council, twilio_post):
    dialogue = Dialogue(twilio_post)
    dialogue.start(START_PL)
    reply = dialogue.press("0")
    assert dialogue.said == "Łączymy z konsultantem."
    assert verbs(reply)[-1] == "Enqueue"
    assert "language=pl-PL" in reply.find("Enqueue").get("waitUrl")


def test_a_polish_caller_who_stays_silent_hears_sorry_in_polish(council, twilio_post):
    dialogue = Dialogue(twilio_post)
    dialogue.start(START_PL)
    dialogue.silence()
    assert dialogue.said.startswith("Przepraszam, nie zrozumiałam. Oddzwonimy na numer")


@pytest.mark.parametrize("language", ["ur-PK", "pa-IN"])
def test_callers_in_languages_the_dialogue_has_no_words_for_hear_english_in_the_english_voice(
    council, twilio_post, db, language
):
    dialogue = Dialogue(twilio_post)
    heard = [dialogue.start(f"/voice/callback/start?topic=council_tax&language={language}")]
    assert "We'll call you on the number ending 4 5 6." in dialogue.said
    heard.append(dialogue.press("1"))
    assert "Press 1 for a call today between 11 am and 12 noon." in dialogue.said
    heard.append(dialogue.press("1"))
    assert "we'll call you today between 11 am and 12 noon, on the number ending 4 5 6" in dialogue.said
    for reply in heard:
        assert voices(reply) == {("en-GB", "Polly.Amy-Neural")}
    [callback] = callbacks(db)
    assert callback.language == language, "the booking keeps the caller's language for the adviser"


def test_the_booking_is_confirmed_even_when_the_dialler_cannot_be_told(council, twilio_post, db, monkeypatch):
    def dialler_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("callbacks.views.schedule_callback", dialler_down)
    dialogue = Dialogue(twilio_post)
    dialogue.start()
    dialogue.press("1")
    reply = dialogue.press("1")
    assert verbs(reply) == ["Say", "Hangup"]
    assert "Your callback is booked" in dialogue.said
    assert callbacks(db)[0].status == CallbackStatus.SCHEDULED
