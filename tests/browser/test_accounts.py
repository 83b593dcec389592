"""A supervisor adds an adviser's account by keyboard alone (told first what is missing), reads the one-time
password, and the new adviser signs in with it and must choose their own password before anything else; the
supervisor then disables the account and the audit page shows both changes. Every state is checked with axe
and kept as a screenshot; the accounts list and the audit page are checked at 200 % zoom."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from models import Adviser, AdviserState, Library
from models.demo import DEMO_PASSWORD
from simulator.live import CouncilLine
from tests.browser.staff_pages import (
    assert_reflows,
    check,
    record_problems,
    sign_in,
    tab_to,
    zoomed_to_200_percent,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def council(live_service) -> CouncilLine:
    """The demo council plus an adviser, Nadia Akhtar, who has no account yet."""
    line = CouncilLine(live_service)
    line.install_demo_council()
    with live_service.services.session_factory.begin() as session:
        dewsbury = session.scalars(select(Library).where(Library.name == "Dewsbury")).one()
        session.add(
            Adviser(
                name="Nadia Akhtar",
                home_library_id=dewsbury.id,
                languages=["en-GB", "ur-PK"],
                client_identity="adviser-nadia",
                state=AdviserState.OFFLINE,
                state_since=live_service.clock.now(),
            )
        )
    return line


def test_a_supervisor_adds_an_account_the_adviser_chooses_a_password_then_it_is_disabled(
    council: CouncilLine, page: Page, browser: Browser, output_path: str
):
    base = council.live.base_url
    problems = record_problems(page, base)
    sign_in(page, base, "supervisor", DEMO_PASSWORD)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    check(page, output_path, "1-accounts")
    with zoomed_to_200_percent(page):
        assert_reflows(page)

    page.get_by_role("button", name="Add an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add an account")
    # By keyboard alone: a username and a name, but no adviser chosen yet.
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type("n.akhtar")
    tab_to(page, page.get_by_label("Name", exact=True))
    page.keyboard.type("Nadia Akhtar")
    tab_to(page, page.get_by_role("button", name="Add the account"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Choose the adviser this account is for")
    expect(page.get_by_label("Username")).to_have_value("n.akhtar")
    check(page, output_path, "2-adviser-missing")

    page.get_by_role("link", name=re.compile("Choose the adviser")).click()
    expect(page.locator("#adviser_id")).to_be_focused()
    page.locator("#adviser_id").select_option(label="Nadia Akhtar")
    tab_to(page, page.get_by_role("button", name="Add the account"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Account added for Nadia Akhtar")
    password = page.locator("#one-time-password").inner_text()
    assert re.fullmatch(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}", password)
    check(page, output_path, "3-one-time-password")

    # Nadia, in a browser of her own, signs in with it and must choose her own password first.
    nadias = browser.new_context(base_url=base)
    nadia = nadias.new_page()
    sign_in(nadia, base, "n.akhtar", password)
    expect(nadia.get_by_role("heading", level=1)).to_have_text("Choose your password")
    nadia.goto(f"{base}/console/desk")
    expect(nadia.get_by_role("heading", level=1)).to_have_text("Choose your password")
    nadia.get_by_label("One-time password").fill(password)
    nadia.get_by_label("New password", exact=True).fill("kettle ladder lantern")
    nadia.get_by_label("New password again").fill("kettle ladder lamp")
    nadia.get_by_role("button", name="Save my password").click()
    expect(nadia.get_by_role("alert")).to_contain_text("The two new passwords are not the same")
    check(nadia, output_path, "4-passwords-differ")
    nadia.get_by_label("One-time password").fill(password)
    nadia.get_by_label("New password", exact=True).fill("kettle ladder lantern")
    nadia.get_by_label("New password again").fill("kettle ladder lantern")
    nadia.get_by_role("button", name="Save my password").click()
    expect(nadia.get_by_role("region", name="Important")).to_contain_text("Your password is changed")
    expect(nadia.get_by_role("navigation", name="Console").get_by_role("link", name="Desk")).to_be_visible()

    # The supervisor disables the account: Nadia's next page is the sign-in page.
    page.get_by_role("link", name="Go to Nadia Akhtar's account").click()
    page.get_by_role("button", name="Disable Nadia Akhtar's account").click()
    expect(page.get_by_role("region", name="Important")).to_contain_text("is disabled")
    expect(page.locator("#account-summary")).to_contain_text("Disabled")
    check(page, output_path, "5-disabled")
    nadia.goto(f"{base}/console/")
    expect(nadia.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    nadias.close()

    page.get_by_role("link", name="Changes to this account").click()
    expect(page.locator("#changes-count")).to_have_text("3 changes to this record")
    table = page.locator("#audit-table")
    expect(table).to_contain_text("Account n.akhtar disabled")
    expect(table).to_contain_text("n.akhtar chose a new password")
    expect(table).to_contain_text("Account n.akhtar created")
    check(page, output_path, "6-audit")
    with zoomed_to_200_percent(page):
        assert_reflows(page)
    assert problems == []
