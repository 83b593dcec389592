"""The console's sign-in page and home, used with the keyboard alone, in headless Chromium against the live app.

Every state is checked by axe at 1280 px and at 200 % zoom, and kept as a screenshot in test-results/.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Page, expect

from models.demo import DEMO_PASSWORD, seed_demo
from tests.browser.staff_pages import (
    assert_accessible,
    keep_screenshot,
    record_problems,
    tab_to,
    zoomed_to_200_percent,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def login_page(live_service, page: Page) -> Page:
    with live_service.services.session_factory.begin() as session:
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        seed_demo(session, live_service.clock.now(), password_hasher=cheap)
    page.goto(f"{live_service.base_url}/console/login")
    return page


def test_an_adviser_signs_in_with_the_keyboard_only_after_fixing_a_wrong_password(
    live_service, login_page: Page, output_path: str
):
    page = login_page
    problems = record_problems(page, live_service.base_url)
    page.reload()
    expect(page).to_have_title("Sign in – Kirklees Council contact centre")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    expect(page.get_by_label("Username")).to_be_focused()  # the form starts where typing starts
    # GOV.UK Frontend's JavaScript ran: it shows the password input's "Show" button, hidden without it.
    expect(page.get_by_role("button", name="Show password")).to_be_visible()
    assert_accessible(page)
    keep_screenshot(page, output_path, "sign-in")

    page.keyboard.type("aisha")
    page.keyboard.press("Tab")
    password = page.get_by_label("Password", exact=True)
    expect(password).to_be_focused()
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The username or password is not right.")
    expect(page).to_have_title("Error: Sign in – Kirklees Council contact centre")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_contain_text("The username or password is not right.")
    expect(page.get_by_label("Username")).to_have_value("aisha")  # what was typed is kept
    assert_accessible(page)
    keep_screenshot(page, output_path, "sign-in-wrong-password")
    with zoomed_to_200_percent(page):
        assert_accessible(page)
        keep_screenshot(page, output_path, "sign-in-wrong-password-200-percent")

    # The error summary takes the focus as the page opens (GOV.UK Frontend), so a screen reader reads it first;
    # from it Tab reaches its link, and the link takes the keyboard to the field at fault.
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.keyboard.press("Tab")
    expect(alert.get_by_role("link", name="The username or password is not right.")).to_be_focused()
    page.keyboard.press("Enter")
    expect(password).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Signed in as Aisha Khan")
    expect(page.locator("#adviser-state")).to_contain_text("Offline")
    header = page.get_by_role("banner")
    expect(header).to_contain_text("Aisha Khan (adviser)")
    expect(
        header.get_by_role("navigation", name="Console").get_by_role("link", name="Home")
    ).to_have_attribute("aria-current", "page")
    assert_accessible(page)
    keep_screenshot(page, output_path, "signed-in")

    # The first Tab stop is the skip link, and it leads past the header to the page's own content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main-content")).to_be_focused()

    page.reload()  # from the top of the page again, Tab reaches the header's sign-out button
    tab_to(page, header.get_by_role("button", name="Sign out"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert problems == []


def test_at_200_percent_zoom_a_supervisor_signs_in_and_out_with_the_keyboard(
    login_page: Page, output_path: str
):
    page = login_page
    with zoomed_to_200_percent(page):
        assert_accessible(page)
        keep_screenshot(page, output_path, "sign-in-200-percent")
        page.keyboard.type("supervisor")
        page.keyboard.press("Tab")
        page.keyboard.type(DEMO_PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Signed in as Demo Supervisor")
        expect(page.locator("#adviser-state")).to_have_count(0)  # a supervisor has no adviser state
        page.reload()  # measure the signed-in page as it opens at this width
        assert_accessible(page)
        keep_screenshot(page, output_path, "signed-in-200-percent")
        # A supervisor has more than one page, so at this width the navigation folds into its Menu button.
        tab_to(page, page.get_by_role("button", name="Menu"))
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_role("button", name="Sign out"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")


def test_after_too_many_wrong_passwords_the_page_says_plainly_to_wait(login_page: Page, output_path: str):
    page = login_page
    for _ in range(6):  # LOGIN_ATTEMPTS_PER_ACCOUNT is 5
        page.get_by_label("Username").fill("tom")
        page.get_by_label("Password", exact=True).fill("guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("There have been too many wrong passwords. Wait a minute, then try again.")
    expect(page.get_by_label("Username")).to_have_value("tom")
    assert_accessible(page)
    keep_screenshot(page, output_path, "too-many-wrong-passwords")

    page.get_by_label("Password", exact=True).fill(
        DEMO_PASSWORD
    )  # the right password does not get past either
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("too many wrong passwords")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
