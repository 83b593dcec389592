"""The console: signing in, the JSON API for adviser states and callbacks, and wrap-up after calls.

Real database and Redis. API tests sign in with Flask-Login's own test client (a real session cookie);
the sign-in tests post the real form, CSRF token and all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Adviser,
    AdviserState,
    AdviserStateChange,
    Callback,
    CallbackStatus,
    Library,
    QueueEntry,
    QueueEntryStatus,
    Topic,
    User,
)
from models.demo import DEMO_PASSWORD, seed_demo
from routing.advisers import END_WRAP_UP_JOB, end_overdue_wrap_ups, end_wrap_up_now, finish_call
from routing.engine import WaitingCaller
from routing.live import MATCH_JOB, adviser_key, ready_store
from routing.queueing import record_adviser_state
from routing.store import to_millis
from runtime.clock import ControllableClock
from runtime.services import Services
from runtime.web import EXTENSION_KEY
from tests.staff import CHEAP_HASHER, seed_council, signed_in

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def services(app: Flask) -> Services:
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


@pytest.fixture
def council(app: Flask, db: Session, clock: ControllableClock) -> dict[str, User]:
    """The demo council: libraries, advisers (all offline) and users, keyed by username."""
    return seed_council(db, clock)


def adviser_row(db: Session, adviser_id: int) -> Adviser:
    """The row as committed, read in a session of its own (so `db` stays free for `with db.begin():`)."""
    with Session(db.get_bind()) as session:
        return session.get_one(Adviser, adviser_id)


def store_state(services: Services, adviser_id: int) -> str:
    with services.session_factory() as session:
        store = ready_store(services, session)
    return {s.profile.adviser_id: s.state for s in store.snapshot().advisers}[adviser_key(adviser_id)]


def queued_functions(services: Services) -> list[str]:
    return [job.func_name for job in services.queue.get_jobs()]


def put_on_call(services: Services, db: Session, adviser_id: int, now: datetime) -> None:
    """What routing does when it offers a call: the store, then the database."""
    with db.begin():
        adviser = db.get_one(Adviser, adviser_id)
        store = ready_store(services, db)
        store.set_adviser_state(adviser_key(adviser_id), "on_call", now, "offered")
        record_adviser_state(db, adviser, AdviserState.ON_CALL, now, "offered")


# --- signing in ---------------------------------------------------------------------------------------------


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_api_says_401_in_json_until_signed_in(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.is_json and "Sign in" in response.get_json()["error"]


def test_signing_in_with_the_form_opens_the_api_and_signing_out_closes_it(client, council):
    page = client.get("/console/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    labels = dict(re.findall(r'<label class="govuk-label" for="(\w+)">\s*(.+?)\s*</label>', html))
    assert labels == {"username": "Username", "password": "Password"}
    response = client.post(
        "/console/login?next=/api/me",
        data={"username": "aisha", "password": DEMO_PASSWORD, "csrf_token": csrf_token(html)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/api/me"
    me = client.get("/api/me").get_json()
    assert me["user"]["username"] == "aisha" and me["adviser"]["name"] == "Aisha Khan"
    assert me["adviser"]["state"] == "offline" and me["adviser"]["library"] == "Huddersfield"

    home = client.get("/console/")
    assert "Signed in as Aisha Khan" in home.get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": csrf_token(home.get_data(as_text=True))})
    assert client.get("/api/me").status_code == 401


def test_the_login_form_shows_each_fields_error_and_a_wrong_password_plainly(client, council):
    token = csrf_token(client.get("/console/login").get_data(as_text=True))
    empty = client.post("/console/login", data={"username": "", "password": "", "csrf_token": token})
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    assert 'id="username-error"' in html and "Enter your username." in html
    assert 'aria-describedby="password-error"' in html and "Enter your password." in html

    wrong = client.post("/console/login", data={"username": "aisha", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401
    assert "The username or password is not right." in wrong.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_a_login_post_without_the_csrf_token_is_refused(client, council):
    response = client.post("/console/login", data={"username": "aisha", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401


def test_next_never_leads_to_another_site(client, council):
    token = csrf_token(client.get("/console/login").get_data(as_text=True))
    response = client.post(
        "/console/login?next=//evil.example/steal",
        data={"username": "aisha", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/console/"


# --- adviser states -----------------------------------------------------------------------------------------


def test_an_adviser_going_available_writes_the_database_the_store_and_asks_for_matching(
    app, council, db, services
):
    aisha = council["aisha"]
    response = signed_in(app, aisha).post(
        "/api/advisers/me/state", json={"state": "available", "reason": "back from training"}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["changed"] is True and body["adviser"]["state"] == "available"

    adviser = adviser_row(db, aisha.adviser_id)
    assert adviser.state == AdviserState.AVAILABLE and adviser.state_reason == "back from training"
    with Session(db.get_bind()) as session:
        event = session.scalars(
            select(AdviserStateChange).where(AdviserStateChange.adviser_id == adviser.id)
        ).one()
    assert (event.from_state, event.to_state) == (AdviserState.OFFLINE, AdviserState.AVAILABLE)
    assert event.changed_by_user_id == aisha.id
    assert store_state(services, adviser.id) == "available"
    assert queued_functions(services) == [MATCH_JOB]


def test_choosing_the_state_you_are_in_changes_nothing(app, council, db):
    client = signed_in(app, council["aisha"])
    client.post("/api/advisers/me/state", json={"state": "break"})
    again = client.post("/api/advisers/me/state", json={"state": "break"})
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert len(db.scalars(select(AdviserStateChange)).all()) == 1


def test_state_posts_must_be_json(app, council):
    response = signed_in(app, council["aisha"]).post("/api/advisers/me/state", data={"state": "available"})
    assert response.status_code == 415 and response.is_json


def test_bad_state_requests_get_field_errors(app, council):
    client = signed_in(app, council["aisha"])
    assert client.post("/api/advisers/me/state", json={}).get_json()["errors"].keys() == {"state"}
    unknown = client.post("/api/advisers/me/state", json={"state": "lunch"})
    assert unknown.status_code == 400 and "lunch" in unknown.get_json()["errors"]["state"]
    on_call = client.post("/api/advisers/me/state", json={"state": "on_call"})
    assert on_call.status_code == 400 and "calls start and end" in on_call.get_json()["errors"]["state"]
    reason = client.post("/api/advisers/me/state", json={"state": "break", "reason": 5})
    assert reason.get_json() == {"errors": {"reason": "Must be text."}}
    not_an_object = client.post("/api/advisers/me/state", data="[1]", headers=JSON)
    assert not_an_object.get_json() == {"errors": {"body": "Send a JSON object."}}


def test_advisers_cannot_change_or_list_other_advisers(app, council):
    client = signed_in(app, council["aisha"])
    tom = council["tom"]
    assert (
        client.post(f"/api/advisers/{tom.adviser_id}/state", json={"state": "available"}).status_code == 403
    )
    assert client.get("/api/advisers").status_code == 403
    assert client.get(f"/api/advisers/{tom.adviser_id}/events").status_code == 403


def test_nobody_takes_an_adviser_off_a_call(app, council, db, services, clock):
    aisha = council["aisha"]
    put_on_call(services, db, aisha.adviser_id, clock.now())
    response = signed_in(app, aisha).post("/api/advisers/me/state", json={"state": "break"})
    assert response.status_code == 409 and "on a call" in response.get_json()["errors"]["state"]
    supervisor = signed_in(app, council["supervisor"])
    forced = supervisor.post(
        f"/api/advisers/{aisha.adviser_id}/state", json={"state": "offline", "reason": "end of shift"}
    )
    assert forced.status_code == 409
    assert adviser_row(db, aisha.adviser_id).state == AdviserState.ON_CALL
    assert store_state(services, aisha.adviser_id) == "on_call"


def test_an_offer_routing_has_just_made_in_the_store_wins_over_a_console_change(
    app, council, db, services, clock
):
    aisha = council["aisha"]
    client = signed_in(app, aisha)
    client.post("/api/advisers/me/state", json={"state": "available"})
    # The matcher has reserved her in Redis; its database transaction has not committed yet.
    with services.session_factory() as session:
        ready_store(services, session).set_adviser_state(
            adviser_key(aisha.adviser_id), "on_call", clock.now()
        )
    response = client.post("/api/advisers/me/state", json={"state": "break"})
    assert (
        response.status_code == 409 and "just been offered a call" in response.get_json()["errors"]["state"]
    )
    assert adviser_row(db, aisha.adviser_id).state == AdviserState.AVAILABLE  # rolled back
    assert store_state(services, aisha.adviser_id) == "on_call"


def test_a_supervisor_sets_an_adviser_on_break_with_a_reason_and_sees_it_in_the_history(
    app, council, db, services, clock
):
    aisha, supervisor = council["aisha"], signed_in(app, council["supervisor"])
    url = f"/api/advisers/{aisha.adviser_id}/state"
    signed_in(app, aisha).post("/api/advisers/me/state", json={"state": "available"})
    no_reason = supervisor.post(url, json={"state": "break"})
    assert no_reason.status_code == 400 and no_reason.get_json()["errors"].keys() == {"reason"}
    clock.advance(60)
    assert supervisor.post(url, json={"state": "break", "reason": "fire drill"}).status_code == 200
    assert store_state(services, aisha.adviser_id) == "break"

    events = supervisor.get(f"/api/advisers/{aisha.adviser_id}/events").get_json()["events"]
    assert [(e["from_state"], e["to_state"]) for e in events] == [
        ("available", "break"),
        ("offline", "available"),
    ]
    assert events[0]["reason"] == "fire drill"
    assert events[0]["changed_by"]["display_name"] == "Demo Supervisor"
    assert events[1]["changed_by"]["display_name"] == "Aisha Khan"
    assert (
        supervisor.post("/api/advisers/9999/state", json={"state": "break", "reason": "x"}).status_code == 404
    )


def test_a_supervisor_lists_advisers_filtered_by_library_and_state(app, council):
    signed_in(app, council["aisha"]).post("/api/advisers/me/state", json={"state": "available"})
    supervisor = signed_in(app, council["supervisor"])
    everyone = supervisor.get("/api/advisers").get_json()["advisers"]
    assert len(everyone) == 20 and {"state", "state_since", "library", "skills"} <= everyone[0].keys()
    huddersfield = supervisor.get("/api/advisers?library=Huddersfield").get_json()["advisers"]
    assert sorted(a["name"] for a in huddersfield) == ["Aisha Khan", "Gurpreet Sandhu", "Tom Hirst"]
    available = supervisor.get("/api/advisers?state=available").get_json()["advisers"]
    assert [a["name"] for a in available] == ["Aisha Khan"]
    bad = supervisor.get("/api/advisers?state=asleep&library=Leeds")
    assert bad.status_code == 400 and bad.get_json()["errors"].keys() == {"state", "library"}


# --- the end of a call and wrap-up --------------------------------------------------------------------------


def test_a_finished_call_puts_the_adviser_in_wrap_up_and_the_timer_job_makes_them_available(
    council, db, services, clock
):
    adviser_id = council["aisha"].adviser_id
    put_on_call(services, db, adviser_id, clock.now())
    clock.advance(300)
    ended_at = clock.now()
    with db.begin():
        finish_call(services, db, adviser_id)
        finish_call(services, db, adviser_id)  # a replayed webhook changes nothing twice
    assert adviser_row(db, adviser_id).state == AdviserState.WRAP_UP
    assert store_state(services, adviser_id) == "wrap_up"

    registry = ScheduledJobRegistry(queue=services.queue)
    [job_id] = registry.get_job_ids()
    job = services.queue.fetch_job(job_id)
    assert job.func_name == END_WRAP_UP_JOB and list(job.args) == [adviser_id, to_millis(ended_at)]
    assert registry.get_scheduled_time(job_id) > datetime.now(UTC) + timedelta(seconds=50)

    clock.advance(60)
    assert end_wrap_up_now(services, *job.args) is True
    adviser = adviser_row(db, adviser_id)
    assert adviser.state == AdviserState.AVAILABLE and adviser.state_reason == "wrap-up time over"
    assert store_state(services, adviser_id) == "available"
    assert queued_functions(services) == [MATCH_JOB]
    assert end_wrap_up_now(services, *job.args) is False  # run twice: nothing more happens


def test_a_stale_wrap_up_job_leaves_a_later_wrap_up_alone(council, db, services, clock):
    adviser_id = council["aisha"].adviser_id
    put_on_call(services, db, adviser_id, clock.now())
    with db.begin():
        finish_call(services, db, adviser_id)
    first_since = to_millis(clock.now())
    clock.advance(10)
    with db.begin():  # she chose available early, took another call, and that one ended too
        record_adviser_state(
            db, db.get_one(Adviser, adviser_id), AdviserState.ON_CALL, clock.now(), "offered"
        )
    with db.begin():
        finish_call(services, db, adviser_id)
    assert end_wrap_up_now(services, adviser_id, first_since) is False
    assert adviser_row(db, adviser_id).state == AdviserState.WRAP_UP


def test_no_wrap_up_job_is_scheduled_when_the_transaction_rolls_back(council, db, services, clock):
    adviser_id = council["aisha"].adviser_id
    put_on_call(services, db, adviser_id, clock.now())
    with pytest.raises(RuntimeError), db.begin():
        finish_call(services, db, adviser_id)
        raise RuntimeError("the webhook failed after finish_call")
    assert ScheduledJobRegistry(queue=services.queue).get_job_ids() == []
    assert adviser_row(db, adviser_id).state == AdviserState.ON_CALL
    with db.begin():  # and a later commit on the same session does not run the forgotten job either
        db.get_one(Library, 1).address = "moved"
    assert ScheduledJobRegistry(queue=services.queue).get_job_ids() == []


def test_a_wrap_up_whose_job_was_lost_with_redis_still_ends(app, council, db, services, clock):
    adviser_id = council["aisha"].adviser_id
    put_on_call(services, db, adviser_id, clock.now())
    with db.begin():
        finish_call(services, db, adviser_id)
    services.redis.flushdb()  # the scheduled job and the live store are gone
    clock.advance(30)
    assert end_overdue_wrap_ups(services) == 0  # not yet over
    clock.advance(30)
    listing = signed_in(app, council["supervisor"]).get("/api/advisers?state=available").get_json()
    assert [a["id"] for a in listing["advisers"]] == [adviser_id]
    assert store_state(services, adviser_id) == "available"
    assert end_overdue_wrap_ups(services) == 0


def test_the_adviser_can_end_wrap_up_early(app, council, db, services, clock):
    aisha = council["aisha"]
    put_on_call(services, db, aisha.adviser_id, clock.now())
    with db.begin():
        finish_call(services, db, aisha.adviser_id)
    me = signed_in(app, aisha).get("/api/me").get_json()["adviser"]
    assert (
        me["state"] == "wrap_up"
        and me["wrap_up_ends_at"] == (clock.now() + timedelta(seconds=60)).isoformat()
    )
    assert (
        signed_in(app, aisha).post("/api/advisers/me/state", json={"state": "available"}).status_code == 200
    )
    assert store_state(services, aisha.adviser_id) == "available"


# --- callbacks ----------------------------------------------------------------------------------------------


def add_callback(
    db: Session,
    now: datetime,
    number: str,
    library: str,
    adviser_id: int | None = None,
    topic: Topic = Topic.COUNCIL_TAX,
    status: CallbackStatus = CallbackStatus.SCHEDULED,
    slot_hours: int = 2,
    keeps_place: bool = False,
) -> int:
    with db.begin():
        library_id = db.scalar(select(Library.id).where(Library.name == library))
        callback = Callback(
            number=number,
            topic=topic,
            dedupe_key=f"{number}:{topic.value}",
            status=status,
            library_id=library_id,
            assigned_adviser_id=adviser_id,
            slot_starts_at=None if keeps_place else now + timedelta(hours=slot_hours),
            slot_ends_at=None if keeps_place else now + timedelta(hours=slot_hours, minutes=30),
            next_attempt_at=None if keeps_place else now + timedelta(hours=slot_hours),
            keeps_place=keeps_place,
            reference="12345678",
            created_at=now,
            updated_at=now,
        )
        db.add(callback)
        db.flush()
        return callback.id


@pytest.fixture
def callbacks(council, db, clock) -> dict[str, int]:
    now = clock.now()
    aisha, tom = council["aisha"].adviser_id, council["tom"].adviser_id
    return {
        "aishas": add_callback(db, now, "+447700900001", "Huddersfield", aisha, slot_hours=1),
        "unassigned_here": add_callback(
            db, now, "+447700900002", "Huddersfield", topic=Topic.HOUSING_BENEFIT
        ),
        "toms": add_callback(db, now, "+447700900003", "Huddersfield", tom, slot_hours=26),
        "dewsbury": add_callback(db, now, "+447700900004", "Dewsbury", slot_hours=3),
    }


def test_an_adviser_sees_their_callbacks_and_their_librarys_unassigned_ones_with_numbers_masked_unless_theirs(
    app, callbacks
):
    listing = signed_in(app, app_user(app, "aisha")).get("/api/callbacks").get_json()
    by_id = {c["id"]: c for c in listing["callbacks"]}
    assert set(by_id) == {callbacks["aishas"], callbacks["unassigned_here"]} and listing["total"] == 2
    assert by_id[callbacks["aishas"]]["number"] == "+447700900001"
    assert by_id[callbacks["aishas"]]["reference"] == "12345678"
    unassigned = by_id[callbacks["unassigned_here"]]
    assert unassigned["number"] == "••••••••••002" and unassigned["number_masked"] is True
    assert "12345678" not in str(unassigned)
    client = signed_in(app, app_user(app, "aisha"))
    assert client.get(f"/api/callbacks/{callbacks['dewsbury']}").status_code == 404
    assert (
        client.get(f"/api/callbacks/{callbacks['aishas']}").get_json()["callback"]["library"]
        == "Huddersfield"
    )


def test_a_supervisor_sees_every_callback_in_full_and_filters_them(app, callbacks, clock):
    supervisor = signed_in(app, app_user(app, "supervisor"))
    everything = supervisor.get("/api/callbacks").get_json()
    assert everything["total"] == 4 and not any(c["number_masked"] for c in everything["callbacks"])
    # Soonest slot first.
    assert [c["id"] for c in everything["callbacks"]] == [
        callbacks["aishas"],
        callbacks["unassigned_here"],
        callbacks["dewsbury"],
        callbacks["toms"],
    ]

    def ids(query: str) -> set[int]:
        response = supervisor.get(f"/api/callbacks?{query}")
        assert response.status_code == 200, response.get_json()
        return {c["id"] for c in response.get_json()["callbacks"]}

    assert ids("library=Dewsbury") == {callbacks["dewsbury"]}
    assert ids("topic=housing_benefit") == {callbacks["unassigned_here"]}
    assert ids(f"adviser={app_user(app, 'tom').adviser_id}") == {callbacks["toms"]}
    assert ids("adviser=none") == {callbacks["unassigned_here"], callbacks["dewsbury"]}
    assert ids("status=cancelled") == set()
    assert ids("slot_from=2026-11-26") == {callbacks["toms"]}
    assert ids("slot_to=2026-11-25") == {
        callbacks["aishas"],
        callbacks["unassigned_here"],
        callbacks["dewsbury"],
    }
    assert ids("slot_from=2026-11-25T11:30:00%2B00:00&slot_to=2026-11-25T13:30:00%2B00:00") == {
        callbacks["unassigned_here"],
        callbacks["dewsbury"],
    }
    page = supervisor.get("/api/callbacks?per_page=3&page=2").get_json()
    assert [c["id"] for c in page["callbacks"]] == [callbacks["toms"]] and page["total"] == 4

    bad = supervisor.get(
        "/api/callbacks?status=lost&topic=parking&slot_from=yesterday&per_page=0&adviser=tom"
    )
    assert bad.status_code == 400
    assert bad.get_json()["errors"].keys() == {"status", "topic", "slot_from", "per_page", "adviser"}


def test_a_supervisor_reassigns_a_callback_only_to_an_adviser_with_the_skill(app, callbacks, db):
    supervisor = signed_in(app, app_user(app, "supervisor"))
    tom, gurpreet = app_user(app, "tom").adviser_id, app_user(app, "gurpreet").adviser_id
    url = f"/api/callbacks/{callbacks['unassigned_here']}/reassign"  # housing benefit
    unskilled = supervisor.post(url, json={"adviser_id": tom})
    assert unskilled.status_code == 400
    assert unskilled.get_json()["errors"]["adviser_id"] == "Tom Hirst does not take housing benefit calls."
    assert supervisor.post(url, json={"adviser_id": "tom"}).get_json()["errors"].keys() == {"adviser_id"}
    assert supervisor.post(url, json={"adviser_id": 9999}).status_code == 400

    moved = supervisor.post(url, json={"adviser_id": gurpreet})
    assert moved.status_code == 200
    assert moved.get_json()["callback"]["assigned_adviser"] == {"id": gurpreet, "name": "Gurpreet Sandhu"}
    db.expire_all()
    assert db.get_one(Callback, callbacks["unassigned_here"]).assigned_adviser_id == gurpreet

    adviser = signed_in(app, app_user(app, "aisha"))
    assert (
        adviser.post(f"/api/callbacks/{callbacks['aishas']}/reassign", json={"adviser_id": tom}).status_code
        == 403
    )


def test_cancelling_a_callback_needs_a_reason_and_happens_once(app, callbacks, db):
    aisha = signed_in(app, app_user(app, "aisha"))
    url = f"/api/callbacks/{callbacks['aishas']}/cancel"
    assert aisha.post(url, json={"reason": " "}).get_json()["errors"].keys() == {"reason"}
    cancelled = aisha.post(url, json={"reason": "resident rang back and was helped"})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["callback"]["status"] == "cancelled"
    db.expire_all()
    row = db.get_one(Callback, callbacks["aishas"])
    assert (
        row.status == CallbackStatus.CANCELLED and row.cancelled_reason == "resident rang back and was helped"
    )
    again = aisha.post(url, json={"reason": "twice"})
    assert again.status_code == 409
    supervisor = signed_in(app, app_user(app, "supervisor"))
    assert (
        supervisor.post(f"/api/callbacks/{callbacks['aishas']}/reassign", json={"adviser_id": 1}).status_code
        == 409
    )
    assert (
        aisha.post(f"/api/callbacks/{callbacks['dewsbury']}/cancel", json={"reason": "x"}).status_code == 404
    )


def test_cancelling_a_callback_that_keeps_a_place_takes_it_out_of_the_live_queue(
    app, council, db, services, clock
):
    callback_id = add_callback(db, clock.now(), "+447700900009", "Huddersfield", keeps_place=True)
    with db.begin():
        library_id = db.scalar(select(Library.id).where(Library.name == "Huddersfield"))
        entry = QueueEntry(
            callback_id=callback_id,
            topic=Topic.COUNCIL_TAX,
            home_library_id=library_id,
            joined_at=clock.now(),
            status=QueueEntryStatus.WAITING,
            priority_reasons=[],
            skipped_adviser_ids=[],
        )
        db.add(entry)
        ready_store(services, db).add_waiting(
            WaitingCaller(f"callback-{callback_id}", "council_tax", "en-GB", "Huddersfield", clock.now())
        )
    supervisor = signed_in(app, council["supervisor"])
    response = supervisor.post(f"/api/callbacks/{callback_id}/cancel", json={"reason": "duplicate"})
    assert response.status_code == 200
    with services.session_factory() as session:
        assert ready_store(services, session).queue_sizes() == {}
    db.expire_all()
    assert db.get_one(QueueEntry, entry.id).status == QueueEntryStatus.ABANDONED


def test_callback_numbers_never_reach_the_logs(settings, clock, capsys):
    from app import create_app

    app = create_app(settings.with_overrides(log_level="INFO"), clock=clock)
    services = app.extensions[EXTENSION_KEY]
    with services.session_factory() as session:
        with session.begin():
            seed_demo(session, clock.now(), password_hasher=CHEAP_HASHER)
        callback_id = add_callback(session, clock.now(), "+447700900003", "Huddersfield")
    supervisor = signed_in(app, app_user(app, "supervisor"))
    assert supervisor.get("/api/callbacks").status_code == 200
    assert (
        supervisor.post(f"/api/callbacks/{callback_id}/cancel", json={"reason": "moved away"}).status_code
        == 200
    )
    printed = capsys.readouterr()
    logs = printed.out + printed.err
    assert "callback.cancelled_in_console" in logs  # the line was written...
    assert "+447700900003" not in logs and "7700900003" not in logs  # ...without the number
    services.engine.dispose()


def app_user(app: Flask, username: str) -> User:
    with app.extensions[EXTENSION_KEY].session_factory() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(user)
        return user
