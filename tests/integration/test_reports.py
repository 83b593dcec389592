"""Every report's figures against two days worked out by hand (tests/report_day.py), on whichever database the
suite has (PostgreSQL in CI, SQLite by default); on PostgreSQL, each report's range is read through an index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from callbacks.reports import callbacks_by_day
from ivr.reports import menu_funnel
from routing import contact_reports, reports
from routing.reports import Period
from routing.service_level import ServiceRules
from tests import report_day as known

RULES = ServiceRules(answered_within=timedelta(seconds=60), short_abandon=timedelta(seconds=5))
PERIOD = Period(known.FIRST, known.LAST)


@pytest.fixture
def days(db):
    with db.begin():
        known.seed_report_days(db)
    return db


def test_calls_service_level_speed_of_answer_and_abandonment_by_day(days):
    rows = reports.by_day(days, PERIOD, RULES)
    assert [row.key for row in rows] == [known.FIRST, known.LAST]
    for row in rows:
        calls, answered, in_time, abandoned, short, to_callback, asa = known.BY_DAY[row.key]
        figures = row.service
        assert (row.calls, figures.answered, figures.answered_in_time) == (calls, answered, in_time)
        assert (figures.abandoned, figures.short_abandoned, figures.to_callback) == (
            abandoned,
            short,
            to_callback,
        )
        assert figures.average_speed_of_answer == pytest.approx(asa)
        assert figures.service_level == pytest.approx(known.SERVICE_LEVEL[row.key])
        assert figures.abandonment_rate == pytest.approx(known.ABANDONMENT[row.key])


def test_the_whole_period_in_one(days):
    whole = reports.overall(days, PERIOD, RULES)
    assert (whole.calls, whole.service.answered) == (known.WHOLE["calls"], known.WHOLE["answered"])
    assert whole.service.service_level == pytest.approx(known.WHOLE["service_level"])
    assert whole.service.abandonment_rate == pytest.approx(known.WHOLE["abandonment"])
    assert whole.service.average_speed_of_answer == pytest.approx(known.WHOLE["asa"])


def test_a_day_with_no_calls_is_listed_with_nothing_to_say(days):
    rows = reports.by_day(days, Period(known.LAST + timedelta(days=1), known.LAST + timedelta(days=1)), RULES)
    assert len(rows) == 1 and rows[0].calls == 1  # the Wednesday 00:00 caller
    rows = reports.by_day(days, Period(known.LAST + timedelta(days=2), known.LAST + timedelta(days=3)), RULES)
    assert [(row.calls, row.service.service_level) for row in rows] == [(0, None), (0, None)]


def test_calls_by_hour_of_the_councils_clock(days):
    rows = reports.by_hour(days, PERIOD, RULES)
    assert {row.key: (row.calls, row.service.answered) for row in rows} == known.BY_HOUR


def test_when_callers_give_up(days):
    bands = reports.give_up_waits(days, PERIOD, RULES)
    assert [count for _, count in bands] == known.GIVE_UP
    assert bands[0][0].startswith("under 5 seconds")


def test_load_per_library(days):
    rows = reports.library_load(days, PERIOD, RULES)
    found = {row.library: (row.callers.joined, row.answered_by_its_advisers) for row in rows}
    assert found == {library: figures[:2] for library, figures in known.LIBRARY_LOAD.items()}
    for row in rows:
        assert row.callers.service_level == pytest.approx(known.LIBRARY_LOAD[row.library][2])


def test_callbacks_kept_late_failed(days):
    rows = callbacks_by_day(days, PERIOD, grace=timedelta(minutes=5))
    assert {
        row.day: (row.booked, row.kept, row.late, row.failed, row.cancelled, row.open) for row in rows
    } == known.CALLBACKS
    assert rows[0].kept_rate == pytest.approx(1 / 3)


def test_wrap_up_codes_and_avoidable_contacts(days):
    codes, uncoded = contact_reports.wrap_up_codes(days, PERIOD)
    assert {row.code: row.contacts for row in codes} == known.WRAP_UP_CODES
    assert codes[0].label == "Council tax payment arrangement" and uncoded == known.UNCODED
    avoidable = contact_reports.avoidable_contacts(days, PERIOD)
    assert (avoidable.coded, avoidable.avoidable) == (known.AVOIDABLE["coded"], known.AVOIDABLE["avoidable"])
    assert {row.code: row.contacts for row in avoidable.by_cause} == {
        "chasing_progress": 2,
        "letter_not_understood": 1,
    }
    assert avoidable.by_cause[0].label == "Chasing progress"


def test_repeat_contacts_within_7_14_and_28_days_by_topic(days):
    rows = contact_reports.repeat_contacts(days, PERIOD)
    assert {row.topic: (row.contacts, *row.repeated.values()) for row in rows} == known.REPEATS
    assert rows[-1].rate(28) == pytest.approx(3 / 9)


def test_the_menu_funnel_by_flow_version(days):
    versions = menu_funnel(days, PERIOD.since, PERIOD.until)
    assert [(v.flow, v.version) for v in versions] == [("report-days", 1), ("report-days", 2)]
    for version in versions:
        assert {
            step.node: (step.reached, step.asked_for_person, step.not_understood, step.hung_up_here)
            for step in version.steps
        } == known.FUNNEL[version.version]
    assert [step.node for step in versions[0].steps] == ["welcome", "topic"]  # the order callers meet them


def test_each_reports_range_is_read_through_an_index(days):
    """The big tables' ranges are searched through an index (on PostgreSQL with sequential scans priced out, so
    the plan shows whether one exists at all, whatever the table's size)."""
    postgresql = days.bind.dialect.name == "postgresql"
    if postgresql:
        days.execute(text("SET LOCAL enable_seqscan = off"))
    explain = "EXPLAIN" if postgresql else "EXPLAIN QUERY PLAN"
    for table, column in (
        ("call", "started_at"),
        ("queue_entry", "joined_at"),
        ("callback", "created_at"),
        ("wrap_up", "started_at"),
    ):
        rows = days.execute(
            text(f"{explain} SELECT count(*) FROM {table} WHERE {column} >= :since AND {column} < :until"),
            {"since": PERIOD.since, "until": PERIOD.until},
        ).all()
        plan = "\n".join(str(row[-1]) for row in rows)
        assert f"ix_{table}_{column}" in plan, plan
    days.rollback()
