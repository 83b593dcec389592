"""The staff pages' foundation: GOV.UK macros load, MOJ macros render, the layout is the council's, not GOV.UK's.

Through the real app (its Jinja loader, the console's static folder, a real sign-in), parsed rather than grepped
where the structure matters.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from flask import Flask, render_template_string

from console import navigation
from console.navigation import SUPERVISORS, ConsolePage
from tests.integration.test_console_api import council, signed_in  # noqa: F401 (fixture)


class _Page(HTMLParser):
    """The bits of a page these tests look at: the header's links, the stylesheets and scripts it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.header_links: list[str] = []
        self.sources: list[str] = []
        self.main_ids: list[str] = []
        self._in_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self._in_header = self._in_header or tag == "header"
        if tag == "a" and self._in_header:
            self.header_links.append(re.sub(r"\s+", " ", values["href"]))
        if tag == "link" and values.get("rel") == "stylesheet":
            self.sources.append(values["href"])
        if tag == "script" and values.get("src"):
            self.sources.append(values["src"])
        if tag == "main":
            self.main_ids.append(values.get("id", ""))

    def handle_endtag(self, tag: str) -> None:
        self._in_header = self._in_header and tag != "header"


def parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def module_imports(html: str) -> list[str]:
    return re.findall(r'import \{[^}]+\} from "([^"]+)"', html)


def test_templates_import_govuk_frontend_macros_by_their_package_path(app: Flask):
    with app.test_request_context():
        html = render_template_string(
            '{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}'
            '{% from "govuk_frontend_jinja/components/tag/macro.html" import govukTag %}'
            '{{ govukButton({"text": "Ready now"}) }}{{ govukTag({"text": "<Wrap-up>"}) }}'
        )
    assert re.search(
        r'<button type="submit" class="govuk-button" data-module="govuk-button">\s*Ready now', html
    )
    assert '<strong class="govuk-tag">\n  &lt;Wrap-up&gt;\n</strong>' in html  # text is escaped


def test_moj_macros_render_moj_frontends_markup_with_text_escaped(app: Flask):
    at = datetime(2026, 3, 4, 10, 2, tzinfo=UTC)
    with app.test_request_context():
        html = render_template_string(
            '{% from "console/macros/moj.html" import mojBadge, mojTimeline, mojSubNavigation %}'
            '{{ mojBadge({"text": "Urgent & vulnerable", "classes": "moj-badge--red"}) }}'
            "{{ mojTimeline({'headingLevel': 3, 'items': [{'label': {'text': 'Chose council tax'}, "
            "'byline': {'text': 'the menu'}, 'datetime': {'timestamp': at, 'text': '10:02'}, 'text': '<1>'}]}) }}"
            "{{ mojSubNavigation({'label': 'Caller', 'items': [{'text': 'Journey', 'href': '#journey', "
            "'active': true}, {'text': 'Contacts', 'href': '#contacts'}]}) }}",
            at=at,
        )
    assert '<span class="moj-badge moj-badge--red">Urgent &amp; vulnerable</span>' in html
    assert '<h3 class="moj-timeline__title">Chose council tax</h3>' in html
    assert '<p class="moj-timeline__byline">by the menu</p>' in html
    assert '<time datetime="2026-03-04T10:02:00+00:00">10:02</time>' in html
    assert '<div class="moj-timeline__description">&lt;1&gt;</div>' in html
    assert '<nav class="moj-sub-navigation" aria-label="Caller">' in html
    assert '<a class="moj-sub-navigation__link" href="#journey" aria-current="page">Journey</a>' in html
    assert '<a class="moj-sub-navigation__link" href="#contacts">Contacts</a>' in html


def test_every_page_of_the_navigation_is_a_real_endpoint(app: Flask):
    for page in navigation.CONSOLE_PAGES:
        assert page.endpoint in app.view_functions, page
        assert page.roles and page.summary


def test_the_layout_loads_the_vendored_stylesheet_and_scripts_from_this_app(client, council):  # noqa: F811
    html = client.get("/console/login").get_data(as_text=True)
    page = parsed(html)
    assert page.main_ids == ["main-content"]
    assert page.sources == ["/console/static/vendor/staff-pages.min.css"]
    assert module_imports(html) == [
        "/console/static/vendor/govuk-frontend.min.js",
        "/console/static/vendor/moj-frontend.min.js",
    ]
    for url in [*page.sources, *module_imports(html), "/console/static/vendor/twilio.min.js"]:
        served = client.get(url)
        assert served.status_code == 200, url
        # Browsers run a module script only when it is served as JavaScript.
        assert served.mimetype == ("text/css" if url.endswith(".css") else "text/javascript"), url


