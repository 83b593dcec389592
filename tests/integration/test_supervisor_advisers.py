"""The supervisor's advisers and rota pages behind the browser: the list filtered by library, one adviser's
settings changed (audited), an adviser added, bad input answered 400 with the field named and the typed values
kept, CSRF refused, shifts and days away added and removed, and advisers refused every page."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from models import Adviser, AdviserShift, AdviserState, Library, RotaException
from models.audit import AuditEvent
from tests.staff import seed_council, signed_in

ADVISERS = "/console/supervisor/advisers"
ROTA = "/console/supervisor/rota"


@pytest.fixture
def council(app, db, clock):
    return seed_council(db, clock)


@pytest.fixture
def supervisor(app, council):
    return signed_in(app, council["supervisor"])


def csrf(client, path: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def ids(db, name: str) -> tuple[int, int]:
    adviser = db.scalars(select(Adviser).where(Adviser.name == name)).one()
    found = adviser.id, adviser.home_library_id
    db.rollback()
    return found


def adviser_form(token: str, library_id: int, **changes) -> dict:
    form = {
        "csrf_token": token,
        "name": "Tom Hirst",
        "home_library_id": str(library_id),
        "languages": ["en-GB"],
        "skill_council_tax": "4",
        "skill_housing_benefit": "",
        "skill_general": "3",
        "answers_on": "browser",
        "phone_number": "",
        "is_active": "yes",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def error_summary(html: str) -> list[str]:
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    assert summary, "an error summary"
    return re.findall(r'href="#([^"]+)"', summary.group(1))


def test_the_list_shows_every_adviser_with_state_and_active_tag_and_filters_by_library(supervisor, db):
    html = supervisor.get(ADVISERS).get_data(as_text=True)
    assert "20 advisers" in html and "Aisha Khan" in html
    assert html.count(">Active</strong>") == 20
    dewsbury = db.scalars(select(Library.id).where(Library.name == "Dewsbury")).one()
    db.rollback()
    filtered = supervisor.get(f"{ADVISERS}?library={dewsbury}").get_data(as_text=True)
    assert "3 advisers" in filtered and "Zofia Nowak" in filtered and "Aisha Khan" not in filtered
    bad = supervisor.get(f"{ADVISERS}?library=99999999999")
    assert bad.status_code == 400 and error_summary(bad.get_data(as_text=True)) == ["library"]


def test_changing_skills_languages_and_phone_saves_audits_and_masks_the_number(supervisor, db):
    tom, library = ids(db, "Tom Hirst")
    path = f"{ADVISERS}/{tom}"
    page = supervisor.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="pl-PL"' in html and "Does not take this topic" in html and 'id="adviser-summary"' in html

    form = adviser_form(
        csrf(supervisor, path),
        library,
        languages=["en-GB", "pl-PL"],
        skill_housing_benefit="2",
        answers_on="phone",
        phone_number="07400 123456",
    )
    response = supervisor.post(path, data=form)
    assert response.status_code == 302
    shown = supervisor.get(path).get_data(as_text=True)
    assert "Saved: languages, skills, answers on, phone number changed." in shown
    assert "On a phone, ••••••••••456" in shown and "+447400123456" not in shown
    adviser = db.get(Adviser, tom)
    assert adviser.languages == ["en-GB", "pl-PL"] and adviser.phone_number == "+447400123456"
    assert {s.topic.value: s.proficiency for s in adviser.skills} == {
        "council_tax": 4,
        "general": 3,
        "housing_benefit": 2,
    }
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "adviser.changed")).one()
    db.rollback()
    assert event.before["languages"] == ["en-GB"] and event.after["languages"] == ["en-GB", "pl-PL"]
    assert event.after["phone_number"] == "••••••••••456"


def test_bad_input_answers_400_naming_each_field_and_keeping_what_was_typed(supervisor, db):
    tom, library = ids(db, "Tom Hirst")
    path = f"{ADVISERS}/{tom}"
    form = adviser_form(
        csrf(supervisor, path),
        library,
        name="T" * 121,
        answers_on="phone",
        phone_number="0900 123 4567",
        skill_council_tax="7",
        languages=["xx-XX"],
    )
    response = supervisor.post(path, data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert set(error_summary(html)) == {"name", "skill_council_tax", "languages", "phone_number"}
    assert 'value="' + "T" * 121 + '"' in html, "the typed name is kept"

    form = adviser_form(
        csrf(supervisor, path), library, name="T" * 121, answers_on="phone", phone_number="0900 123 4567"
    )
    response = supervisor.post(path, data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert set(error_summary(html)) == {"name", "phone_number"}
    assert "premium rate" in html and "Keep this to 120 characters or fewer." in html
    assert 'value="0900 123 4567"' in html

    nul = supervisor.post(path, data=adviser_form(csrf(supervisor, path), library, name="Tom\x00"))
    assert nul.status_code == 400 and error_summary(nul.get_data(as_text=True)) == ["name"]
    assert db.get(Adviser, tom).name == "Tom Hirst"
    db.rollback()


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(supervisor, db):
    tom, library = ids(db, "Tom Hirst")
    response = supervisor.post(f"{ADVISERS}/{tom}", data=adviser_form("forged", library, name="Someone Else"))
    assert response.status_code == 400 and "The form expired" in response.get_data(as_text=True)
    assert db.get(Adviser, tom).name == "Tom Hirst"
    db.rollback()
    shift = supervisor.post(f"{ROTA}/advisers/{tom}/away", data={"kind": "sickness"})
    assert shift.status_code == 400
    assert db.scalars(select(RotaException)).all() == []


def test_making_an_adviser_inactive_from_the_page_signs_them_off(supervisor, db, app):
    from routing.advisers import change_state
    from runtime.web import EXTENSION_KEY

    tom, library = ids(db, "Tom Hirst")
    services = app.extensions[EXTENSION_KEY]
    with services.session_factory.begin() as session:
        change_state(services, session, tom, "available", None)
    path = f"{ADVISERS}/{tom}"
    response = supervisor.post(path, data=adviser_form(csrf(supervisor, path), library, is_active=None))
    assert response.status_code == 302
    adviser = db.get(Adviser, tom)
    assert not adviser.is_active and adviser.state == AdviserState.OFFLINE
    db.rollback()
    listed = supervisor.get(ADVISERS).get_data(as_text=True)
    assert listed.count(">Inactive</strong>") == 1


def test_adding_an_adviser_starts_them_offline_and_bad_numbers_are_refused(supervisor, db):
    path = f"{ADVISERS}/new"
    _, library = ids(db, "Tom Hirst")
    page = supervisor.get(path)
    assert page.status_code == 200 and "Add an adviser" in page.get_data(as_text=True)
    bad = supervisor.post(
        path,
        data=adviser_form(
            csrf(supervisor, path), library, name="Ewa Nowak", answers_on="phone", phone_number="12"
        ),
    )
    assert bad.status_code == 400 and error_summary(bad.get_data(as_text=True)) == ["phone_number"]
    response = supervisor.post(
        path,
        data=adviser_form(csrf(supervisor, path), library, name="Ewa Nowak", languages=["en-GB", "pl-PL"]),
    )
    assert response.status_code == 302
    added = db.scalars(select(Adviser).where(Adviser.name == "Ewa Nowak")).one()
    assert added.state == AdviserState.OFFLINE and added.client_identity == "adviser-ewa-nowak"
    assert response.headers["Location"].endswith(f"/advisers/{added.id}")
    db.rollback()
    assert db.scalars(select(AuditEvent.action)).all() == ["adviser.added"]


def test_the_rota_shows_a_librarys_week_and_next_expected(supervisor, db):
    _, library = ids(db, "Tom Hirst")
    page = supervisor.get(f"{ROTA}?library={library}&week=2026-11-25")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Week beginning 23 November 2026" in html and "Tom Hirst" in html and "Zofia Nowak" not in html
    assert 'id="next-expected"' in html and "Council tax advisers" in html
    assert supervisor.get(f"{ROTA}?library=abc").status_code == 400
    for week in ("9999-12-31", "0001-01-01", "nonsense"):
        assert supervisor.get(f"{ROTA}?library={library}&week={week}").status_code == 200, week
    assert supervisor.get(f"{ROTA}?adviser=999999").status_code == 404


def test_shifts_and_days_away_are_added_checked_and_removed_from_an_advisers_rota(supervisor, db, clock):
    tom, library = ids(db, "Tom Hirst")
    page = f"{ROTA}?adviser={tom}"
    token = csrf(supervisor, page)

    overlap = supervisor.post(
        f"{ROTA}/advisers/{tom}/shifts",
        data={
            "csrf_token": token,
            "weekday": "0",
            "library_id": str(library),
            "starts": "16:00",
            "ends": "18:00",
        },
    )
    assert overlap.status_code == 400
    assert error_summary(overlap.get_data(as_text=True)) == ["starts"]
    backwards = supervisor.post(
        f"{ROTA}/advisers/{tom}/shifts",
        data={
            "csrf_token": token,
            "weekday": "6",
            "library_id": str(library),
            "starts": "13:00",
            "ends": "9",
        },
    )
    assert backwards.status_code == 400 and error_summary(backwards.get_data(as_text=True)) == ["ends"]
    assert 'value="13:00"' in backwards.get_data(as_text=True)
    nonsense = supervisor.post(
        f"{ROTA}/advisers/{tom}/shifts",
        data={"csrf_token": token, "weekday": "9", "starts": "25:00", "ends": "x" * 50},
    )
    assert nonsense.status_code == 400
    assert set(error_summary(nonsense.get_data(as_text=True))) == {"weekday", "library_id", "starts", "ends"}

    added = supervisor.post(
        f"{ROTA}/advisers/{tom}/shifts",
        data={
            "csrf_token": token,
            "weekday": "6",
            "library_id": str(library),
            "starts": "10",
            "ends": "12:30",
        },
    )
    assert added.status_code == 302
    sunday = db.scalars(
        select(AdviserShift).where(AdviserShift.adviser_id == tom, AdviserShift.weekday == 6)
    ).one()
    db.rollback()
    assert "Shift added: Sundays 10:00 to 12:30." in supervisor.get(page).get_data(as_text=True)

    bad_day = supervisor.post(
        f"{ROTA}/advisers/{tom}/away",
        data={
            "csrf_token": token,
            "kind": "sickness",
            "starts_on-day": "31",
            "starts_on-month": "2",
            "starts_on-year": "2026",
        },
    )
    assert bad_day.status_code == 400 and error_summary(bad_day.get_data(as_text=True)) == ["starts_on-day"]
    no_kind = supervisor.post(
        f"{ROTA}/advisers/{tom}/away",
        data={
            "csrf_token": token,
            "starts_on-day": "25",
            "starts_on-month": "11",
            "starts_on-year": "2026",
            "note": "n" * 201,
        },
    )
    assert no_kind.status_code == 400 and set(error_summary(no_kind.get_data(as_text=True))) == {"note"}
    sick = supervisor.post(
        f"{ROTA}/advisers/{tom}/away",
        data={
            "csrf_token": token,
            "kind": "sickness",
            "starts_on-day": "25",
            "starts_on-month": "11",
            "starts_on-year": "2026",
        },
    )
    assert sick.status_code == 302
    html = supervisor.get(page).get_data(as_text=True)
    assert "Recorded: away (sickness) 25 November." in html
    cell = re.search(rf'id="rota-{tom}-2026-11-25">(.*?)</td>', html, re.S).group(1)
    assert "Sickness" in cell and "Not counted: 09:00 to 17:00" in cell
    away = db.scalars(select(RotaException)).one()
    assert away.starts_on == away.ends_on == date(2026, 11, 25)
    db.rollback()

    assert (
        supervisor.post(
            f"{ROTA}/advisers/{tom}/away/{away.id}/remove", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert (
        supervisor.post(
            f"{ROTA}/advisers/{tom}/shifts/{sunday.id}/remove", data={"csrf_token": token}
        ).status_code
        == 302
    )
    assert (
        supervisor.post(
            f"{ROTA}/advisers/{tom}/shifts/{sunday.id}/remove", data={"csrf_token": token}
        ).status_code
        == 404
    )
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["rota.shift_added", "rota.away_added", "rota.away_removed", "rota.shift_removed"]


def test_an_adviser_is_refused_the_advisers_and_rota_pages(app, council, db):
    tom, library = ids(db, "Tom Hirst")
    adviser = signed_in(app, council["tom"])
    for path in (ADVISERS, f"{ADVISERS}/{tom}", f"{ADVISERS}/new", f"{ROTA}?adviser={tom}"):
        assert adviser.get(path).status_code == 403, path
    assert adviser.post(f"{ADVISERS}/{tom}", data={"name": "Me"}).status_code == 403
    assert adviser.post(f"{ROTA}/advisers/{tom}/away", data={"kind": "leave"}).status_code == 403


def test_a_name_with_markup_is_shown_as_text_and_unknown_advisers_are_not_found(supervisor, db):
    tom, library = ids(db, "Tom Hirst")
    path = f"{ADVISERS}/{tom}"
    saved = supervisor.post(path, data=adviser_form(csrf(supervisor, path), library, name="<b>Tom</b> Hirst"))
    assert saved.status_code == 302
    html = supervisor.get(path).get_data(as_text=True)
    assert "&lt;b&gt;Tom&lt;/b&gt; Hirst" in html and "<b>Tom</b>" not in html
    rota_html = supervisor.get(f"{ROTA}?adviser={tom}").get_data(as_text=True)
    assert "&lt;b&gt;Tom&lt;/b&gt; Hirst" in rota_html and "<b>Tom</b>" not in rota_html
    assert supervisor.get(f"{ADVISERS}/{2**40}").status_code == 404
    assert (
        supervisor.post(f"{ADVISERS}/999999", data=adviser_form(csrf(supervisor, path), library)).status_code
        == 404
    )
