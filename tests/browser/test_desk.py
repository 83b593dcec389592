"""An adviser's day at the desk, in headless Chromium against the live app and its simulated Twilio.

The adviser signs in and goes available; a simulated resident rings in and keys their account number; the
screen pop shows the reference, the journey and an earlier contact before the adviser accepts; the call bridges,
ends and is coded, and the adviser is available again: once by mouse, once by keyboard alone. Every state is
checked with axe (nothing serious or critical), the offer also at 200 % zoom, and kept as a screenshot.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import (
    Adviser,
    AdviserState,
    WrapUp,
    WrapUpStatus,
)
from models.demo import DEMO_PASSWORD
from routing.matching import match_now
from simulator.live import CouncilLine
from tests.browser.staff_pages import (
    BLOCKING_IMPACTS,
    assert_accessible,
    keep_screenshot,
    record_problems,
    tab_to,
    zoomed_to_200_percent,
)
from tests.staff import add_earlier_coded_contact

pytestmark = pytest.mark.browser

RESIDENT = "+447400123456"
ACCOUNT = "12345678"
RING = 20_000  # ms: an offer reaches the desk through the matcher, the live stream and the softphone's poll


@pytest.fixture
def council(live_service) -> CouncilLine:
    """The demo council, an earlier coded call from the resident (three days ago), and a worker's matcher."""
    line = CouncilLine(live_service)
    line.install_demo_council()
    services = live_service.services
    now = live_service.clock.now()
    with services.session_factory.begin() as session:
        aisha = session.scalars(select(Adviser).where(Adviser.name == "Aisha Khan")).one()
        add_earlier_coded_contact(session, RESIDENT, aisha.id, now - timedelta(days=3), "CA" + "e" * 32)
    stop = threading.Event()

    def matcher() -> None:  # what the RQ worker does when a caller joins (see routing.live.request_matching)
        while not stop.wait(0.2):
            match_now(services)

    thread = threading.Thread(target=matcher, daemon=True)
    thread.start()
    yield line
    stop.set()
    thread.join(timeout=10)


def resident_rings_and_keys_their_account(line: CouncilLine):  # type: ignore[no-untyped-def]
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_=RESIDENT)
    for keys in (
        "1",
        "1",
        "1",
        ACCOUNT,
        "1",
    ):  # English, council tax, paying a bill, the account, that's right
        call.press(keys)
    assert call.in_queue
    return call


def tom_state(line: CouncilLine) -> AdviserState:
    with line.live.services.session_factory() as session:
        return session.scalars(select(Adviser.state).where(Adviser.name == "Tom Hirst")).one()


def check(page: Page, output_path: str, name: str) -> None:
    assert_accessible(page, impacts=BLOCKING_IMPACTS)
    keep_screenshot(page, output_path, name)


def expect_screen_pop(page: Page) -> None:
    expect(page.locator("#pop-title")).to_have_text("Incoming call", timeout=RING)
    pop = page.locator("#region-call")
    expect(pop.locator("#pop-reference")).to_contain_text(ACCOUNT)
    expect(pop.locator("#pop-reference")).to_contain_text("confirmed by the caller")
    expect(pop).to_contain_text("Council tax → Paying a bill")
    expect(pop.locator("#previous-contacts")).to_contain_text("Council tax payment arrangement")
    expect(pop.locator("#previous-contacts")).to_contain_text("Will ring back after payday")
    expect(pop.locator("#journey")).to_contain_text("ct reference")
    expect(pop.locator("#journey")).to_contain_text(f"pressed {ACCOUNT}")
    expect(pop).not_to_contain_text(RESIDENT)  # an adviser sees the last three digits only
    expect(page.locator("#desk-announcer")).to_contain_text("Incoming call: Council tax")


