"""Whole calls through the simulator: going back out of a menu changes where the caller is queued."""

from __future__ import annotations

from sqlalchemy import select

from models import QueueEntry
from tests.scenarios.test_menu_calls import dial, line, stored_call  # noqa: F401 (line is a fixture)


def test_council_tax_then_back_then_an_adviser_is_queued_as_general_not_council_tax(line):  # noqa: F811
    call = dial(line)
    call.press("1")  # English
    call.press("1")  # council tax
    call.press("*")  # back to the main menu
    call.press("0")  # an adviser

    assert call.in_queue, call.heard
    with line.services.session_factory() as session:
        entry = session.scalars(select(QueueEntry)).one()
    assert entry.topic.value == "general"
    assert stored_call(line, call).topic.value == "general"
