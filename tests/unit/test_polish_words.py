"""Spoken Polish never needs the caller's gender: no "Pan/Pani" or "następny/a" forms, in any text we say."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from callbacks import prompts as callback_prompts
from callbacks import sms
from ivr.flow import default_flow
from routing import prompts as routing_prompts

# Forms of "Pan"/"Pani" (sir/madam) and a slash between letters ("następny/a", "Pan/Pani").
GENDERED = re.compile(r"\b(Pan|Pana|Panu|Panem|Pani|Panią)\b|[^\W\d_]/[^\W\d_]", re.IGNORECASE)


def _polish_in_flow(value: Any, path: str = "flow") -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "pl-PL" and isinstance(item, str):
                yield f"{path}/pl-PL", item
            else:
                yield from _polish_in_flow(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _polish_in_flow(item, f"{path}/{index}")


def spoken_polish() -> list[tuple[str, str]]:
    """Every Polish sentence a caller can hear: queue, callback dialogue, callback greeting, the menu."""
    texts = [(f"queue/{name}", table["pl-PL"]) for name, table in routing_prompts.CALLER_TEXTS.items()]
    for name in ("BOOKED", "UPDATED", "NEED_NUMBER"):
        texts.append((f"callback/{name}", getattr(callback_prompts, name)["pl-PL"]))
    texts += [
        (f"callback dialogue/{name}", text) for name, text in callback_prompts.DIALOGUE["pl-PL"].items()
    ]
    texts += [(f"refusal/{kind}", text) for kind, text in callback_prompts._REFUSED_PL.items()]
    texts.append(("refusal/other", callback_prompts._REFUSED_OTHER_PL))
    texts += [(f"greeting/{topic}", sms.greeting(topic, "pl-PL")[0]) for topic in sms.TOPIC_WORDS]
    texts += [
        (path, text) for path, text in _polish_in_flow(default_flow().definition) if "/sms/" not in f"{path}/"
    ]
    return texts


def written_polish() -> list[tuple[str, str]]:
    """Polish texts residents read (SMS): the written polite form would be allowed, neutral is preferred."""
    texts = [(f"sms/{name}", text) for name, text in sms.TEXTS["pl-PL"].items()]
    texts += [(path, text) for path, text in _polish_in_flow(default_flow().definition) if "/sms/" in path]
    return texts


@pytest.mark.parametrize(("where", "text"), spoken_polish(), ids=lambda value: str(value)[:40])
def test_no_spoken_polish_text_uses_a_gendered_or_slashed_form(where, text):
    assert not GENDERED.search(text), f"{where}: {text!r}"


@pytest.mark.parametrize(("where", "text"), written_polish(), ids=lambda value: str(value)[:40])
def test_polish_texts_are_gender_neutral_too(where, text):
    assert not GENDERED.search(text), f"{where}: {text!r}"


def test_the_scan_finds_the_texts_it_checks():
    where = [name for name, _ in spoken_polish()]
    assert "queue/next" in where and "callback dialogue/withheld" in where
    assert any(name.startswith("flow/nodes/main_menu") for name in where)
    assert GENDERED.search("Jest Pan/Pani następny/a w kolejce.")
    assert not GENDERED.search("Miejsce w kolejce: 3. https://www.kirklees.gov.uk")