def test_an_adviser_takes_a_call_from_the_desk_and_codes_it_with_the_mouse(
    council: CouncilLine, page: Page, output_path: str
):
    base = council.live.base_url
    problems = record_problems(page, base)
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("tom")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Desk").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your desk")
    expect(page.locator("#softphone-status")).to_contain_text("ready")
    check(page, output_path, "1-signed-in")

    page.get_by_role("button", name="Available").click()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "available")
    assert tom_state(council) == AdviserState.AVAILABLE
    check(page, output_path, "2-available")

    call = resident_rings_and_keys_their_account(council)
    expect_screen_pop(page)
    expect(page.get_by_role("button", name="Accept call")).to_be_enabled(timeout=RING)
    check(page, output_path, "3-offer")
    with zoomed_to_200_percent(page):
        assert_accessible(page, impacts=BLOCKING_IMPACTS)
        keep_screenshot(page, output_path, "3-offer-200-percent")

    page.get_by_role("button", name="Accept call").click()
    expect(page.locator("#pop-title")).to_have_text("On a call")
    expect(page.locator("#softphone-status")).to_have_text("On a call.")
    assert call.bridged_with is not None
    check(page, output_path, "4-on-call")

    page.get_by_role("button", name="Hang up").click()
    form = page.locator("#wrap-up-form")
    expect(form).to_be_visible()
    assert call.ended
    check(page, output_path, "5-wrap-up")

    form.get_by_label("Council tax payment arrangement").check()
    form.get_by_role("group", name="Could this contact have been avoided?").get_by_label(
        "Yes", exact=True
    ).check()
    form.get_by_label("Letter not understood").check()
    form.get_by_role("group", name="Was it sorted out on this call?").get_by_label("Yes", exact=True).check()
    form.get_by_label(re.compile("^Note for whoever")).fill("Agreed a plan for the arrears")
    page.get_by_role("button", name="Save and take calls").click()
    expect(page.locator("#no-wrap-up")).to_be_visible()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "available")
    check(page, output_path, "6-available-again")
    with council.live.services.session_factory() as session:
        [coded] = [w for w in session.scalars(select(WrapUp)) if w.note == "Agreed a plan for the arrears"]
        assert (coded.status, coded.reason_code, coded.avoidable_cause, coded.resolved_first_contact) == (
            WrapUpStatus.CODED,
            "council_tax_payment_arrangement",
            "letter_not_understood",
            True,
        )
    assert tom_state(council) == AdviserState.AVAILABLE
    assert problems == []


def choose_with_the_keyboard(page: Page, question: str, answer: str) -> None:
    """As a keyboard user does: Tab into the group of radios, Space on the first, arrows down to the answer."""
    group = page.get_by_role("group", name=question)
    tab_to(page, group.get_by_role("radio").first)
    page.keyboard.press("Space")
    target = group.get_by_label(answer, exact=True)
    for _ in range(group.get_by_role("radio").count()):
        if target.is_checked():
            break
        page.keyboard.press("ArrowDown")
    expect(target).to_be_checked()


def test_an_adviser_does_the_same_by_keyboard_alone(council: CouncilLine, page: Page, output_path: str):
    base = council.live.base_url
    problems = record_problems(page, base)
    page.goto(f"{base}/console/login")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type("tom")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("navigation", name="Console").get_by_role("link", name="Desk"))
    page.keyboard.press("Enter")
    expect(page.locator("#softphone-status")).to_contain_text("ready")

    page.keyboard.press("Alt+Shift+A")  # available
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "available")

    call = resident_rings_and_keys_their_account(council)
    expect_screen_pop(page)
    expect(page.get_by_role("button", name="Accept call")).to_be_focused(timeout=RING)  # the ring takes focus
    check(page, output_path, "1-offer")
    page.keyboard.press("Enter")  # accept
    expect(page.locator("#pop-title")).to_have_text("On a call")
    assert call.bridged_with is not None

    page.keyboard.press("Alt+Shift+H")  # hang up
    expect(page.locator("#wrap-up-form")).to_be_visible()
    check(page, output_path, "2-wrap-up")
    choose_with_the_keyboard(page, "Why did the resident call?", "Information given")
    choose_with_the_keyboard(page, "Could this contact have been avoided?", "No")
    choose_with_the_keyboard(page, "Was it sorted out on this call?", "Yes")
    tab_to(page, page.get_by_role("button", name="Save and take calls"))
    page.keyboard.press("Enter")
    expect(page.locator("#no-wrap-up")).to_be_visible()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "available")
    check(page, output_path, "3-available-again")
    assert tom_state(council) == AdviserState.AVAILABLE
    assert problems == []


def test_a_wrap_up_with_missing_answers_says_what_is_missing_and_keeps_what_was_typed(
    council: CouncilLine, page: Page, output_path: str
):
    base = council.live.base_url
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill("tom")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/console/desk")
    expect(page.locator("#softphone-status")).to_contain_text("ready")
    page.get_by_role("button", name="Available").click()
    resident_rings_and_keys_their_account(council)
    page.get_by_role("button", name="Accept call").click(timeout=RING)
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#wrap-up-form")).to_be_visible()
    page.get_by_label(re.compile("^Note for whoever")).fill("Half-typed note")
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.locator("#desk-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choose why the resident called.")
    expect(page.get_by_label(re.compile("^Note for whoever"))).to_have_value("Half-typed note")
    check(page, output_path, "wrap-up-errors")
