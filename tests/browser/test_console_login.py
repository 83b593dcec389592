"""The console's sign-in page, used with the keyboard alone, in headless Chromium against the live app."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Page, expect

from models.demo import DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.browser


@pytest.fixture
def login_page(live_service, page: Page) -> Page:
    with live_service.services.session_factory.begin() as session:
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        seed_demo(session, live_service.clock.now(), password_hasher=cheap)
    page.goto(f"{live_service.base_url}/console/login")
    return page


def test_an_adviser_signs_in_with_the_keyboard_only_after_fixing_a_wrong_password(login_page: Page):
    page = login_page
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    expect(page.get_by_label("Username")).to_be_focused()  # the form starts where typing starts

    page.keyboard.type("aisha")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The username or password is not right.")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_contain_text("The username or password is not right.")
    expect(page.get_by_label("Username")).to_have_value("aisha")  # what was typed is kept

    # From the error summary, Tab reaches its link, and the link takes the keyboard to the field at fault.
    alert.focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(password).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Signed in as Aisha Khan")
    expect(page.locator("#adviser-state")).to_contain_text("offline")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign out")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")


def test_after_too_many_wrong_passwords_the_page_says_plainly_to_wait(login_page: Page):
    page = login_page
    for _ in range(6):  # LOGIN_ATTEMPTS_PER_ACCOUNT is 5
        page.get_by_label("Username").fill("tom")
        page.get_by_label("Password").fill("guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("There have been too many wrong passwords. Wait a minute, then try again.")
    expect(page.get_by_label("Username")).to_have_value("tom")

    page.get_by_label("Password").fill(DEMO_PASSWORD)  # the right password does not get past the limit either
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("too many wrong passwords")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
