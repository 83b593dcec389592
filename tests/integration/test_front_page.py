"""`/`: the page someone who opens the service's address lands on."""

from __future__ import annotations

from html.parser import HTMLParser

from app import create_app
from runtime.web import EXTENSION_KEY


class _Links(HTMLParser):
    """The links of the page's main content (the layout's skip link, header and footer links are not its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.html_lang: str | None = None
        self.h1: list[str] = []
        self._in_main = self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._in_main = self._in_main or tag == "main"
        self._in_h1 = self._in_h1 or tag == "h1"
        if tag == "a" and values.get("href") and self._in_main:
            self.hrefs.append(str(values["href"]))
        if tag == "html":
            self.html_lang = values.get("lang")

    def handle_endtag(self, tag: str) -> None:
        self._in_main = self._in_main and tag != "main"
        self._in_h1 = self._in_h1 and tag != "h1"

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1.append(data.strip())


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
    assert "".join(links.h1) == "Kirklees Council contact centre"
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
