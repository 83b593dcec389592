"""A supervisor looks after callbacks in headless Chromium against the live app: filters the list by keyboard
alone, opens a callback, gives it to another adviser, and cancels another with a reason (after first being told
a reason is needed). Every state is checked with axe and kept as a screenshot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from callbacks.service import request_callback
from models import Adviser, CallbackStatus, Topic
from models.demo import DEMO_PASSWORD
from simulator.live import CouncilLine
from tests.browser.staff_pages import check, record_problems, tab_to

pytestmark = pytest.mark.browser


@pytest.fixture
def council(live_service) -> CouncilLine:
    """The demo council with two callbacks booked: council tax (11112222) and housing benefit (99998888)."""
    line = CouncilLine(live_service)
    line.install_demo_council()
    now = live_service.clock.now()
    with live_service.services.session_factory.begin() as session:
        for number, topic, reference in (
            ("+447400123456", Topic.COUNCIL_TAX, "11112222"),
            ("+447400123457", Topic.HOUSING_BENEFIT, "99998888"),
        ):
            request_callback(
                session, number, topic, now, reference=reference, status=CallbackStatus.SCHEDULED
            )
    return line


def test_a_supervisor_filters_callbacks_reassigns_one_and_cancels_another(
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
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Callbacks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Callbacks")
    expect(page.locator("#callbacks-count")).to_have_text("2 callbacks")
    check(page, output_path, "1-all-callbacks")

    # The filter, by keyboard alone: type part of a reference, tick a status, apply.
    tab_to(page, page.get_by_label("Reference"))
    page.keyboard.type("1111")
    tab_to(page, page.get_by_label("Scheduled"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Apply filters"))
    page.keyboard.press("Enter")
    expect(page.locator("#callbacks-count")).to_have_text("1 callback")
    expect(page.get_by_role("link", name=re.compile("Remove this filter: Reference"))).to_be_visible()
    check(page, output_path, "2-filtered")

    page.get_by_role("link", name=re.compile("11112222")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Council tax, reference 11112222")
    expect(page.locator("#no-attempts")).to_be_visible()
    check(page, output_path, "3-callback")

    page.get_by_label("Adviser").select_option(str(tom))
    page.get_by_role("button", name="Give callback to this adviser").click()
    expect(page.get_by_role("region", name="Important")).to_contain_text("now Tom Hirst's")
    expect(page.locator("#callback-summary")).to_contain_text("Tom Hirst")
    check(page, output_path, "4-reassigned")

    page.get_by_role("link", name="All callbacks").click()
    page.get_by_role("link", name=re.compile("99998888")).click()
    page.get_by_role("button", name="Cancel callback").click()
    expect(page.get_by_role("alert")).to_contain_text("Give a reason")
    check(page, output_path, "5-cancel-needs-a-reason")

    page.get_by_label("Why is it being cancelled?").fill("Resident came to the library instead")
    page.get_by_role("button", name="Cancel callback").click()
    expect(page.get_by_role("region", name="Important")).to_contain_text("is cancelled")
    expect(page.locator("#callback-summary")).to_contain_text("Resident came to the library instead")
    check(page, output_path, "6-cancelled")
    assert problems == []
