"""What every browser test of a staff page checks: axe, reflow at 200 % zoom, keyboard reach, screenshots kept.

Import these in any test that visits a console page (the desk, the wallboard, ...):

    assert_accessible(page)                 # axe-core: no violation at all (or impacts=BLOCKING_IMPACTS)
    with zoomed_to_200_percent(page): ...   # the same page as a 1280 px screen at 200 % zoom: 640 CSS px
    tab_to(page, page.get_by_role("button", name="Sign out"))   # reach a control with the Tab key alone
    keep_screenshot(page, output_path, "signed-in")             # test-results/<test>/signed-in.png
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

DESKTOP = {"width": 1280, "height": 720}  # pytest-playwright's own default
# WCAG 1.4.10 (reflow) is checked as browsers zoom: 200 % of a 1280 px wide screen lays the page out in
# 640 CSS pixels, and a device scale factor of 2 would only change the screenshot's sharpness.
ZOOMED_200_PERCENT = {"width": 640, "height": 400}
BLOCKING_IMPACTS = ("serious", "critical")
ALL_IMPACTS = ("minor", "moderate", *BLOCKING_IMPACTS)


def assert_accessible(page: Page, impacts: tuple[str, ...] = ALL_IMPACTS) -> None:
    """axe-core finds no violation of these impacts on the page as it is now (run after each state change).

    The pages on the base layout have none at all; the issue's bar for a page is none serious or critical
    (`impacts=BLOCKING_IMPACTS`).
    """
    results = Axe().run(page)
    found = [v for v in results.response["violations"] if v["impact"] in impacts]
    assert not found, results.generate_report()


def assert_reflows(page: Page) -> None:
    """Nothing needs scrolling sideways: the page fits the viewport's width (WCAG 1.4.10)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the window"


@contextmanager
def zoomed_to_200_percent(page: Page) -> Iterator[Page]:
    """Show the page as at 200 % zoom on a 1280 px screen, check it reflows, and go back to 1280 px after."""
    page.set_viewport_size(ZOOMED_200_PERCENT)
    try:
        assert_reflows(page)
        yield page
    finally:
        page.set_viewport_size(DESKTOP)


def tab_to(page: Page, target: Locator, most: int = 40) -> int:
    """Press Tab until `target` has the focus (at most `most` times); return how many presses it took."""
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    expect(target).to_be_focused()  # fails with Playwright's own description of where the focus is
    return most


def keep_screenshot(page: Page, output_path: str, name: str) -> Path:
    """Save the whole page as test-results/<test>/<name>.png (pytest-playwright's output folder, git-ignored)."""
    path = Path(output_path) / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def record_problems(page: Page, base_url: str) -> list[str]:
    """Collect, as the page is used, script errors, failed loads and any request to another site (no CDN)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.on(
        "response",
        # A page may answer 400, 401 or 429 on purpose (the sign-in form); what it loads may not.
        lambda response: (
            problems.append(f"{response.status}: {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((base_url, "data:"))
            else problems.append(f"another site: {request.url}")
        ),
    )
    return problems


def check(page: Page, output_path: str, name: str) -> None:
    """No axe violation at all (not even a minor one), then keep the page as a screenshot to look at."""
    assert_accessible(page)
    keep_screenshot(page, output_path, name)


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    """Sign in on the console's sign-in page; the caller checks where that led (a refusal is a page too)."""
    page.goto(f"{base}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
