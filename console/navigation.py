"""The console's pages as data: which ones each role sees in the header's navigation and on the console home.

A staff page joins the navigation by adding one `ConsolePage` to `CONSOLE_PAGES`: its endpoint, the link's
words, who may use it and one line for the home page. The base layout (console/templates/console/base.html)
and the home page read this list through `console_navigation()` and `console_pages()`; nothing else lists pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from models import Role

EVERYONE = frozenset(Role)
ADVISERS = frozenset({Role.ADVISER})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class ConsolePage:
    """A page of the console that appears in the navigation of the roles that may use it."""

    label: str
    endpoint: str
    roles: frozenset[Role]
    summary: str


CONSOLE_PAGES: tuple[ConsolePage, ...] = (
    ConsolePage("Home", "console.home", EVERYONE, "Who you are signed in as, and the pages you can use."),
    ConsolePage("Desk", "desk.page", ADVISERS, "Take calls, see who is waiting, code calls, ring callbacks."),
    ConsolePage(
        "Wallboard",
        "supervisor.wallboard",
        SUPERVISORS,
        "Callers waiting, advisers by state, today's service level and callbacks, live; also for a big screen.",
    ),
    ConsolePage(
        "Callbacks",
        "supervisor.callbacks",
        SUPERVISORS,
        "Every callback: find one, see each attempt, give it to another adviser or cancel it.",
    ),
    ConsolePage(
        "Libraries",
        "supervisor.libraries",
        SUPERVISORS,
        "Each library open or closed now: weekly hours, closures, and closing one now in an emergency.",
    ),
    ConsolePage(
        "Advisers",
        "supervisor.advisers",
        SUPERVISORS,
        "Each adviser's skills, languages, library and phone; add one, or make one inactive.",
    ),
    ConsolePage(
        "Rota",
        "supervisor.rota",
        SUPERVISORS,
        "Who works when, at each library; add shifts, record leave and sickness.",
    ),
    ConsolePage(
        "Reports",
        "supervisor.reports_page",
        SUPERVISORS,
        "Service level, speed of answer, abandonment, callbacks, repeat contacts and more, for any days, with CSV.",
    ),
    ConsolePage(
        "Accounts",
        "supervisor.users",
        SUPERVISORS,
        "Who can sign in: add an account, set its role and adviser, reset a password, disable it.",
    ),
    ConsolePage(
        "Audit",
        "supervisor.audit",
        SUPERVISORS,
        "Every change made from the console: who, when, and what it was before and after.",
    ),
)


def console_pages() -> list[ConsolePage]:
    """The pages the signed-in user's role may use, in navigation order (none when signed out)."""
    if not current_user.is_authenticated:
        return []
    return [page for page in CONSOLE_PAGES if current_user.role in page.roles]


def console_navigation() -> list[dict[str, object]]:
    """The signed-in user's pages as govukServiceNavigation items, the page being shown marked current."""
    return [
        {"text": page.label, "href": url_for(page.endpoint), "current": request.endpoint == page.endpoint}
        for page in console_pages()
    ]


def init_app(app: Flask) -> None:
    """Offer the navigation to every template (the base layout builds the header from it)."""
    app.add_template_global(console_pages)
    app.add_template_global(console_navigation)
