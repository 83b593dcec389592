"""A supervisor reads the reports in headless Chromium over two days worked out by hand (tests/report_day.py),
by keyboard alone: the range typed in, the headline service level, speed of answer and abandonment, a report's
chart drawn from its table, and its CSV downloaded and compared with the table. axe on each page, 200 % zoom,
screenshots kept. And an adviser is refused every supervisor page the app has.
"""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import Page, expect

from models import Role, User
from models.demo import DEMO_PASSWORD
from simulator.live import CouncilLine
from tests import report_day as known
from tests.browser.staff_pages import (
    check,
    record_problems,
    sign_in,
    tab_to,
    zoomed_to_200_percent,
)
from tests.staff import CHEAP_HASHER

pytestmark = pytest.mark.browser
PASSWORD = "a long report password"


@pytest.fixture
def known_days(live_service):
    """The two days, and a supervisor to read them (no demo council: its libraries would be counted too)."""
    services = live_service.services
    with services.session_factory.begin() as session:
        known.seed_report_days(session)
        session.add(
            User(
                username="s.report",
                display_name="Sam Report",
                role=Role.SUPERVISOR,
                password_hash=CHEAP_HASHER.hash(PASSWORD),
                created_at=services.clock.now(),
            )
        )
    return live_service


def type_into(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label, exact=True)
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def chart_of(page: Page, table_id: str) -> dict:
    page.wait_for_function(f"window.ReportCharts && window.ReportCharts.charts.has({table_id!r})")
    return page.evaluate(
        f"""() => {{
            const chart = window.ReportCharts.charts.get({table_id!r});
            return {{labels: chart.data.labels,
                     series: chart.data.datasets.map(d => [d.label, d.data])}};
        }}"""
    )


def test_a_supervisor_reads_two_days_by_keyboard_and_the_csv_matches_the_table(
    known_days, page: Page, output_path: str
):
    base = known_days.base_url
    problems = record_problems(page, base)
    sign_in(page, base, "s.report", PASSWORD)
    page.goto(f"{base}/console/supervisor/reports")
    type_into(page, "From", "02/11/2026")
    type_into(page, "Until", "03/11/2026")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="2 November 2026 to 3 November 2026")).to_be_visible()
    headline = page.locator("#headline")
    expect(headline.locator("#headline-service-level")).to_have_text("37.5%")  # 3 of 8, by hand
    expect(headline.locator("#headline-speed-of-answer")).to_have_text("80 s")
    expect(headline.locator("#headline-abandonment")).to_have_text("37.5%")
    expect(headline.locator("#headline-calls")).to_have_text("12")
    hours = chart_of(page, "calls-by-hour")
    assert hours["labels"] == [f"{h:02d}:00 to {h + 1:02d}:00" for h in known.BY_HOUR]
    assert hours["series"][0] == ["Calls", [calls for calls, _ in known.BY_HOUR.values()]]
    expect(page.locator(".report-chart[role=img]")).to_have_attribute(
        "aria-label", re.compile("^Chart: Calls by hour of the day")
    )
    check(page, output_path, "1-reports")

    report_link = page.get_by_role("link", name="Service level", exact=True)
    tab_to(page, report_link, most=80)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Service level", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Service level by day")
    expect(table.get_by_role("row", name=re.compile("^Mon 2 Nov 2026 40.0%"))).to_be_visible()
    expect(table.get_by_role("row", name=re.compile("^All days 37.5%"))).to_be_visible()
    line = chart_of(page, "service-level-1")
    assert line["labels"] == ["Mon 2 Nov 2026", "Tue 3 Nov 2026"]
    assert line["series"] == [["Service level", [0.4, round(1 / 3, 4)]]]
    check(page, output_path, "2-service-level")

    download_link = page.get_by_role("link", name=re.compile("^Download these figures as CSV"))
    tab_to(page, download_link, most=80)
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "service-level-2026-11-02-to-2026-11-03.csv"
    with open(download.value.path(), newline="") as saved:
        rows = list(csv.reader(saved))
    shown = [
        [cell.strip() for cell in row.split("\t")]
        for row in table.locator("tbody tr, tfoot tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()).join('\\t'))"
        )
    ]
    assert [row[0] for row in rows[1:]] == [row[0] for row in shown]
    assert [row[1] + "%" for row in rows[1:]] == [row[1] for row in shown]
    assert [row[2:] for row in rows[1:]] == [row[2:] for row in shown]

    with zoomed_to_200_percent(page):
        check(page, output_path, "3-service-level-200-percent")
    assert problems == []


def test_an_adviser_is_refused_every_supervisor_page(live_service, page: Page, output_path: str):
    CouncilLine(live_service).install_demo_council()
    base = live_service.base_url
    sign_in(page, base, "aisha", DEMO_PASSWORD)
    navigation = page.get_by_role("navigation", name="Console")
    expect(navigation.get_by_role("link", name="Desk")).to_be_visible()
    for name in ("Wallboard", "Reports", "Libraries", "Accounts", "Audit"):
        expect(navigation.get_by_role("link", name=name)).to_have_count(0)
    pages = sorted(
        {
            re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)
            for rule in live_service.app.url_map.iter_rules()
            if rule.endpoint.startswith("supervisor.") and "GET" in (rule.methods or ())
        }
    )
    assert "/console/supervisor/reports" in pages and len(pages) > 10
    for path in pages:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_contain_text("cannot")
    check(page, output_path, "adviser-refused")
