"""A supervisor looks after advisers and the rota in headless Chromium against the live app: changes an
adviser's languages and skills by keyboard alone, then marks them off sick for today and sees the rota and
"when advisers are next expected" change. Every state is checked with axe and kept as a screenshot."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ivr.hours import LONDON
from models import Adviser, RotaException
from models.demo import DEMO_PASSWORD
from simulator.live import CouncilLine
from tests.browser.staff_pages import (
    check,
    keep_screenshot,
    record_problems,
    tab_to,
    zoomed_to_200_percent,
)

pytestmark = pytest.mark.browser

WEDNESDAY_EARLY = datetime(2026, 11, 25, 8, 0, tzinfo=LONDON)  # before anyone's shift starts


@pytest.fixture
def council(live_service) -> CouncilLine:
    live_service.clock.set(WEDNESDAY_EARLY)
    line = CouncilLine(live_service)
    line.install_demo_council()
    return line


def test_a_supervisor_changes_an_advisers_skills_by_keyboard_and_marks_them_off_sick_today(
    council: CouncilLine, page: Page, output_path: str
):
    base = council.live.base_url
    problems = record_problems(page, base)
    with council.live.services.session_factory() as session:
        tom = session.scalars(select(Adviser.id).where(Adviser.name == "Tom Hirst")).one()
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Advisers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Advisers")
    expect(page.locator("#advisers-count")).to_have_text("20 advisers")
    check(page, output_path, "1-advisers")
    with zoomed_to_200_percent(page):
        keep_screenshot(page, output_path, "1-advisers-200-percent")

    page.get_by_role("link", name="Tom Hirst").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tom Hirst")
    expect(page.locator("#adviser-summary")).to_contain_text("Council tax: 4 – experienced")
    check(page, output_path, "2-adviser")

    # By keyboard alone: tick Polish, give him housing benefit at level 2, save.
    tab_to(page, page.get_by_label("Polish"))
    page.keyboard.press("Space")
    expect(page.get_by_label("Polish")).to_be_checked()
    housing = page.get_by_label("Housing benefit")
    tab_to(page, housing)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(housing).to_have_value("2")
    tab_to(page, page.get_by_role("button", name="Save changes"), most=60)
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Important")).to_contain_text("Saved: languages, skills changed.")
    summary = page.locator("#adviser-summary")
    expect(summary).to_contain_text("English, Polish")
    expect(summary).to_contain_text("Housing benefit: 2 – some experience")
    check(page, output_path, "3-saved")
    with zoomed_to_200_percent(page):
        keep_screenshot(page, output_path, "3-saved-200-percent")

    # A bad phone number: told which field, what was typed kept, on the same page.
    page.get_by_label("On a phone").check()
    page.get_by_label("Phone number for their calls").fill("0900 123 4567")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("premium rate")
    expect(page.get_by_label("Phone number for their calls")).to_have_value("0900 123 4567")
    check(page, output_path, "4-bad-number")

    page.locator("#adviser-rota").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tom Hirst's rota")
    expected = page.locator("#next-expected")
    expect(expected).to_contain_text("Wednesday 25 November, 09:00")
    today = page.locator(f"#rota-{tom}-2026-11-25")
    expect(today).to_contain_text("09:00 to 17:00")
    expect(today).to_contain_text("Huddersfield")
    expect(today).not_to_contain_text("Sickness")
    check(page, output_path, "5-rota")

    page.get_by_label("Sickness").check()
    dates = page.get_by_role("group", name="First day away")
    dates.get_by_label("Day").fill("25")
    dates.get_by_label("Month").fill("11")
    dates.get_by_label("Year").fill("2026")
    page.get_by_label("Note (optional)").fill("Rang in at 7:45")
    page.get_by_role("button", name="Record days away").click()
    expect(page.get_by_role("region", name="Important")).to_contain_text(
        "Recorded: away (sickness) 25 November."
    )
    expect(today).to_contain_text("Sickness")
    expect(today).to_contain_text("Not counted: 09:00 to 17:00")
    expect(expected).to_contain_text("Thursday 26 November, 09:00")
    expect(page.locator("#days-away")).to_contain_text(
        re.compile(r"Sickness\s+25 November 2026: Rang in at 7:45")
    )
    check(page, output_path, "6-off-sick")
    with zoomed_to_200_percent(page):
        keep_screenshot(page, output_path, "7-off-sick-200-percent")

    with council.live.services.session_factory() as session:
        away = session.scalars(select(RotaException)).one()
        assert (away.adviser_id, away.kind.value) == (tom, "sickness")
    assert problems == []
