"""The reports pages over the two days worked by hand (tests/report_day.py): the headline figures, every report
page with its table, the CSV the same as the table, and wrong ranges answered with field errors (400)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from console.supervisor import report_tables
from models import Role, User
from tests import report_day as known
from tests.staff import CHEAP_HASHER, signed_in

RANGE = {"from": "02/11/2026", "until": "03/11/2026"}


@pytest.fixture
def supervisor(app, db, clock):
    with db.begin():
        known.seed_report_days(db)
        user = User(
            username="s.report",
            display_name="Sam Report",
            role=Role.SUPERVISOR,
            password_hash=CHEAP_HASHER.hash("not used"),
            created_at=clock.now(),
        )
        db.add(user)
    return signed_in(app, user)


def headline(html: str, name: str) -> str:
    found = re.search(rf'id="headline-{name}">([^<]*)<', html)
    assert found, name
    return found[1]


def test_the_reports_page_gives_the_ranges_service_level_speed_of_answer_and_abandonment(supervisor):
    response = supervisor.get("/console/supervisor/reports", query_string=RANGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert headline(html, "calls") == "12"
    assert headline(html, "service-level") == "37.5%"  # 3 of 8
    assert headline(html, "speed-of-answer") == "80 s"
    assert headline(html, "abandonment") == "37.5%"
    assert headline(html, "short-abandons") == "1"
    assert "Callers answered within 60 seconds" in html  # the definitions, on the page
    assert 'data-chart="bar"' in html and "chart.umd.min.js" in html
    for key in report_tables.KEYS:
        assert f"/console/supervisor/reports/{key}?from=02/11/2026&amp;until=03/11/2026" in html


def test_with_no_range_the_reports_are_for_today(supervisor, clock):
    html = supervisor.get("/console/supervisor/reports").get_data(as_text=True)
    assert clock.now().strftime("%d/%m/%Y") in html


@pytest.mark.parametrize("key", sorted(report_tables.KEYS))
def test_every_report_page_shows_its_definition_table_and_csv_link(supervisor, key):
    response = supervisor.get(f"/console/supervisor/reports/{key}", query_string=RANGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="report-definition"' in html and "<table" in html and 'id="download-csv"' in html


def _csv(client, key: str) -> list[list[str]]:
    response = client.get(f"/console/supervisor/reports/{key}.csv", query_string=RANGE)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="{key}-2026-11-02-to-2026-11-03.csv"' in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_service_level_csv_holds_the_figures_worked_by_hand(supervisor):
    rows = _csv(supervisor, "service-level")
    assert rows[0] == ["Day", "Service level (%)", "Answered within 60 s", "Answered", "Abandoned"]
    assert rows[1:] == [
        ["Mon 2 Nov 2026", "40.0", "2", "3", "2"],
        ["Tue 3 Nov 2026", "33.3", "1", "2", "1"],
        ["All days", "37.5", "3", "5", "3"],
    ]


def test_the_csv_and_the_table_say_the_same(supervisor):
    for key in ("calls-by-day", "callbacks", "repeat-contacts", "library-load", "abandonment", "menu"):
        html = supervisor.get(f"/console/supervisor/reports/{key}", query_string=RANGE).get_data(as_text=True)
        labels = re.findall(r'<th scope="row" class="govuk-table__header">([^<]*)</th>', html)
        rows = [row for row in _csv(supervisor, key) if row]
        several = rows[0][0] == "Table"
        csv_labels = [row[1] if several else row[0] for row in rows if row[0] != "Table" and row != rows[0]]
        assert csv_labels == labels, key


def test_callbacks_and_the_menu_by_version_in_csv(supervisor):
    assert _csv(supervisor, "callbacks")[1][:7] == ["Mon 2 Nov 2026", "4", "1", "1", "1", "1", "0"]
    menu = _csv(supervisor, "menu")
    assert ["Flow report-days, version 1", "topic", "2", "0", "1", "1"] in menu
    assert ["Flow report-days, version 2", "welcome", "2", "0", "1", "1"] in menu


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "31/02/2026"}, "from", "The first day must be a real date"),
        ({"from": "03/11/2026", "until": "02/11/2026"}, "until", "same as or after the first"),
        ({"from": "01/01/2025", "until": "02/01/2026"}, "until", "at most a year"),
        ({"from": "x" * 500}, "from", "Keep this to"),
    ],
)
def test_a_wrong_range_is_a_field_error_never_a_500(supervisor, query, field, message):
    for path in ("/console/supervisor/reports", "/console/supervisor/reports/service-level"):
        response = supervisor.get(path, query_string=query)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "There is a problem" in html and f'href="#{field}"' in html and message in html
    response = supervisor.get("/console/supervisor/reports/service-level.csv", query_string=query)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_an_unknown_report_is_not_found(supervisor):
    assert supervisor.get("/console/supervisor/reports/no-such-report").status_code == 404
    assert supervisor.get("/console/supervisor/reports/no-such-report.csv").status_code == 404


def test_a_label_that_looks_like_a_formula_is_not_one_in_the_csv():
    table = report_tables.Table(
        "t", (report_tables.Column("Reason", "text"), report_tables.Column("n")), [('=HYPERLINK("x")', 1)]
    )
    text = report_tables.as_csv(report_tables.Report("k", "T", "s", "d", [table]))
    assert list(csv.reader(io.StringIO(text)))[1] == ['\'=HYPERLINK("x")', "1"]
