"""A supervisor closes a library now in an emergency, by keyboard alone, in headless Chromium against the live
app; then a new simulated call to the council hears the sentence they wrote. Every page is checked with axe and
kept as a screenshot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

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

FLOODING = "Huddersfield Library is closed from 10 am today because of flooding."


def test_an_emergency_closure_is_made_and_a_new_simulated_call_hears_its_sentence(
    live_service, page: Page, output_path: str
):
    CouncilLine(live_service).install_demo_council()
    base = live_service.base_url
    problems = record_problems(page, base)
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Libraries").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Libraries")
    huddersfield = page.get_by_role("row", name=re.compile("^Huddersfield"))
    expect(huddersfield).to_contain_text("Open")
    expect(huddersfield).to_contain_text("9 am to 5 pm")
    check(page, output_path, "1-libraries")
    with zoomed_to_200_percent(page):
        keep_screenshot(page, output_path, "1-libraries-200-percent")

    page.get_by_role("link", name="Huddersfield").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Huddersfield")
    check(page, output_path, "2-library")
    with zoomed_to_200_percent(page):
        keep_screenshot(page, output_path, "2-library-200-percent")

    # The emergency form, by keyboard alone: a reason for staff, the sentence callers hear, then Enter.
    tab_to(page, page.get_by_label("Why is it closed? (for staff)").first)
    page.keyboard.type("Flooding")
    sentence = page.get_by_label("What callers will hear").first
    tab_to(page, sentence)
    expect(sentence).to_have_value("Huddersfield Library is closed from 10 am today.")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(FLOODING)
    tab_to(page, page.get_by_role("button", name="Close this library now"))
    page.keyboard.press("Enter")

    banner = page.get_by_role("region", name="Important")
    expect(banner).to_contain_text("Huddersfield is closed from 10:00 on 25 Nov 2026.")
    expect(banner).to_contain_text(FLOODING)
    expect(page.locator("#status-now")).to_contain_text("Closed")
    expect(page.locator("#closures")).to_contain_text("Emergency")
    check(page, output_path, "3-closed-now")
    page.get_by_role("link", name="All libraries").click()
    expect(page.get_by_role("row", name=re.compile("^Huddersfield"))).to_contain_text("Flooding")

    # A resident rings and asks for an adviser: the queue would try Huddersfield's advisers first.
    page.goto(f"{base}/simulator")
    page.get_by_role("button", name=re.compile(r"^Dial ")).click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("For English, press 1.")
    page.keyboard.press("1")
    expect(transcript).to_contain_text("For council tax, press 1.")
    page.keyboard.press("0")
    expect(transcript).to_contain_text(FLOODING)
    keep_screenshot(page, output_path, "4-caller-hears-the-closure")
    assert problems == []


def test_an_emergency_closure_without_a_sentence_is_refused_with_an_error_summary(
    live_service, page: Page, output_path: str
):
    CouncilLine(live_service).install_demo_council()
    base = live_service.base_url
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("supervisor")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/console/supervisor/libraries")
    page.get_by_role("link", name="Batley").click()
    page.get_by_label("What callers will hear").first.fill("")
    page.get_by_role("button", name="Close this library now").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter why it is closed, for staff.")
    expect(summary).to_contain_text("Enter the sentence callers will hear")
    summary.get_by_role("link", name=re.compile("Enter the sentence")).click()
    expect(page.get_by_label("What callers will hear").first).to_be_focused()
    check(page, output_path, "refused")
