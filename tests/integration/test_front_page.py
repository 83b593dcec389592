"""`/`: the page someone who opens the service's address lands on."""

from __future__ import annotations

from html.parser import HTMLParser

from app import create_app
from runtime.web import EXTENSION_KEY


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(str(values["href"]))
        if tag == "html":
            self.html_lang = values.get("lang")


def _links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_in_simulator_mode_the_front_page_links_the_phone_simulator_and_the_console(client):
    page = client.get("/")
    assert page.status_code == 200
    links = _links(page.get_data(as_text=True))
    assert links.hrefs == ["/console/login", "/simulator/"]
    assert links.html_lang == "en-GB"
    assert "<h1>Kirklees Council contact centre</h1>" in page.get_data(as_text=True)
    assert client.get(links.hrefs[0]).status_code == 200
    assert client.get(links.hrefs[1]).status_code == 200


def test_outside_simulator_mode_the_front_page_links_only_the_console(settings, clock):
    application = create_app(settings.with_overrides(simulator_enabled=False), clock=clock)
    try:
        page = application.test_client().get("/")
        assert page.status_code == 200
        assert _links(page.get_data(as_text=True)).hrefs == ["/console/login"]
        assert "simulator" not in page.get_data(as_text=True).lower()
    finally:
        application.extensions[EXTENSION_KEY].engine.dispose()
