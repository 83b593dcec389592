"""A supervisor watches the wallboard in headless Chromium against the live app and its simulated Twilio.

A simulated resident rings and reaches the queue, and an adviser's state changes, while the supervisor only
watches: the figures change without a reload (the live stream, then the figures fragment). Then the same by
keyboard alone, into big-screen mode and out again. axe on every state (no violation at all, big screen
included), at 200 % zoom too, each state kept as a screenshot.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import Adviser
from models.demo import DEMO_PASSWORD
from routing import advisers
from simulator.live import CouncilLine
from tests.browser.staff_pages import (
    assert_accessible,
    check,
    keep_screenshot,
    record_problems,
    tab_to,
    zoomed_to_200_percent,
)
from tests.browser.test_desk import resident_rings_and_keys_their_account

pytestmark = pytest.mark.browser


@pytest.fixture
def council(live_service) -> CouncilLine:
    """The demo council with every adviser offline; no matcher runs, so a caller stays in the queue."""
    line = CouncilLine(live_service)
    line.install_demo_council()
    return line


def row(page: Page, table: str, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("table", name=table).get_by_role("row", name=re.compile(f"^{name} "))


def tom_goes_available(line: CouncilLine) -> None:
    """Tom changes his state at his desk (the routing service a desk's button calls)."""
    services = line.live.services
    with services.session_factory.begin() as session:
        tom = session.scalars(select(Adviser).where(Adviser.name == "Tom Hirst")).one()
        advisers.change_state(services, session, tom.id, "available", None)


def test_the_wallboard_shows_a_caller_waiting_and_an_advisers_state_change_without_a_reload(
    council: CouncilLine, page: Page, output_path: str
):
    base = council.live.base_url
    problems = record_problems(page, base)
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Wallboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wallboard")
    expect(page.locator("#waiting-now")).to_have_text("0")
    huddersfield_advisers = row(page, "Advisers by state, by library", "Huddersfield")
    expect(huddersfield_advisers.locator('[data-cell="available"]')).to_have_text("0")
    page.evaluate("window.stillTheSamePage = true")
    check(page, output_path, "1-quiet")

    resident_rings_and_keys_their_account(council)
    expect(page.locator("#waiting-now")).to_have_text("1")
    council_tax = row(page, "Callers and service today, by topic", "Council tax")
    expect(council_tax.locator('[data-cell="waiting"]')).to_have_text("1")
    expect(page.locator("#wallboard-announcer")).to_have_text(re.compile("^1 caller waiting, longest"))
    check(page, output_path, "2-a-caller-waiting")

    tom_goes_available(council)
    expect(huddersfield_advisers.locator('[data-cell="available"]')).to_have_text("1")
    expect(huddersfield_advisers.locator('[data-cell="offline"]')).to_have_text("2")
    expect(page.locator("#waiting-now")).to_have_text("1")  # nobody matched him: no worker runs here
    assert page.evaluate("window.stillTheSamePage") is True
    check(page, output_path, "3-tom-available")
    with zoomed_to_200_percent(page):
        assert_accessible(page)
        keep_screenshot(page, output_path, "3-tom-available-200-percent")
    assert problems == []


def test_a_supervisor_uses_the_wallboard_and_its_big_screen_by_keyboard_alone(
    council: CouncilLine, page: Page, output_path: str
):
    base = council.live.base_url
    problems = record_problems(page, base)
    page.goto(f"{base}/console/login")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type("supervisor")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("navigation", name="Console").get_by_role("link", name="Wallboard"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wallboard")

    # The wide tables scroll in panes the keyboard reaches (and arrows scroll).
    pane = page.get_by_role("region", name="Advisers by state, by library")
    tab_to(page, pane, most=80)
    check(page, output_path, "1-table-pane-focused")

    page.keyboard.press("Shift+Tab")
    tab_to(page, page.get_by_role("link", name="Big-screen mode"), most=80)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/console/supervisor/wallboard\?big=1$"))
    expect(page.get_by_role("navigation", name="Console")).to_have_count(0)
    expect(page.locator("#waiting-now")).to_have_class(re.compile("govuk-!-font-size-80"))
    check(page, output_path, "2-big-screen")

    resident_rings_and_keys_their_account(council)
    expect(page.locator("#waiting-now")).to_have_text("1")  # the big screen is live too
    check(page, output_path, "3-big-screen-a-caller-waiting")
    with zoomed_to_200_percent(page):
        assert_accessible(page)
        keep_screenshot(page, output_path, "3-big-screen-200-percent")

    tab_to(page, page.get_by_role("link", name="Leave big-screen mode"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/console/supervisor/wallboard$"))
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    check(page, output_path, "4-back-to-the-page")
    # Leaving a page cuts its event stream short (Chromium reports that as a failed request); nothing else failed.
    assert [problem for problem in problems if not problem.endswith("/console/events")] == []
