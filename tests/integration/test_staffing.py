"""Supervisors' changes to advisers and the rota, through routing.staffing and routing.rota, on PostgreSQL and
SQLite: each is checked, saved and audited (phone numbers masked); an inactive adviser is offered nothing; a
day off sick takes that adviser's callback slots away and moves "when are advisers next expected"."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from callbacks import supervision
from callbacks.booking import advisers_next_expected, offer_slots
from ivr.hours import LONDON
from models import Adviser, AdviserShift, AdviserState, Library, Role, RotaException, Topic, User
from models.audit import AuditEvent
from routing import advisers as adviser_states
from routing import rota, staffing
from routing.live import adviser_key, ready_store
from routing.staffing import AdviserDetails, AdviserRefused
from routing.states import TransitionNotAllowed
from runtime.web import EXTENSION_KEY

WEEKDAYS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


@pytest.fixture
def services(app):
    return app.extensions[EXTENSION_KEY]


@pytest.fixture
def council(services, clock):
    """One hub, open weekdays 9 to 5; Tom takes council tax there every weekday; a supervisor."""
    now = clock.now()
    with services.session_factory.begin() as session:
        library = Library(name="Huddersfield", address="Princess Alexandra Walk", postcode="HD1 2SU")
        library.opening_hours = WEEKDAYS
        other = Library(
            name="Dewsbury", address="Railway Street", postcode="WF12 8EQ", opening_hours=WEEKDAYS
        )
        session.add_all([library, other])
        session.flush()
        tom = staffing.create_adviser(
            services,
            session,
            AdviserDetails("Tom Hirst", library.id, ("en-GB",), {"council_tax": 4}, "browser", None),
            by_user=None_user(),
        )
        for weekday in range(5):
            session.add(
                AdviserShift(
                    adviser=tom, library_id=library.id, weekday=weekday, starts=time(9), ends=time(17)
                )
            )
        boss = User(
            username="boss", display_name="Sam Boss", role=Role.SUPERVISOR, password_hash="x", created_at=now
        )
        session.add(boss)
        session.flush()
        ids = {"library": library.id, "other": other.id, "tom": tom.id, "boss": boss.id}
    with services.session_factory() as session:
        ids["boss_user"] = session.get_one(User, ids["boss"])
        session.expunge_all()
    return ids


class None_user:  # noqa: N801 - a stand-in for "a command, not a console user", as the CLI acts
    id = None
    role = Role.ADMIN
    adviser_id = None


def details(**changes) -> AdviserDetails:
    values = {
        "name": "Tom Hirst",
        "home_library_id": None,
        "languages": ("en-GB",),
        "skills": {"council_tax": 4},
        "answers_on": "browser",
        "phone_number": None,
        "is_active": True,
    }
    values.update(changes)
    return AdviserDetails(**values)


def audit(services, action: str) -> list[AuditEvent]:
    with services.session_factory() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        )


def test_adding_an_adviser_saves_them_offline_with_a_browser_identity_and_audits_it(services, council):
    with services.session_factory.begin() as session:
        added = staffing.create_adviser(
            services,
            session,
            details(
                name="Anna Wiśniewska",
                home_library_id=council["other"],
                languages=("en-GB", "pl-PL"),
                skills={"housing_benefit": 5, "general": 3},
                answers_on="phone",
                phone_number="07400 123456",
            ),
            council["boss_user"],
        )
        assert added.client_identity == "adviser-anna-wisniewska"
        assert added.phone_number == "+447400123456" and added.state == AdviserState.OFFLINE
    event = audit(services, "adviser.added")[-1]
    assert event.user_id == council["boss"]
    assert event.after["phone_number"] == "••••••••••456", "the number is masked in the audit trail"
    assert event.after["skills"] == {"general": 3, "housing_benefit": 5}
    assert event.after["languages"] == ["en-GB", "pl-PL"]


def test_every_bad_field_is_refused_at_once_and_nothing_is_saved(services, council):
    with services.session_factory.begin() as session, pytest.raises(AdviserRefused) as refused:
        staffing.create_adviser(
            services,
            session,
            details(
                name="x" * 121,
                home_library_id=999_999,
                languages=("xx-XX",),
                skills={"council_tax": 9},
                answers_on="phone",
                phone_number="0900 123 4567",
            ),
            council["boss_user"],
        )
    assert set(refused.value.errors) == {
        "name",
        "home_library_id",
        "languages",
        "skill_council_tax",
        "phone_number",
    }
    assert "premium rate" in refused.value.errors["phone_number"]
    with services.session_factory() as session:
        assert session.scalar(select(Adviser.id).where(Adviser.name.like("xxx%"))) is None


def test_a_phone_adviser_needs_a_number_and_no_topic_is_refused(services, council):
    with services.session_factory.begin() as session, pytest.raises(AdviserRefused) as refused:
        staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(home_library_id=council["library"], answers_on="phone", skills={}, languages=()),
            council["boss_user"],
        )
    assert set(refused.value.errors) == {"phone_number", "skill_general", "languages"}


def test_changing_skills_and_languages_audits_before_and_after_and_tells_the_matcher(
    services, council, clock
):
    with services.session_factory.begin() as session:
        ready_store(services, session)  # built before the change, as in a running service
        changed = staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(
                home_library_id=council["library"],
                languages=("en-GB", "ur-PK"),
                skills={"council_tax": 2, "housing_benefit": 3},
                answers_on="phone",
                phone_number="+44 1484 221000",
            ),
            council["boss_user"],
        )
    assert changed == ["languages", "skills", "answers_on", "phone_number"]
    event = audit(services, "adviser.changed")[-1]
    assert event.before == {
        "languages": ["en-GB"],
        "skills": {"council_tax": 4},
        "answers_on": "browser",
        "phone_number": None,
    }
    assert event.after["skills"] == {"council_tax": 2, "housing_benefit": 3}
    assert event.after["phone_number"] == "••••••••••000" and "221000" not in str(event.after)
    with services.session_factory() as session:
        profiles = {
            s.profile.adviser_id: s.profile for s in ready_store(services, session).snapshot().advisers
        }
    profile = profiles[adviser_key(council["tom"])]
    assert profile.skills == {"council_tax": 2, "housing_benefit": 3}
    assert profile.languages == frozenset({"en-GB", "ur-PK"})


def test_saving_nothing_new_records_nothing(services, council):
    with services.session_factory.begin() as session:
        changed = staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(home_library_id=council["library"]),
            council["boss_user"],
        )
    assert changed == [] and audit(services, "adviser.changed") == []


def test_an_inactive_adviser_is_set_offline_offered_nothing_and_not_counted(services, council, clock):
    with services.session_factory.begin() as session:
        adviser_states.change_state(services, session, council["tom"], "available", None)
    with services.session_factory() as session:
        assert offer_slots(session, Topic.COUNCIL_TAX, clock.now(), None)
        assert advisers_next_expected(session, Topic.COUNCIL_TAX, clock.now()) is not None

    with services.session_factory.begin() as session:
        staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(home_library_id=council["library"], is_active=False),
            council["boss_user"],
        )
    with services.session_factory() as session:
        tom = session.get_one(Adviser, council["tom"])
        assert tom.state == AdviserState.OFFLINE and tom.state_reason == staffing.INACTIVE_REASON
        status = {s.profile.adviser_id: s for s in ready_store(services, session).snapshot().advisers}
        assert status[adviser_key(tom.id)].state == "offline", "routing's live copy says offline too"
        assert offer_slots(session, Topic.COUNCIL_TAX, clock.now(), None) == []
        assert advisers_next_expected(session, Topic.COUNCIL_TAX, clock.now()) is None
        assert supervision.advisers_for_topic(session, Topic.COUNCIL_TAX) == []
    with services.session_factory.begin() as session, pytest.raises(TransitionNotAllowed) as refused:
        adviser_states.change_state(services, session, council["tom"], "available", None)
    assert "not active" in refused.value.message
    assert audit(services, "adviser.changed")[-1].after == {"is_active": False}


def test_an_adviser_on_a_call_is_not_made_inactive_until_it_ends(services, council):
    with services.session_factory.begin() as session:
        session.get_one(Adviser, council["tom"]).state = AdviserState.ON_CALL
    with services.session_factory.begin() as session, pytest.raises(AdviserRefused) as refused:
        staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(home_library_id=council["library"], is_active=False),
            council["boss_user"],
        )
    assert "on a call" in refused.value.errors["is_active"]


def test_a_day_off_sick_removes_the_advisers_callback_slots_and_moves_next_expected(services, council, clock):
    now = clock.now()  # Wednesday 25 November 2026, 10:00
    today = now.astimezone(LONDON).date()
    with services.session_factory() as session:
        before_slots = offer_slots(session, Topic.COUNCIL_TAX, now, None)
        before_expected = advisers_next_expected(session, Topic.COUNCIL_TAX, now)
    assert before_slots[0].starts_at == local(today, 11)
    assert before_expected == local(today + timedelta(days=1), 9), "tomorrow's shift start"

    with services.session_factory.begin() as session:
        rota.add_exception(
            session, council["tom"], "sickness", today, None, "Rang in ill", now, council["boss"]
        )
        rota.add_exception(
            session,
            council["tom"],
            "leave",
            today + timedelta(days=1),
            today + timedelta(days=1),
            None,
            now,
            None,
        )
    with services.session_factory() as session:
        after_slots = offer_slots(session, Topic.COUNCIL_TAX, now, None)
        after_expected = advisers_next_expected(session, Topic.COUNCIL_TAX, now)
    assert after_slots[0].starts_at == local(today + timedelta(days=2), 9), "no slot today or tomorrow"
    assert after_expected == local(today + timedelta(days=2), 9)
    with services.session_factory() as session:
        assert rota.adviser_next_expected(session, council["tom"], now) == local(today + timedelta(days=2), 9)
    event = audit(services, "rota.away_added")[0]
    assert event.after == {
        "kind": "sickness",
        "starts_on": "2026-11-25",
        "ends_on": "2026-11-25",
        "note": "Rang in ill",
    }
    assert event.summary == "Tom Hirst away (sickness): 25 November 2026"

    with services.session_factory.begin() as session:
        first = session.scalars(select(RotaException.id).order_by(RotaException.id)).first()
        rota.remove_exception(session, council["tom"], first, now, council["boss"])
    with services.session_factory() as session:
        assert offer_slots(session, Topic.COUNCIL_TAX, now, None)[0].starts_at == local(today, 11)
    assert audit(services, "rota.away_removed")[0].before["kind"] == "sickness"


def test_days_away_are_checked(services, council, clock):
    now = clock.now()
    with services.session_factory.begin() as session, pytest.raises(rota.RotaRefused) as refused:
        rota.add_exception(
            session, council["tom"], "holiday", date(2026, 12, 3), date(2026, 12, 1), "n" * 201, now, None
        )
    assert set(refused.value.errors) == {"kind", "ends_on", "note"}
    with services.session_factory.begin() as session, pytest.raises(rota.RotaRefused) as refused:
        rota.add_exception(
            session, council["tom"], "leave", date(2026, 1, 1), date(2027, 3, 1), None, now, None
        )
    assert "inactive" in refused.value.errors["ends_on"]
    with pytest.raises(rota.RotaNotFound), services.session_factory.begin() as session:
        rota.add_exception(session, 2**40, "leave", date(2026, 12, 1), None, None, now, None)


def test_shifts_that_overlap_or_end_before_they_start_are_refused(services, council, clock):
    now = clock.now()
    with services.session_factory.begin() as session, pytest.raises(rota.RotaRefused) as refused:
        rota.add_shift(session, council["tom"], council["other"], 0, time(16), time(18), now, None)
    assert "already works 09:00 to 17:00 on Mondays" in refused.value.errors["starts"]
    with services.session_factory.begin() as session, pytest.raises(rota.RotaRefused) as refused:
        rota.add_shift(session, council["tom"], council["library"], 5, time(13), time(9), now, None)
    assert refused.value.errors == {"ends": "The end time must be after the start time."}
    with services.session_factory.begin() as session, pytest.raises(rota.RotaRefused) as refused:
        rota.add_shift(session, council["tom"], None, 9, None, None, now, None)
    assert set(refused.value.errors) == {"library_id", "weekday", "starts", "ends"}


def test_a_saturday_shift_is_added_and_removed_audited_and_seen_in_the_week(services, council, clock):
    now = clock.now()
    with services.session_factory.begin() as session:
        shift = rota.add_shift(
            session, council["tom"], council["other"], 5, time(17), time(19), now, council["boss"]
        )
        shift_id = shift.id
    with services.session_factory() as session:
        week = rota.week_of(session, date(2026, 11, 23), library_id=council["other"])
    assert [row.name for row in week.advisers] == ["Tom Hirst"]
    saturday = week.advisers[0].days[5]
    assert saturday.shifts == ((shift_id, "17:00 to 19:00", "Dewsbury"),)
    assert week.advisers[0].days[0].shifts == (), "Monday's shift is at Huddersfield, not here"
    assert (
        audit(services, "rota.shift_added")[0].summary
        == "Tom Hirst now works Saturdays 17:00 to 19:00 at Dewsbury"
    )

    with services.session_factory.begin() as session:
        rota.remove_shift(session, council["tom"], shift_id, now, council["boss"])
    assert audit(services, "rota.shift_removed")[0].before["weekday"] == "Saturday"
    with pytest.raises(rota.RotaNotFound), services.session_factory.begin() as session:
        rota.remove_shift(session, council["tom"], shift_id, now, None)


def test_a_caller_waiting_for_an_inactive_advisers_skill_is_not_offered_to_them(services, council, clock):
    from routing.engine import WaitingCaller

    with services.session_factory.begin() as session:
        staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(home_library_id=council["library"], is_active=False),
            council["boss_user"],
        )
    caller = WaitingCaller("CA" + "7" * 32, "council_tax", "en-GB", "Huddersfield", clock.now())
    with services.session_factory() as session:
        store = ready_store(services, session)
        store.add_waiting(caller)
        assert store.try_assign(clock.now()) is None

    with services.session_factory.begin() as session:  # back at work: the same caller reaches him
        staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(home_library_id=council["library"]),
            council["boss_user"],
        )
    with services.session_factory.begin() as session:
        adviser_states.change_state(services, session, council["tom"], "available", None)
    with services.session_factory() as session:
        assignment = ready_store(services, session).try_assign(clock.now())
    assert assignment is not None and assignment.adviser_id == adviser_key(council["tom"])


def test_a_callback_cannot_be_given_to_an_inactive_adviser(services, council, clock):
    from callbacks.service import request_callback
    from models import CallbackStatus

    with services.session_factory.begin() as session:
        callback_id = request_callback(
            session, "+447400123456", Topic.COUNCIL_TAX, clock.now(), status=CallbackStatus.SCHEDULED
        ).callback.id
        staffing.update_adviser(
            services,
            session,
            council["tom"],
            details(home_library_id=council["library"], is_active=False),
            council["boss_user"],
        )
    with services.session_factory.begin() as session, pytest.raises(supervision.CallbackRefused) as refused:
        supervision.reassign_callback(session, callback_id, council["tom"], clock.now(), council["boss"])
    assert "not active" in refused.value.message
