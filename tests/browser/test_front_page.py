"""The front page at `/`, found and left the way a newcomer does, with axe checking every page visited."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.staff_pages import (
    assert_accessible,
    keep_screenshot,
    record_problems,
    zoomed_to_200_percent,
)

pytestmark = pytest.mark.browser


def test_a_newcomer_finds_the_phone_simulator_and_the_console_from_the_front_page(
    live_service, page: Page, output_path: str
):
    problems = record_problems(page, live_service.base_url)
    page.goto(f"{live_service.base_url}/")
    expect(page).to_have_title("Kirklees Council contact centre")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kirklees Council contact centre")
    expect(page.get_by_role("banner")).to_contain_text("Kirklees Council")
    expect(page.get_by_text("Simulator mode: no real calls are made")).to_be_visible()
    places = page.get_by_role("navigation", name="Where to go")
    expect(places.get_by_role("link")).to_have_count(2)
    assert_accessible(page)
    keep_screenshot(page, output_path, "front-page")
    with zoomed_to_200_percent(page):
        assert_accessible(page)
        keep_screenshot(page, output_path, "front-page-200-percent")

    places.get_by_role("link", name="Phone simulator").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phone simulator — no real calls are made")
    assert_accessible(page)

    page.go_back()
    page.get_by_role("link", name="Sign in to the console").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    assert_accessible(page)
    assert problems == []
