"""Parse TwiML responses for assertions verb by verb."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def parse_twiml(body: bytes | str) -> ET.Element:
    root = ET.fromstring(body)
    assert root.tag == "Response", f"not TwiML: {body!r}"
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def spoken_text(root: ET.Element) -> str:
    return " ".join((say.text or "") for say in root.iter("Say"))
