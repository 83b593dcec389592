"""console/static/console/softphone.js in headless Chromium: the simulated backend against the live simulator,
and the Twilio backend against a stand-in for the Voice SDK's Device (the real one needs Twilio's servers).

The module is served from the file itself onto a test page of the live app's origin (Playwright's routing),
so its requests reach the real simulator endpoints and the real token endpoint's URL.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from models import Adviser, AdviserState
from models.demo import client_identity_for
from routing.advisers import change_state
from simulator.live import CouncilLine
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser

MODULE = (REPO_ROOT / "console" / "static" / "console" / "softphone.js").read_text()
TOM = client_identity_for("Tom Hirst")
TEST_PAGE = """<!doctype html><html lang="en"><head><title>Softphone test</title></head><body><main>
<p id="state" role="status"></p>
<script type="module">
  import { createSoftphone } from "/softphone-test/softphone.js";
  window.events = [];
  const phone = await createSoftphone(%(options)s);
  for (const name of ["ready", "incoming", "accepted", "ended", "muted", "error"]) {
    phone.on(name, (detail) => window.events.push([name, detail]));
  }
  window.phone = phone;
  setInterval(() => { document.getElementById("state").textContent = phone.state; }, 50);
</script></main></body></html>"""


def open_test_page(page: Page, base_url: str, options: dict) -> None:
    page.route(
        f"{base_url}/softphone-test/softphone.js",
        lambda route: route.fulfill(body=MODULE, content_type="text/javascript"),
    )
    page.route(
        f"{base_url}/softphone-test/page",
        lambda route: route.fulfill(
            body=TEST_PAGE % {"options": json.dumps(options)}, content_type="text/html"
        ),
    )
    page.goto(f"{base_url}/softphone-test/page")


def events(page: Page, name: str) -> list:
    return [detail for event, detail in page.evaluate("window.events") if event == name]


@pytest.fixture
def line(live_service) -> CouncilLine:
    council = CouncilLine(live_service)
    council.install_demo_council()
    services = live_service.services
    with services.session_factory.begin() as session:
        tom_id = session.scalars(select(Adviser.id).where(Adviser.client_identity == TOM)).one()
        change_state(services, session, tom_id, AdviserState.AVAILABLE.value, "start of shift")
    return council


def test_the_simulated_softphone_registers_rings_accepts_mutes_and_hangs_up(line, live_service, page: Page):
    open_test_page(page, live_service.base_url, {"mode": "simulated", "identity": TOM})
    state = page.locator("#state")
    expect(state).to_have_text("ready")
    assert line.world.registered_client(TOM) is not None, "the open page registered Tom's browser phone"

    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_="+447400123456")
    call.press("1")
    call.press("0")  # an adviser
    line.settle()  # the matcher offers the caller to Tom: his browser rings
    expect(state).to_have_text("ringing")
    [incoming] = events(page, "incoming")
    assert incoming["from"] == "+447400123456" and incoming["entryId"] is not None

    page.evaluate("window.phone.accept()")
    expect(state).to_have_text("on-call")
    assert call.bridged_with is not None
    page.evaluate("window.phone.setMuted(true)")
    page.wait_for_function("window.events.some(([name]) => name === 'muted')")
    assert events(page, "muted") == [{"muted": True}]

    page.evaluate("window.phone.hangUp()")
    expect(state).to_have_text("ready")
    assert events(page, "ended") == [{"reason": "hung-up"}]
    assert call.bridged_with is None
    assert events(page, "error") == []

    with page.expect_request_finished(lambda request: request.url.endswith("/unregister")):
        page.evaluate("window.phone.destroy()")
    expect(state).to_have_text("offline")
    assert line.world.registered_client(TOM) is None, "a closed desk is rung no more"


def test_a_simulated_call_the_caller_ends_while_ringing_is_cancelled(line, live_service, page: Page):
    open_test_page(page, live_service.base_url, {"mode": "simulated", "identity": TOM})
    expect(page.locator("#state")).to_have_text("ready")
    call = line.world.place_call(to=line.council_number, url=line.incoming_url, from_="+447400123456")
    call.press("1")
    call.press("0")
    line.settle()
    expect(page.locator("#state")).to_have_text("ringing")

    call.hang_up()

    expect(page.locator("#state")).to_have_text("ready")
    assert events(page, "ended") == [{"reason": "cancelled"}]


FAKE_SDK = """
window.fakeSdk = { devices: [], calls: [] };
class Emitter {
  constructor() { this.handlers = {}; }
  on(name, handler) { (this.handlers[name] = this.handlers[name] || []).push(handler); }
  emit(name, ...args) { (this.handlers[name] || []).forEach((handler) => handler(...args)); }
}
class FakeCall extends Emitter {
  constructor(sid, from, entry) {
    super();
    this.parameters = { CallSid: sid, From: from };
    this.customParameters = new Map([["entry", entry]]);
    this.log = [];
  }
  accept() { this.log.push("accept"); this.emit("accept", this); }
  reject() { this.log.push("reject"); this.emit("reject"); }
  disconnect() { this.log.push("disconnect"); this.emit("disconnect", this); }
  mute(muted) { this.log.push("mute:" + muted); this.emit("mute", muted, this); }
  status() { return "open"; }
}
class FakeDevice extends Emitter {
  constructor(token, options) {
    super();
    this.tokens = [token];
    this.options = options;
    this.state = "unregistered";
    this.destroyed = false;
    window.fakeSdk.devices.push(this);
  }
  async register() { this.state = "registered"; this.emit("registered"); }
  updateToken(token) { this.tokens.push(token); }
  destroy() { this.destroyed = true; this.state = "destroyed"; }
  ring(sid, from, entry) { const call = new FakeCall(sid, from, entry); window.fakeSdk.calls.push(call); this.emit("incoming", call); return call; }
}
window.Twilio = { Device: FakeDevice };
"""


def test_the_twilio_softphone_drives_the_voice_sdk_and_says_what_went_wrong_in_words(
    live_service, page: Page
):
    issued = iter(["first-token", "second-token"])
    page.route(
        f"{live_service.base_url}/console/softphone/token",
        lambda route: route.fulfill(
            json={"token": next(issued), "identity": TOM, "expires_at": "2026-11-25T10:10:00+00:00"}
        ),
    )
    page.add_init_script(FAKE_SDK)
    open_test_page(page, live_service.base_url, {"mode": "twilio", "tokenUrl": "/console/softphone/token"})
    state = page.locator("#state")
    expect(state).to_have_text("ready")
    device = "window.fakeSdk.devices[0]"
    assert page.evaluate(f"{device}.tokens") == ["first-token"]
    assert page.evaluate(f"{device}.options.tokenRefreshMs") >= 10000

    page.evaluate(f"{device}.ring('CA' + '1'.repeat(32), '+447400123456', '7')")
    expect(state).to_have_text("ringing")
    assert events(page, "incoming") == [{"callSid": "CA" + "1" * 32, "from": "+447400123456", "entryId": "7"}]
    page.evaluate("window.phone.accept()")
    expect(state).to_have_text("on-call")
    page.evaluate("window.phone.setMuted(true)")
    assert events(page, "muted") == [{"muted": True}]
    page.evaluate(f"{device}.ring('CA' + '2'.repeat(32), '+447400999999', '8')")  # a second call meanwhile
    assert page.evaluate("window.fakeSdk.calls[1].log") == ["reject"], "one call at a time"

    page.evaluate(f"{device}.emit('tokenWillExpire', {device})")
    page.wait_for_function(f"{device}.tokens.length === 2")
    assert page.evaluate(f"{device}.tokens") == ["first-token", "second-token"]

    page.evaluate(f"{device}.emit('error', {{code: 31401, message: 'PermissionDeniedError'}})")
    [blocked] = events(page, "error")
    assert blocked["message"].startswith("Microphone blocked: allow the microphone for this site")

    page.evaluate("window.phone.hangUp()")
    expect(state).to_have_text("ready")
    assert page.evaluate("window.fakeSdk.calls[0].log") == ["accept", "mute:true", "disconnect"]
    assert events(page, "ended") == [{"reason": "hung-up"}]

    page.evaluate(f"{device}.ring('CA' + '3'.repeat(32), '+447400123456', '9')")
    page.evaluate("window.fakeSdk.calls[2].emit('cancel')")  # the caller hung up while it rang
    assert events(page, "ended")[-1] == {"reason": "cancelled"}
    page.evaluate("window.phone.destroy()")
    assert page.evaluate(f"{device}.destroyed") is True
    expect(state).to_have_text("offline")


def test_a_signed_out_adviser_is_told_so_in_words(live_service, page: Page):
    page.route(
        f"{live_service.base_url}/console/softphone/token",
        lambda route: route.fulfill(status=401, json={"error": "Sign in first."}),
    )
    page.add_init_script(FAKE_SDK)
    open_test_page(page, live_service.base_url, {"mode": "twilio", "tokenUrl": "/console/softphone/token"})
    page.wait_for_function("window.events && window.events.some(([name]) => name === 'error')")
    assert events(page, "error") == [{"message": "You have been signed out. Sign in again to take calls."}]
    expect(page.locator("#state")).to_have_text("offline")
