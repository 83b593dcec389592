"""The supervisor's callbacks pages behind the browser: the filter, bad filter input (400), one callback with its
attempts, reassigning and cancelling (through callbacks.supervision, audited), unknown ids (404) and callbacks
that can no longer change (409)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from callbacks.service import request_callback
from models import Adviser, Callback, CallbackAttempt, CallbackStatus, Library, Topic
from models.audit import AuditEvent
from tests.staff import seed_council, signed_in

NUMBER = "+447400123456"


@pytest.fixture
def council(app, db, clock):
    return seed_council(db, clock)


@pytest.fixture
def supervisor(app, council):
    return signed_in(app, council["supervisor"])


def add_callback(db, clock, number=NUMBER, topic=Topic.COUNCIL_TAX, reference="12345678", **values) -> int:
    with db.begin():
        callback = request_callback(
            db, number, topic, clock.now(), reference=reference, status=CallbackStatus.SCHEDULED
        ).callback
        for name, value in values.items():
            setattr(callback, name, value)
        callback_id = callback.id
    return callback_id


def adviser_id(db, name: str) -> int:
    found = db.scalars(select(Adviser.id).where(Adviser.name == name)).one()
    db.rollback()  # no transaction left open: the next step begins its own
    return found


def count(html: str) -> str:
    found = re.search(r'id="callbacks-count"[^>]*>(.*?)</p>', html, re.S)
    assert found
    return " ".join(found.group(1).split())


def csrf(client, path: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def test_the_list_filters_by_status_topic_library_adviser_due_date_and_reference(supervisor, db, clock):
    tom = adviser_id(db, "Tom Hirst")
    huddersfield = db.scalars(select(Library.id).where(Library.name == "Huddersfield")).one()
    db.rollback()
    mine = add_callback(db, clock, reference="11112222", assigned_adviser_id=tom, library_id=huddersfield)
    add_callback(db, clock, number="+447400123457", topic=Topic.HOUSING_BENEFIT, reference="99998888")
    later = add_callback(
        db,
        clock,
        number="+447400123458",
        reference="55556666",
        next_attempt_at=clock.now() + timedelta(days=3),
    )

    everything = supervisor.get("/console/supervisor/callbacks").get_data(as_text=True)
    assert count(everything) == "3 callbacks"
    assert "•••••••••456" in everything and NUMBER not in everything, "numbers are masked"

    def listed(query: str) -> str:
        response = supervisor.get(f"/console/supervisor/callbacks?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert count(listed(f"adviser={tom}")) == "1 callback" and "11112222" in listed(f"adviser={tom}")
    assert count(listed("adviser=none")) == "2 callbacks"
    assert "99998888" in listed("topic=housing_benefit") and "11112222" not in listed("topic=housing_benefit")
    assert count(listed(f"library={huddersfield}")) == "1 callback"
    assert count(listed("status=scheduled&status=requested&topic=council_tax")) == "2 callbacks"
    assert count(listed("status=cancelled")) == "0 callbacks"
    assert count(listed("reference=5555")) == "1 callback" and f"/callbacks/{later}" in listed(
        "reference=5555"
    )
    day = (clock.now() + timedelta(days=3)).strftime("%d/%m/%Y")
    assert f"/callbacks/{later}" in listed(f"due_from={day}") and f"/callbacks/{mine}" not in listed(
        f"due_from={day}"
    )
    assert f"/callbacks/{later}" not in listed(f"due_to={clock.now().date().isoformat()}")


def test_the_list_sorts_by_a_column_and_says_so_to_screen_readers(supervisor, db, clock):
    first = add_callback(db, clock, reference="10000001", attempts=0)
    second = add_callback(db, clock, number="+447400123457", reference="10000002", attempts=2)
    ascending = supervisor.get("/console/supervisor/callbacks?sort=attempts").get_data(as_text=True)
    descending = supervisor.get("/console/supervisor/callbacks?sort=attempts&order=desc").get_data(
        as_text=True
    )
    assert ascending.index(f"/callbacks/{first}") < ascending.index(f"/callbacks/{second}")
    assert descending.index(f"/callbacks/{second}") < descending.index(f"/callbacks/{first}")
    assert 'aria-sort="descending"' in descending


@pytest.mark.parametrize(
    "query, field",
    [
        ("due_from=31/02/2026", "due_from"),
        ("due_to=tomorrow", "due_to"),
        ("due_from=2026-11-26&due_to=2026-11-25", "due_to"),
        ("reference=" + "7" * 33, "reference"),
        ("reference=%00", "reference"),
        ("status=lost", "status"),
        ("topic=parking", "topic"),
        ("library=99999", "library"),
        ("adviser=99999999999", "adviser"),
        ("sort=number", "sort"),
        ("page=0", "page"),
    ],
)
def test_bad_filter_input_answers_400_with_an_error_summary_linked_to_the_field(supervisor, query, field):
    response = supervisor.get(f"/console/supervisor/callbacks?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and f'href="#{field}"' in html
    assert "<title>Error: Callbacks" in html


def test_a_callback_page_shows_each_attempt_and_who_can_take_it(supervisor, db, clock):
    callback_id = add_callback(db, clock, attempts=1, last_result="no-answer")
    tom = adviser_id(db, "Tom Hirst")
    with db.begin():
        db.add(
            CallbackAttempt(
                callback_id=callback_id,
                number=1,
                claimed_at=clock.now(),
                claimed_by="worker",
                dial_started_at=clock.now(),
                result="no-answer",
                adviser_id=tom,
                ended_at=clock.now() + timedelta(seconds=30),
            )
        )
    html = supervisor.get(f"/console/supervisor/callbacks/{callback_id}").get_data(as_text=True)
    assert 'id="attempts"' in html and "No answer" in html and "Tom Hirst" in html
    options = re.findall(r"<option[^>]*>([^<]+)</option>", html)
    assert any(option.startswith("Tom Hirst") for option in options)
    assert not any(option.startswith("Sarah Lockwood") for option in options), "no council tax skill"


def test_an_unknown_callback_is_a_404_page_in_the_console_layout(supervisor):
    for path in ("/console/supervisor/callbacks/999999", "/console/supervisor/callbacks/99999999999"):
        response = supervisor.get(path)
        assert response.status_code == 404
        assert "govuk-template" in response.get_data(as_text=True)


def test_reassigning_from_the_page_is_audited_and_refuses_an_adviser_without_the_skill(supervisor, db, clock):
    callback_id = add_callback(db, clock)
    path = f"/console/supervisor/callbacks/{callback_id}"
    token = csrf(supervisor, path)
    sarah = adviser_id(db, "Sarah Lockwood")
    refused = supervisor.post(f"{path}/reassign", data={"csrf_token": token, "adviser_id": str(sarah)})
    assert refused.status_code == 400
    assert "does not take council tax calls" in refused.get_data(as_text=True)
    assert (
        supervisor.post(f"{path}/reassign", data={"csrf_token": token, "adviser_id": "x"}).status_code == 400
    )
    assert supervisor.post(f"{path}/reassign", data={"adviser_id": "1"}).status_code == 400  # no CSRF token

    tom = adviser_id(db, "Tom Hirst")
    done = supervisor.post(f"{path}/reassign", data={"csrf_token": token, "adviser_id": str(tom)})
    assert done.status_code == 302
    assert "now Tom Hirst" in supervisor.get(path).get_data(as_text=True)
    assert db.get(Callback, callback_id).assigned_adviser_id == tom
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == callback_id)).all()
    assert event.action == "callback.reassigned" and event.after["assigned_adviser"] == "Tom Hirst"
    assert event.user_id is not None


def test_cancelling_needs_a_reason_and_a_callback_being_dialled_cannot_change(supervisor, db, clock):
    callback_id = add_callback(db, clock)
    path = f"/console/supervisor/callbacks/{callback_id}"
    token = csrf(supervisor, path)
    blank = supervisor.post(f"{path}/cancel", data={"csrf_token": token, "reason": "   "})
    assert blank.status_code == 400 and "Give a reason" in blank.get_data(as_text=True)
    too_long = supervisor.post(f"{path}/cancel", data={"csrf_token": token, "reason": "x" * 201})
    assert too_long.status_code == 400

    done = supervisor.post(f"{path}/cancel", data={"csrf_token": token, "reason": "Resident rang in instead"})
    assert done.status_code == 302
    db.expire_all()
    callback = db.get_one(Callback, callback_id)
    assert (
        callback.status == CallbackStatus.CANCELLED
        and callback.cancelled_reason == "Resident rang in instead"
    )
    event = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == callback_id)).one()
    assert event.before == {"status": "scheduled"} and event.after["status"] == "cancelled"
    db.rollback()

    again = supervisor.post(f"{path}/cancel", data={"csrf_token": token, "reason": "Twice"})
    assert again.status_code == 409 and "only requested or scheduled" in again.get_data(as_text=True)

    dialling = add_callback(db, clock, number="+447400123999", status=CallbackStatus.DIALLING)
    tom = adviser_id(db, "Tom Hirst")
    late = supervisor.post(
        f"/console/supervisor/callbacks/{dialling}/reassign",
        data={"csrf_token": token, "adviser_id": str(tom)},
    )
    assert late.status_code == 409 and "can no longer be reassigned" in late.get_data(as_text=True)


def test_cancelling_an_unknown_callback_is_a_404(supervisor):
    token = csrf(supervisor, "/console/supervisor/callbacks")
    response = supervisor.post(
        "/console/supervisor/callbacks/424242/cancel", data={"csrf_token": token, "reason": "Gone"}
    )
    assert response.status_code == 404
