"""The wallboard page and its live fragment: supervisors and admins see today's figures, advisers are refused,
the signed-out are sent to sign in; the big screen has the same figures without the navigation."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from callbacks.lifecycle import FollowUp, carry_out
from models import Adviser, AdviserState, Call, Library, QueueEntry, QueueEntryStatus, Topic
from routing.live import floor_channel
from runtime.web import EXTENSION_KEY
from tests.staff import seed_council, signed_in


def services_of(app):
    return app.extensions[EXTENSION_KEY]


@pytest.fixture
def users(db, clock):
    return seed_council(db, clock)


@pytest.fixture
def a_caller_waiting(db, clock, users):
    """A council tax caller from Huddersfield, waiting 3 min 20 s; Tom is available."""
    now = clock.now()
    with db.begin():
        huddersfield = db.scalars(select(Library).where(Library.name == "Huddersfield")).one()
        call = Call(call_sid="CA" + "7" * 32, started_at=now - timedelta(minutes=4))
        db.add(call)
        db.flush()
        db.add(
            QueueEntry(
                call_id=call.id,
                topic=Topic.COUNCIL_TAX,
                home_library_id=huddersfield.id,
                joined_at=now - timedelta(seconds=200),
                status=QueueEntryStatus.WAITING,
            )
        )
        tom = db.scalars(select(Adviser).where(Adviser.name == "Tom Hirst")).one()
        tom.state, tom.state_since = AdviserState.AVAILABLE, now
    return users


def _row(html: str, table: str, row: str) -> str:
    found = re.search(rf'id="{table}".*?data-row="{re.escape(row)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {row} in {table}"
    return found.group(1)


def _cell(row_html: str, cell: str) -> str:
    found = re.search(rf'data-cell="{cell}">(.*?)</td>', row_html, re.S)
    assert found, cell
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_a_supervisor_sees_the_caller_waiting_and_the_available_adviser(app, a_caller_waiting):
    client = signed_in(app, a_caller_waiting["supervisor"])
    response = client.get("/console/supervisor/wallboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Wallboard</h1>' in html
    assert re.search(r'id="waiting-now" data-figure="waiting-now">1<', html)
    assert re.search(r'id="longest-wait" data-figure="longest-wait">3 min 20 s<', html)
    huddersfield = _row(html, "callers-by-library", "Huddersfield")
    assert _cell(huddersfield, "waiting") == "1"
    assert _cell(huddersfield, "longest") == "3 min 20 s Long wait"  # amber from 2 minutes, in words
    assert _cell(_row(html, "callers-by-topic", "council_tax"), "waiting") == "1"
    assert _cell(_row(html, "callers-by-topic", "housing_benefit"), "waiting") == "0"
    assert _cell(_row(html, "advisers-by-library", "Huddersfield"), "available") == "1"
    assert _cell(_row(html, "advisers-by-library", "Huddersfield"), "offline") == "2"
    assert 'aria-live="polite"' in html
    assert 'data-announcement="1 caller waiting, longest 3 minutes."' in html
    assert "console/wallboard.js" in html
    # the navigation offers the wallboard to supervisors
    assert re.search(r'<a class="govuk-service-navigation__link" href="/console/supervisor/wallboard"', html)


def test_the_fragment_has_the_same_figures_without_the_page_around_them(app, a_caller_waiting):
    client = signed_in(app, a_caller_waiting["admin"])
    response = client.get("/console/supervisor/wallboard/figures")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<html" not in html and "govuk-service-navigation" not in html
    assert re.search(r'id="waiting-now" data-figure="waiting-now">1<', html)


def test_the_big_screen_has_larger_type_and_no_navigation(app, a_caller_waiting):
    client = signed_in(app, a_caller_waiting["supervisor"])
    html = client.get("/console/supervisor/wallboard?big=1").get_data(as_text=True)
    assert "govuk-service-navigation" not in html
    assert "govuk-!-font-size-80" in html
    assert 'href="/console/supervisor/wallboard">Leave big-screen mode' in html
    assert 'data-figures-url="/console/supervisor/wallboard/figures?big=1"' in html
    fragment = client.get("/console/supervisor/wallboard/figures?big=1").get_data(as_text=True)
    assert "govuk-!-font-size-80" in fragment


def test_an_odd_big_screen_value_shows_the_ordinary_page(app, users):
    client = signed_in(app, users["supervisor"])
    response = client.get("/console/supervisor/wallboard", query_string={"big": "x" * 5000 + "\x00"})
    assert response.status_code == 200
    assert "govuk-service-navigation" in response.get_data(as_text=True)


def test_an_adviser_is_refused_the_wallboard_and_is_not_offered_it(app, users):
    client = signed_in(app, users["tom"])
    assert client.get("/console/supervisor/wallboard").status_code == 403
    assert client.get("/console/supervisor/wallboard/figures").status_code == 403
    assert "/console/supervisor/wallboard" not in client.get("/console/").get_data(as_text=True)


def test_the_signed_out_are_sent_to_sign_in(client, users):
    for path in ("/console/supervisor/wallboard", "/console/supervisor/wallboard/figures"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/console/login" in response.headers["Location"]


def test_a_callback_that_fails_for_good_tells_the_live_pages(app, redis_client):
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(floor_channel())
    pubsub.get_message(timeout=1.0)  # the subscription is in place before anything happens
    carry_out(services_of(app), FollowUp(callback_id=1, result="no-answer", final_sms=True))
    message = pubsub.get_message(timeout=5.0)
    pubsub.close()
    assert message is not None and json.loads(message["data"]) == {"kind": "callbacks"}
