"""The wallboard's thresholds from the environment, and how its figures read on the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config import SettingsError, load_settings
from console.supervisor.wallboard import duration, percent, spoken_duration
from routing.wallboard import Thresholds

DEMO = {"SIMULATOR_ENABLED": "true"}


def test_the_thresholds_come_from_the_environment():
    settings = load_settings(
        {
            **DEMO,
            "WALLBOARD_WAIT_AMBER_SECONDS": "90",
            "WALLBOARD_WAIT_RED_SECONDS": "240",
            "WALLBOARD_SERVICE_LEVEL_TARGET": "75",
            "WALLBOARD_CALLBACK_GRACE_SECONDS": "600",
        }
    )
    assert Thresholds.from_settings(settings) == Thresholds(
        wait_amber=timedelta(seconds=90),
        wait_red=timedelta(seconds=240),
        service_level_target=0.75,
        callback_grace=timedelta(minutes=10),
    )


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"WALLBOARD_SERVICE_LEVEL_TARGET": "120"}, "WALLBOARD_SERVICE_LEVEL_TARGET"),
        ({"WALLBOARD_SERVICE_LEVEL_TARGET": "0"}, "WALLBOARD_SERVICE_LEVEL_TARGET"),
        ({"WALLBOARD_WAIT_AMBER_SECONDS": "soon"}, "WALLBOARD_WAIT_AMBER_SECONDS"),
        (
            {"WALLBOARD_WAIT_AMBER_SECONDS": "600", "WALLBOARD_WAIT_RED_SECONDS": "300"},
            "WALLBOARD_WAIT_RED_SECONDS",
        ),
    ],
)
def test_a_threshold_that_makes_no_sense_stops_the_start_naming_it(variables, named):
    with pytest.raises(SettingsError, match=named):
        load_settings({**DEMO, **variables})


def test_waits_and_shares_read_in_words():
    assert [duration(s) for s in (None, 0, 1, 59.9, 60, 245, 3725)] == [
        "–",
        "0 seconds",
        "1 second",
        "59 seconds",
        "1 min 00 s",
        "4 min 05 s",
        "1 hr 02 min",
    ]
    assert [spoken_duration(s) for s in (30, 60, 245)] == ["under a minute", "1 minute", "4 minutes"]
    assert [percent(s) for s in (None, 0.0, 1 / 3, 1.0)] == ["–", "0%", "33%", "100%"]
