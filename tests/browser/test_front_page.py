"""The front page at `/`, found and left the way a newcomer does, with axe checking every page visited."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_a_newcomer_finds_the_phone_simulator_and_the_console_from_the_front_page(live_service, page: Page):
    page.goto(f"{live_service.base_url}/")
    expect(page).to_have_title("Kirklees Council contact centre")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kirklees Council contact centre")
    places = page.get_by_role("navigation", name="Where to go")
    expect(places.get_by_role("link")).to_have_count(2)
    assert_accessible(page)

    places.get_by_role("link", name="Phone simulator").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Phone simulator — no real calls are made")
    assert_accessible(page)

    page.go_back()
    page.get_by_role("link", name="Sign in to the console").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    assert_accessible(page)
