"""Whole silent calls through the simulator: at most three menu prompts, then the adviser queue."""

from __future__ import annotations

import pytest

from tests.scenarios.test_menu_calls import dial, line, stored_call  # noqa: F401 (line is a fixture)


def menu_prompts_before_the_queue(call) -> list[list[str]]:
    """The sentences of each prompt (Gather) the caller heard before joining the queue."""
    prompts: list[list[str]] = []
    sentences: list[str] = []
    for event in call.transcript:
        if event.kind == "enqueued":
            break
        if event.kind == "heard":
            sentences.append(event.text)
        elif event.kind == "gather-waiting":
            prompts.append(sentences)
            sentences = []
    return prompts


def stay_silent_until_queued(call, limit: int = 8) -> None:
    for _ in range(limit):
        if call.ended or call.in_queue:
            return
        call.stay_silent()


def test_a_caller_silent_from_the_start_hears_three_prompts_and_reaches_the_adviser_queue(line):  # noqa: F811
    call = dial(line)
    stay_silent_until_queued(call)

    assert call.in_queue, call.heard
    assert len(menu_prompts_before_the_queue(call)) == 3
    assert "Please hold for an adviser." in call.heard
    assert stored_call(line, call).language == "en-GB"


@pytest.mark.parametrize("first", ["press", "silence"], ids=["polish-at-once", "silent-then-polish"])
def test_a_silent_polish_caller_reaches_the_adviser_queue_in_polish_at_the_third_silence(line, first):  # noqa: F811
    call = dial(line)
    if first == "silence":
        call.stay_silent()  # once at the language choice, which is said again
    call.press("2")
    stay_silent_until_queued(call)

    assert call.in_queue, call.heard
    prompts = menu_prompts_before_the_queue(call)
    polish = [prompt for prompt in prompts if prompt and prompt[-1].endswith("naciśnij 0.")]
    assert len(polish) == (3 if first == "press" else 2)
    assert len(prompts) == 4  # three silences in the call, the language choice included
    assert "Proszę czekać na konsultanta." in call.heard
    assert stored_call(line, call).language == "pl-PL"
