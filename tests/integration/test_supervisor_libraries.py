"""The supervisor's library pages behind the browser: the list of libraries open or closed now, one library,
weekly hours, a dated closure, an emergency closure now (and ending it early), removing a future closure; bad
input answers 400 with an error summary and what was typed, a forged form is refused, advisers get 403."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Library, LibraryClosure
from models.audit import AuditEvent
from tests.staff import seed_council, signed_in


@pytest.fixture
def council(app, db, clock):
    return seed_council(db, clock)


@pytest.fixture
def supervisor(app, council):
    return signed_in(app, council["supervisor"])


def library_id(db, name: str) -> int:
    found = db.scalars(select(Library.id).where(Library.name == name)).one()
    db.rollback()
    return found


def csrf(client, path: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def row_of(html: str, name: str) -> str:
    found = re.search(rf"<tr class=\"govuk-table__row\">\s*<th[^>]*><a[^>]*>{name}</a>.*?</tr>", html, re.S)
    assert found, name
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split())


def test_the_list_shows_all_ten_libraries_open_now_with_todays_hours(supervisor):
    response = supervisor.get("/console/supervisor/libraries")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('<th scope="row" class="govuk-table__header"><a') == 10
    # Wednesday 25 November 2026, 10:00: Huddersfield opens 9 to 5; Birstall (a village hub) shuts on Wednesdays.
    assert row_of(html, "Huddersfield") == "Huddersfield Open Until 17:00 9 am to 5 pm"
    assert row_of(html, "Birstall") == "Birstall Closed Outside opening hours Closed"


def test_an_emergency_closure_now_closes_the_library_from_now_and_is_audited(supervisor, db, council, clock):
    batley = library_id(db, "Batley")
    page = f"/console/supervisor/libraries/{batley}"
    assert "Batley Library is closed from 10 am today." in supervisor.get(page).get_data(as_text=True)
    response = supervisor.post(
        f"{page}/close-now",
        data={
            "csrf_token": csrf(supervisor, page),
            "emergency_reason": "Flooding",
            "caller_message": "Batley Library is closed from 10 am today because of flooding.",
        },
    )
    assert response.status_code == 302
    shown = supervisor.get(page).get_data(as_text=True)
    assert "Batley is closed from 10:00 on 25 Nov 2026." in shown  # the notification banner
    assert "govuk-notification-banner" in shown
    assert "Flooding" in shown and "Open again now" in shown
    listed = row_of(supervisor.get("/console/supervisor/libraries").get_data(as_text=True), "Batley")
    assert listed == "Batley Closed Flooding 9 am to 10 am"  # open this morning until the closure

    closure = db.scalars(select(LibraryClosure).where(LibraryClosure.library_id == batley)).one()
    assert (closure.starts_on, closure.ends_on, closure.is_emergency) == (date(2026, 11, 25),) * 2 + (True,)
    assert closure.starts_at == clock.now() and closure.ends_at is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "library.closed_now")).one()
    assert event.user_id == council["supervisor"].id and event.subject_id == batley
    assert event.after["closure"]["caller_message"].endswith("because of flooding.")
    assert (
        event.summary == "Emergency: closed Batley from 10:00 on 25 Nov 2026 for the rest of today: Flooding"
    )
    db.rollback()

    clock.advance(timedelta(minutes=30))
    ended = supervisor.post(f"{page}/closures/{closure.id}/end", data={"csrf_token": csrf(supervisor, page)})
    assert ended.status_code == 302
    assert row_of(supervisor.get("/console/supervisor/libraries").get_data(as_text=True), "Batley") == (
        "Batley Open Until 17:00 9 am to 10 am, 10:30 am to 5 pm"
    )


def test_weekly_hours_are_saved_and_a_bad_time_answers_400_keeping_what_was_typed(supervisor, db):
    batley = library_id(db, "Batley")
    page = f"/console/supervisor/libraries/{batley}"
    token = csrf(supervisor, page)
    form = {"csrf_token": token, "mon-1-opens": "9:00", "mon-1-closes": "12:30"}
    form |= {"mon-2-opens": "13:30", "mon-2-closes": "17:00", "sat-1-opens": "10:00", "sat-1-closes": "9:00"}
    refused = supervisor.post(f"{page}/hours", data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "There is a problem" in html and 'href="#sat-1-closes"' in html
    assert "Saturday session 1: the closing time must be after the opening time." in html
    assert 'value="13:30"' in html, "what was typed is kept"

    form["sat-1-closes"] = "13:00"
    assert supervisor.post(f"{page}/hours", data=form).status_code == 302
    saved = db.get(Library, batley)
    assert saved.opening_hours["mon"] == [["09:00", "12:30"], ["13:30", "17:00"]]
    assert saved.opening_hours["sat"] == [["10:00", "13:00"]]
    assert saved.opening_hours["tue"] == [], "a day left empty is closed"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "library.hours_changed")).one()
    assert event.before["opening_hours"]["mon"] == [["09:00", "17:00"]]
    assert event.after["opening_hours"]["mon"] == [["09:00", "12:30"], ["13:30", "17:00"]]


def test_a_dated_closure_is_added_and_a_future_one_removed(supervisor, db):
    holmfirth = library_id(db, "Holmfirth")
    page = f"/console/supervisor/libraries/{holmfirth}"
    form = {
        "csrf_token": csrf(supervisor, page),
        "starts_on-day": "2",
        "starts_on-month": "12",
        "starts_on-year": "2026",
        "ends_on-day": "3",
        "ends_on-month": "12",
        "ends_on-year": "2026",
        "reason": "Staff training",
        "closure_message": "Holmfirth Library is closed on the 2nd and 3rd of December for staff training.",
    }
    assert supervisor.post(f"{page}/closures", data=form).status_code == 302
    added = db.scalars(select(LibraryClosure).where(LibraryClosure.reason == "Staff training")).one()
    assert (added.starts_on, added.ends_on, added.starts_at, added.is_emergency) == (
        date(2026, 12, 2),
        date(2026, 12, 3),
        None,
        False,
    )
    added_id = added.id
    db.rollback()
    removed = supervisor.post(
        f"{page}/closures/{added_id}/remove", data={"csrf_token": csrf(supervisor, page)}
    )
    assert removed.status_code == 302
    assert db.get(LibraryClosure, added_id) is None
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["library.closure_added", "library.closure_removed"]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        (
            {"starts_on-day": "31", "starts_on-month": "2"},
            "starts_on-day",
            "The first day must be a real date",
        ),
        ({"starts_on-year": "2025"}, "starts_on-day", "must be today or later"),
        ({"ends_on-day": "1"}, "ends_on-day", "same as or after the first day"),
        ({"reason": ""}, "reason", "Enter why it is closed"),
        ({"reason": "x" * 201}, "reason", "200 characters or fewer"),
        ({"closure_message": "y" * 301}, "closure_message", "300 characters or fewer"),
        ({"closure_message": "bad\x00"}, "closure_message", "control characters"),
    ],
)
def test_a_bad_dated_closure_answers_400_naming_the_field(supervisor, db, changes, field, message):
    holmfirth = library_id(db, "Holmfirth")
    page = f"/console/supervisor/libraries/{holmfirth}"
    form = {
        "csrf_token": csrf(supervisor, page),
        "starts_on-day": "2",
        "starts_on-month": "12",
        "starts_on-year": "2026",
        "ends_on-day": "3",
        "ends_on-month": "12",
        "ends_on-year": "2026",
        "reason": "Staff training",
        "closure_message": "Closed for training.",
    } | changes
    response = supervisor.post(f"{page}/closures", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'href="#{field}"' in html and message in html
    assert db.scalars(select(LibraryClosure).where(LibraryClosure.reason == "Staff training")).all() == []


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"caller_message": ""}, "caller_message", "Enter the sentence callers will hear"),
        ({"caller_message": "z" * 301}, "caller_message", "300 characters or fewer"),
        ({"emergency_reason": ""}, "emergency_reason", "Enter why it is closed"),
        ({"starts_at": "25:00"}, "starts_at", "24-hour time"),
        ({"ends_at_time": "09:00"}, "ends_at_time", "must end after it starts"),
        ({"ends_at-day": "40", "ends_at-month": "1", "ends_at-year": "2027"}, "ends_at-day", "real date"),
    ],
)
def test_a_bad_emergency_closure_answers_400_naming_the_field(supervisor, db, changes, field, message):
    batley = library_id(db, "Batley")
    page = f"/console/supervisor/libraries/{batley}"
    form = {
        "csrf_token": csrf(supervisor, page),
        "emergency_reason": "Flooding",
        "caller_message": "Batley Library is closed today because of flooding.",
    } | changes
    response = supervisor.post(f"{page}/close-now", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'href="#{field}"' in html and message in html
    assert db.scalars(select(LibraryClosure).where(LibraryClosure.library_id == batley)).all() == []


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(supervisor, db):
    batley = library_id(db, "Batley")
    response = supervisor.post(
        f"/console/supervisor/libraries/{batley}/close-now",
        data={"emergency_reason": "Flooding", "caller_message": "Closed."},
    )
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    assert db.scalars(select(LibraryClosure).where(LibraryClosure.reason == "Flooding")).all() == []


def test_advisers_are_refused_the_library_pages(app, council, db):
    adviser = signed_in(app, council["aisha"])
    batley = library_id(db, "Batley")
    assert adviser.get("/console/supervisor/libraries").status_code == 403
    assert adviser.get(f"/console/supervisor/libraries/{batley}").status_code == 403
    assert adviser.post(f"/console/supervisor/libraries/{batley}/close-now", data={}).status_code == 403


def test_an_unknown_library_or_another_librarys_closure_is_not_found(supervisor, db):
    assert supervisor.get("/console/supervisor/libraries/999999").status_code == 404
    holmfirth, batley = library_id(db, "Holmfirth"), library_id(db, "Batley")
    demo_closure = db.scalars(select(LibraryClosure.id).where(LibraryClosure.library_id == holmfirth)).one()
    db.rollback()
    page = f"/console/supervisor/libraries/{batley}"
    response = supervisor.post(
        f"{page}/closures/{demo_closure}/remove", data={"csrf_token": csrf(supervisor, page)}
    )
    assert response.status_code == 404
    assert db.get(LibraryClosure, demo_closure) is not None
