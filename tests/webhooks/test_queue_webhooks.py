"""The queue's webhooks one request at a time: joining, retries, a flushed Redis, hang-ups, failed offers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Adviser, AdviserState, Call, CallOutcome, QueueEntry, QueueEntryStatus
from models.demo import seed_demo
from routing.live import BUILT_MARKER_KEY, adviser_key, adviser_profile, ready_store
from routing.matching import match_now
from runtime.web import EXTENSION_KEY
from tests.conftest import call_form
from tests.twiml import parse_twiml, spoken_text, verbs

SID = "CA" + "7" * 32
MOBILE = "+447400123456"
WAIT = "/voice/queue/wait?topic=council_tax&language=en-GB&priority=2&reason=vulnerable+flag"


@pytest.fixture
def council(app, db, clock):
    seed_demo(db, clock.now())
    db.commit()
    return app.extensions[EXTENSION_KEY]


def make_available(services, db, name, now):
    adviser = db.scalars(select(Adviser).where(Adviser.name == name)).one()
    adviser.state, adviser.state_since = AdviserState.AVAILABLE, now
    db.commit()
    store = ready_store(services, db)
    store.register_adviser(adviser_profile(adviser), now)
    store.set_adviser_state(adviser_key(adviser.id), "available", now, "logged in")
    return adviser


def entries(db):
    db.expire_all()
    return list(db.scalars(select(QueueEntry).order_by(QueueEntry.id)))


def test_the_first_hold_round_queues_the_caller_once_with_priority_and_reasons(council, twilio_post, db):
    first = twilio_post(WAIT, call_form(SID, From=MOBILE, QueueTime="0"))
    again = twilio_post(WAIT, call_form(SID, From=MOBILE, QueueTime="30"))
    assert first.status_code == again.status_code == 200
    [entry] = entries(db)
    assert entry.status == QueueEntryStatus.WAITING
    assert (entry.priority, entry.priority_reasons) == (2, ["vulnerable flag"])
    text = spoken_text(parse_twiml(again.data))
    assert "no advisers for this are working right now" in text.lower()
    assert "press 1" in text.lower()
    store = ready_store(council, db)
    assert store.position_of(SID) == 1


def test_a_flushed_redis_is_rebuilt_from_the_database_and_nobody_loses_their_place(
    council, twilio_post, db, clock
):
    for index, sid in enumerate((SID, "CA" + "8" * 32)):
        twilio_post(WAIT, call_form(sid, From=f"+4474001234{index:02d}"))
    tom = make_available(council, db, "Tom Hirst", clock.now())
    council.redis.flushdb()
    assert not council.redis.exists(BUILT_MARKER_KEY)
    response = twilio_post(WAIT, call_form("CA" + "8" * 32, From="+447400123401", QueueTime="30"))
    assert "you are number 2 in the queue" in spoken_text(parse_twiml(response.data)).lower()
    store = ready_store(council, db)
    assert store.position_of(SID) == 1
    snapshot = store.snapshot()
    assert {s.profile.adviser_id: s.state for s in snapshot.advisers}[adviser_key(tom.id)] == "available"


def test_hanging_up_while_waiting_abandons_the_call_and_frees_the_place(council, twilio_post, db):
    twilio_post(WAIT, call_form(SID, From=MOBILE))
    twilio_post("/voice/queue/result", call_form(SID, QueueResult="hangup", QueueTime="40"))
    twilio_post("/voice/queue/result", call_form(SID, QueueResult="hangup", QueueTime="40"))  # a retry
    [entry] = entries(db)
    assert entry.status == QueueEntryStatus.ABANDONED
    assert db.scalars(select(Call)).one().outcome == CallOutcome.ABANDONED
    assert ready_store(council, db).position_of(SID) is None


def test_an_offer_twilio_cannot_start_is_undone_and_the_caller_keeps_their_place(
    council, twilio_post, db, clock
):
    # The app's Twilio base URL points at a closed port here, so dequeuing fails like an outage would.
    twilio_post(WAIT, call_form(SID, From=MOBILE))
    tom = make_available(council, db, "Tom Hirst", clock.now())
    assert match_now(council) == 1
    [entry] = entries(db)
    assert entry.status == QueueEntryStatus.WAITING and entry.adviser_id is None
    db.refresh(tom)
    assert tom.state == AdviserState.AVAILABLE
    store = ready_store(council, db)
    assert store.position_of(SID) == 1


def test_a_retried_acceptance_still_connects_and_a_stale_whisper_hangs_up(council, twilio_post, db, clock):
    twilio_post(WAIT, call_form(SID, From=MOBILE))
    tom = make_available(council, db, "Tom Hirst", clock.now())
    [entry] = entries(db)
    entry.status, entry.adviser_id = QueueEntryStatus.OFFERED, tom.id
    db.commit()
    accept = f"/voice/queue/accept?entry={entry.id}"
    leg = call_form("CA" + "9" * 32, Digits="1")
    assert verbs(parse_twiml(twilio_post(accept, leg).data)) == []
    assert verbs(parse_twiml(twilio_post(accept, leg).data)) == []
    assert entries(db)[0].status == QueueEntryStatus.CONNECTED
    whisper = twilio_post(f"/voice/queue/whisper?entry={entry.id}", leg)
    assert "Hangup" in verbs(parse_twiml(whisper.data))


@pytest.mark.parametrize(
    "path",
    [
        WAIT,
        "/voice/queue/key",
        "/voice/queue/callback/number",
        "/voice/queue/callback/keyed",
        "/voice/queue/result",
        "/voice/queue/connect?entry=1",
        "/voice/queue/whisper?entry=1",
        "/voice/queue/accept?entry=1",
        "/voice/queue/dial-result?entry=1",
        "/voice/queue/callback/adviser?entry=1",
        "/voice/queue/callback/dial?entry=1",
        "/voice/queue/callback/dial-result?entry=1",
        "/voice/queue/callback/adviser-status?entry=1",
    ],
)
def test_unsigned_queue_webhooks_are_refused(council, twilio_post, path):
    assert twilio_post(path, call_form(SID), signed=False).status_code == 403


KEY = "/voice/queue/key?topic=council_tax"


def keep_my_place(twilio_post, caller=MOBILE):
    """Hold, press 1 for a callback, and press 1 again to confirm the caller ID; returns the last reply."""
    twilio_post(WAIT, call_form(SID, From=caller))
    offer = parse_twiml(twilio_post(KEY, call_form(SID, From=caller, Digits="1")).data)
    [gather] = offer.iter("Gather")
    return twilio_post(gather.get("action"), call_form(SID, From=caller, Digits="1"))


def test_pressing_1_reads_back_the_caller_id_and_books_nothing_until_it_is_confirmed(
    council, twilio_post, db
):
    from models import Callback

    twilio_post(WAIT, call_form(SID, From=MOBILE))
    offer = parse_twiml(twilio_post(KEY, call_form(SID, From=MOBILE, Digits="1")).data)

    assert "number ending 4 5 6. Press 1 for that number, or 2 to give another" in spoken_text(offer)
    assert "Leave" not in verbs(offer)  # still holding in Twilio's queue while they answer
    assert db.scalars(select(Callback)).all() == []
    assert entries(db)[0].status == QueueEntryStatus.WAITING


def test_confirming_twice_by_retry_books_one_callback_and_answers_the_same(council, twilio_post, db):
    from models import Callback

    twilio_post(WAIT, call_form(SID, From=MOBILE))
    [gather] = parse_twiml(twilio_post(KEY, call_form(SID, From=MOBILE, Digits="1")).data).iter("Gather")
    first = twilio_post(gather.get("action"), call_form(SID, From=MOBILE, Digits="1"))
    retry = twilio_post(gather.get("action"), call_form(SID, From=MOBILE, Digits="1"))

    assert "Leave" in verbs(parse_twiml(first.data))
    assert "ending 4 5 6" in spoken_text(parse_twiml(first.data))
    assert retry.data == first.data
    assert len(db.scalars(select(Callback)).all()) == 1
    left, virtual = entries(db)
    assert left.status == QueueEntryStatus.LEFT_FOR_CALLBACK and virtual.callback_id is not None
    assert ready_store(council, db).position_of(f"callback-{virtual.callback_id}") == 1


def test_keeping_a_place_when_a_callback_is_already_booked_updates_that_one_and_says_so(
    council, twilio_post, db, clock
):
    from datetime import timedelta

    from callbacks.service import request_callback
    from models import Callback, CallbackStatus, Topic

    slot = (clock.now() + timedelta(days=1), clock.now() + timedelta(days=1, hours=1))
    booked = request_callback(
        db, MOBILE, Topic.COUNCIL_TAX, clock.now(), slot=slot, status=CallbackStatus.SCHEDULED
    )
    db.commit()
    clock.advance(timedelta(minutes=5))

    kept = parse_twiml(keep_my_place(twilio_post).data)

    assert "You already had a callback with us, so we've changed it to this one" in spoken_text(kept)
    db.expire_all()
    [callback] = db.scalars(select(Callback)).all()
    assert callback.id == booked.callback.id and callback.keeps_place and callback.slot_starts_at is None


def test_four_racing_copies_of_the_confirmation_keep_one_place_once(council, app, twilio_post, db, request):
    import threading

    from models import Callback
    from tests.conftest import twilio_signature

    twilio_post(WAIT, call_form(SID, From=MOBILE))
    [gather] = parse_twiml(twilio_post(KEY, call_form(SID, From=MOBILE, Digits="1")).data).iter("Gather")
    form = call_form(SID, From=MOBILE, Digits="1")
    signature = twilio_signature("http://localhost" + gather.get("action"), form)
    start, replies = threading.Barrier(4), []

    def confirm() -> None:
        client = app.test_client()
        start.wait()
        replies.append(
            client.post(gather.get("action"), data=form, headers={"X-Twilio-Signature": signature})
        )

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [reply.status_code for reply in replies] == [200] * 4
    kept = [reply.data for reply in replies if "You keep your place" in spoken_text(parse_twiml(reply.data))]
    if db.get_bind().dialect.name == "postgresql":
        assert (
            len(kept) == 4 and len(set(kept)) == 1
        )  # the losers waited on the row lock, then answered alike
    else:
        assert (
            kept
        )  # SQLite has no row locks: a loser hits the unique index and hears the safe apology instead
        request.applymarker(pytest.mark.webhook_errors_expected)
    assert len(db.scalars(select(Callback)).all()) == 1
    assert [entry.status for entry in entries(db)] == [
        QueueEntryStatus.LEFT_FOR_CALLBACK,
        QueueEntryStatus.WAITING,
    ]


def test_a_withheld_caller_keys_a_number_which_is_read_back_and_keeps_their_place(council, twilio_post, db):
    from models import Callback

    twilio_post(WAIT, call_form(SID, From="anonymous"))
    ask = parse_twiml(twilio_post(KEY, call_form(SID, From="anonymous", Digits="1")).data)
    assert "We can't see your phone number" in spoken_text(ask)
    [keypad] = ask.iter("Gather")
    assert keypad.get("finishOnKey") == "#"

    premium = parse_twiml(
        twilio_post(keypad.get("action"), call_form(SID, From="anonymous", Digits="09098790000")).data
    )
    assert "That number is a premium rate number" in spoken_text(premium)
    [keypad] = premium.iter("Gather")
    read_back = parse_twiml(
        twilio_post(keypad.get("action"), call_form(SID, From="anonymous", Digits="07400123456")).data
    )
    assert "You keyed 0 7 4 0 0, 1 2 3 4 5 6" in spoken_text(read_back)
    assert db.scalars(select(Callback)).all() == []  # not until they say it's right

    [confirm] = read_back.iter("Gather")
    kept = parse_twiml(twilio_post(confirm.get("action"), call_form(SID, From="anonymous", Digits="1")).data)
    assert "Leave" in verbs(kept) and "ending 4 5 6" in spoken_text(kept)
    assert db.scalars(select(Callback)).one().number == "+447400123456"
    assert entries(db)[0].status == QueueEntryStatus.LEFT_FOR_CALLBACK


def test_pressing_2_gives_another_number_and_silence_goes_back_to_holding(council, twilio_post, db):
    twilio_post(WAIT, call_form(SID, From=MOBILE))
    [confirm] = parse_twiml(twilio_post(KEY, call_form(SID, From=MOBILE, Digits="1")).data).iter("Gather")
    reply = parse_twiml(twilio_post(confirm.get("action"), call_form(SID, From=MOBILE, Digits="2")).data)
    assert "Please key the phone number we should call" in spoken_text(reply)
    # Silence falls through the Gather to "thank you for holding", and the wait music carries on.
    assert verbs(reply) == ["Gather", "Say"] and spoken_text(reply).endswith("Thank you for holding.")

    for _ in range(3):  # only the hash key, three times
        [keypad] = reply.iter("Gather")
        reply = parse_twiml(twilio_post(keypad.get("action"), call_form(SID, From=MOBILE, Digits="")).data)
    assert verbs(reply) == ["Say"] and spoken_text(reply) == "Thank you for holding."
    assert entries(db)[0].status == QueueEntryStatus.WAITING  # still in their place


def test_a_polish_caller_agrees_the_number_in_polish(council, twilio_post, db):
    polish = "/voice/queue/wait?topic=council_tax&language=pl-PL"
    twilio_post(polish, call_form(SID, From="anonymous"))
    db.scalars(select(Call)).one().language = "pl-PL"
    db.commit()
    ask = parse_twiml(twilio_post(KEY, call_form(SID, From="anonymous", Digits="1")).data)
    assert "Nie widzimy numeru telefonu" in spoken_text(ask)
    assert {say.get("language") for say in ask.iter("Say")} == {"pl-PL"}


def _offer_to(db, entry, adviser, when):
    entry.status, entry.adviser_id, entry.offered_at = QueueEntryStatus.OFFERED, adviser.id, when
    adviser.state = AdviserState.ON_CALL
    db.commit()


def test_a_caller_hanging_up_while_their_adviser_rings_frees_the_adviser_without_a_pause(
    council, twilio_post, db, clock
):
    twilio_post(WAIT, call_form(SID, From=MOBILE))
    tom = make_available(council, db, "Tom Hirst", clock.now())
    [entry] = entries(db)
    _offer_to(db, entry, tom, clock.now())
    response = twilio_post("/voice/status", call_form(SID, CallStatus="completed"))
    assert response.status_code == 200
    [entry] = entries(db)
    assert entry.status == QueueEntryStatus.ABANDONED
    db.refresh(tom)
    assert tom.state == AdviserState.AVAILABLE and tom.state_reason == "caller hung up"
    assert db.scalars(select(Call)).one().outcome == CallOutcome.ABANDONED


def test_an_offer_whose_webhooks_never_came_is_reaped_and_the_caller_keeps_their_place(
    council, twilio_post, db, clock
):
    from routing.matching import reap_stale_offers

    twilio_post(WAIT, call_form(SID, From=MOBILE))
    tom = make_available(council, db, "Tom Hirst", clock.now())
    [entry] = entries(db)
    _offer_to(db, entry, tom, clock.now())
    assert reap_stale_offers(council) == 0  # still ringing
    clock.advance(council.settings.adviser_ring_seconds + 120)
    assert reap_stale_offers(council) == 1
    [entry] = entries(db)
    assert entry.status == QueueEntryStatus.WAITING
    db.refresh(tom)
    assert tom.state == AdviserState.AVAILABLE


def test_a_keep_your_place_callback_cancelled_by_text_leaves_the_queue_when_it_reaches_the_front(
    council, twilio_post, db, clock
):
    from models import Callback, CallbackStatus

    keep_my_place(twilio_post)
    callback = db.scalars(select(Callback)).one()
    callback.status = CallbackStatus.CANCELLED
    db.commit()
    tom = make_available(council, db, "Tom Hirst", clock.now())
    assert match_now(council) == 0
    _left, virtual = entries(db)
    assert virtual.status == QueueEntryStatus.FAILED
    db.refresh(tom)
    assert tom.state == AdviserState.AVAILABLE
