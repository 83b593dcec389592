"""The browser phone at /simulator, driven in headless Chromium against the live app and its simulated Twilio."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from models.demo import client_identity_for
from simulator.live import CouncilLine

pytestmark = pytest.mark.browser

AISHA = client_identity_for("Aisha Khan")


@pytest.fixture
def phone(live_service, page: Page) -> Page:
    """The simulator page on the seeded council line (Wednesday 10:00, the lines are open)."""
    CouncilLine(live_service).install_demo_council()
    page.goto(f"{live_service.base_url}/simulator")
    return page


def test_the_page_says_plainly_that_it_is_a_simulator(phone: Page):
    expect(phone.get_by_role("heading", level=1)).to_have_text("Phone simulator — no real calls are made")


def test_a_resident_dials_hears_the_welcome_and_keys_their_way_to_the_queue(phone: Page):
    phone.get_by_label("Mobile 07400 123456").check()
    phone.get_by_role("button", name=re.compile(r"^Dial ")).click()

    transcript = phone.locator("#transcript")
    expect(transcript).to_contain_text("Welcome to Kirklees Council.")
    expect(transcript.locator("li.event-heard").first).to_contain_text("en-GB")

    phone.keyboard.press("1")  # English, typed on the keyboard rather than clicked
    expect(transcript).to_contain_text("For council tax, press 1.")
    phone.keyboard.press("0")  # an adviser
    expect(phone.get_by_role("status").first).to_contain_text("On hold in the general queue, position 1")
    expect(transcript).to_contain_text("Please hold for an adviser.")
    expect(phone.locator("#journey")).to_contain_text("adviser_queue")

    # Nobody is logged in yet: the caller is told so and offered a callback that keeps their place.
    expect(transcript).to_contain_text("No advisers for this are working right now.")
    expect(transcript).to_contain_text("To get a call back without losing your place, press 1.")
    phone.get_by_role("button", name="Hang up").first.click()
    expect(phone.get_by_role("status").first).to_contain_text("Call ended")


@pytest.fixture
def worker(live_service):
    """What `python3 dev.py serve` runs beside the web app: the RQ worker's matcher, here every 0.2 s in a thread
    (RQ's worker installs signal handlers, which only the main thread may do)."""
    import threading

    from routing.matching import match_now

    stop = threading.Event()

    def work() -> None:
        while not stop.wait(0.2):
            match_now(live_service.services)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


def test_an_adviser_logs_in_and_takes_the_waiting_caller(phone: Page, worker):
    tom = client_identity_for("Tom Hirst")
    phone.get_by_label("Adviser", exact=True).select_option(tom)  # opens his browser phone on this page
    expect(phone.locator("#adviser-status")).to_contain_text("No calls ringing.")
    phone.get_by_label("Routing state").select_option("available")
    phone.get_by_role("button", name="Set state").click()
    expect(phone.locator("#adviser-routing-state")).to_contain_text("Routing state: available")

    phone.get_by_role("button", name=re.compile(r"^Dial ")).click()
    transcript = phone.locator("#transcript")
    expect(transcript).to_contain_text("For English, press 1.")
    phone.keyboard.press("1")
    expect(transcript).to_contain_text("For council tax, press 1.")
    phone.keyboard.press("0")  # an adviser
    # The matcher thread and the page's polling share two busy cores with the rest of the suite in CI.
    expect(phone.locator("#offers")).to_contain_text("Call from", timeout=15_000)
    phone.get_by_role("button", name="Answer", exact=True).click()  # a browser's answer is the acceptance
    expect(transcript).to_contain_text("Connecting you to an adviser.")
    expect(phone.locator("#adviser-status")).to_contain_text("Talking to")
    expect(phone.locator("#adviser-heard")).to_contain_text("Nothing yet.")  # no whisper, no key to press


def test_an_account_number_keyed_digit_by_digit_is_sent_as_one_entry(phone: Page):
    phone.get_by_role("button", name=re.compile(r"^Dial ")).click()
    transcript = phone.locator("#transcript")
    for prompt in ("For English, press 1", "For council tax, press 1", "To pay, press 1"):
        expect(transcript).to_contain_text(prompt)
        phone.get_by_role("button", name="Press 1", exact=True).click()
    expect(transcript).to_contain_text("8-digit council tax account number")
    phone.keyboard.type("12345678")
    expect(transcript).to_contain_text("I heard 1 2 3 4 5 6 7 8.")


def test_an_adviser_sees_a_call_ringing_and_answers_it(live_service, phone: Page):
    world = live_service.world
    phone.get_by_label("Adviser", exact=True).select_option(AISHA)  # opens her browser phone
    expect(phone.locator("#adviser-status")).to_contain_text("No calls ringing.")
    assert world.registered_client(AISHA) is not None
    world.create_outbound_call(
        to=f"client:{AISHA}",
        from_="+441484221000",
        twiml="<Response><Say>Callback for a council tax resident.</Say><Pause length='30'/></Response>",
    )
    offers = phone.locator("#offers")
    expect(offers).to_contain_text("Call from +441484221000")
    phone.get_by_role("button", name="Answer", exact=True).click()
    expect(phone.locator("#adviser-heard")).to_contain_text("Callback for a council tax resident.")
    expect(offers).to_contain_text("None.")


def test_every_control_has_a_label_and_the_keypad_is_reachable_with_tab(phone: Page):
    unlabelled = phone.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
                 .filter((field) => field.labels.length === 0 && !field.getAttribute('aria-label'))
                 .map((field) => field.id || field.name)"""
    )
    assert unlabelled == []
    nameless_buttons = phone.evaluate(
        """() => [...document.querySelectorAll('button')]
                 .filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim()))
                 .map((b) => b.outerHTML)"""
    )
    assert nameless_buttons == []
    assert phone.locator("[onclick], div[role=button], span[role=button]").count() == 0
    expect(phone.locator("#transcript")).to_have_attribute("aria-live", "polite")

    phone.get_by_role("button", name=re.compile(r"^Dial ")).click()
    expect(phone.locator("#transcript")).to_contain_text("Welcome to Kirklees Council.")
    phone.locator("#hangup").focus()
    reached = []
    for _ in range(12):
        phone.keyboard.press("Tab")
        reached.append(phone.evaluate("() => document.activeElement.getAttribute('aria-label')"))
    assert reached[:3] == ["Press 1", "Press 2", "Press 3"]
    assert "Press hash" in reached


def test_the_phone_says_so_when_the_simulated_twilio_itself_fails(
    live_service, phone: Page, worker, monkeypatch
):
    def broken_dequeue(*_args, **_kwargs):
        raise OSError("simulated disk failure")

    monkeypatch.setattr(live_service.world, "dequeue", broken_dequeue)
    phone.get_by_label("Adviser", exact=True).select_option(client_identity_for("Tom Hirst"))
    expect(phone.locator("#adviser-status")).to_contain_text("No calls ringing.")
    phone.get_by_label("Routing state").select_option("available")
    phone.get_by_role("button", name="Set state").click()
    expect(phone.locator("#adviser-routing-state")).to_contain_text("Routing state: available")

    phone.get_by_role("button", name=re.compile(r"^Dial ")).click()
    expect(phone.locator("#transcript")).to_contain_text("For English, press 1.")
    phone.keyboard.press("1")
    expect(phone.locator("#transcript")).to_contain_text("For council tax, press 1.")
    phone.keyboard.press("0")
    # The matcher picked Tom, but connecting the caller failed inside the simulator: say so, don't hold for ever.
    alert = phone.get_by_role("alert")
    expect(alert).to_contain_text("The simulated Twilio failed, so this call cannot be connected")
    expect(alert).to_contain_text("OSError: simulated disk failure")