@pytest.mark.parametrize("path", ["/", "/console/login"])
def test_the_layout_is_the_councils_with_no_crown_and_no_gov_uk_claims(client, council, path):  # noqa: F811
    html = client.get(path).get_data(as_text=True)
    assert html.startswith('<!doctype html>\n<html lang="en-GB" class="govuk-template">')
    for what in ("crown", "crest", "GDS Transport", "Open Government Licence", "gov.uk", "govuk-header"):
        assert what.lower() not in html.lower(), what
    assert "govuk-generic-header" in html and "© Kirklees Council" in html


def test_signed_out_the_header_has_no_navigation_and_no_sign_out(client, council):  # noqa: F811
    page = parsed(client.get("/console/login").get_data(as_text=True))
    assert page.header_links == ["/", "/"]  # "Kirklees Council" and the service's name lead to the front page
    assert "Sign out" not in client.get("/console/login").get_data(as_text=True)


def test_the_navigation_shows_each_role_only_its_pages(app: Flask, council, monkeypatch):  # noqa: F811
    wallboard = ConsolePage("Wallboard", "front.front_page", SUPERVISORS, "Queues and advisers now.")
    # Home and Desk, and a stand-in supervisors' page: the real supervisor pages come and go with the issues.
    everyday = tuple(page for page in navigation.CONSOLE_PAGES if page.label in ("Home", "Desk"))
    monkeypatch.setattr(navigation, "CONSOLE_PAGES", (*everyday, wallboard))

    adviser = signed_in(app, council["aisha"]).get("/console/").get_data(as_text=True)
    # The council's name (the front page), the service's name, Home (the console's home, shown now) and Desk.
    assert parsed(adviser).header_links == ["/", "/console/", "/console/", "/console/desk"]
    assert re.search(r'href="/console/"\s+aria-current="page"', adviser)
    assert "Wallboard" not in adviser and "Aisha Khan (adviser)" in adviser

    supervisor = signed_in(app, council["supervisor"]).get("/console/").get_data(as_text=True)
    assert parsed(supervisor).header_links == ["/", "/console/", "/console/", "/"]
    # The home page lists the other pages the role may use, with what each is for.
    assert re.search(r'<a class="govuk-link" href="/">Wallboard</a>: Queues and advisers now\.', supervisor)


def test_the_layouts_sign_out_button_signs_out(app: Flask, council):  # noqa: F811
    client = signed_in(app, council["tom"])
    home = client.get("/console/").get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="/console/logout">\s*<input name="csrf_token" type="hidden" value="([^"]+)">',
        home,
    )
    assert form is not None
    assert (
        client.post("/console/logout", data={"csrf_token": form.group(1)}).headers["Location"]
        == "/console/login"
    )
    assert client.get("/api/me").status_code == 401


def test_a_page_that_needs_a_sign_in_says_so_on_the_sign_in_page(client, council):  # noqa: F811
    answer = client.get("/console/")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "govuk-notification-banner" in page and "Sign in to use the console." in page


def test_the_form_error_summary_links_each_problem_to_where_it_is_fixed(app: Flask):
    from console.auth import LoginForm

    with app.test_request_context(method="POST", data={"username": "", "password": ""}):
        form = LoginForm()
        assert not form.validate()  # no CSRF token and both fields empty
        html = render_template_string(
            '{% from "console/macros/forms.html" import formErrorSummary %}'
            "{{ formErrorSummary(form, ['The form expired. Please sign in again.'], first_field=form.username) }}"
            "{{ formErrorSummary(form_without_errors) }}",
            form=form,
            form_without_errors=LoginForm(formdata=None),
        )
    links = re.findall(r'<a href="(#\w+)">([^<]+)</a>', html)
    assert links == [
        (
            "#username",
            "The form expired. Please sign in again.",
        ),  # the form's own problem, not its CSRF field
        ("#username", "Enter your username."),
        ("#password", "Enter your password."),
    ]
    assert html.count("govuk-error-summary__title") == 1  # a form without errors shows no summary
