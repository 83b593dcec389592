"""The vendored browser bundles work as browser builds, served by the app itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.staff_pages import record_problems

pytestmark = pytest.mark.browser


def test_the_vendored_twilio_voice_sdk_gives_the_page_a_device_class(live_service, page: Page):
    problems = record_problems(page, live_service.base_url)
    page.goto(f"{live_service.base_url}/console/login")
    page.add_script_tag(url=f"{live_service.base_url}/console/static/vendor/twilio.min.js")
    assert page.evaluate("typeof Twilio.Device") == "function"
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
    assert problems == []
