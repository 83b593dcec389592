"""The wallboard's figures as Prometheus gauges, worked out from the database when /metrics is scraped.

Not gauges set as things happen: under gunicorn each process would hold its own stale copy. Whichever process
answers the scrape reads the same database, so every scrape is right. Each figure is one family with `library`
and `topic` labels: a library's row has topic="all", a topic's row library="all", the council's both "all".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from routing.wallboard import STATES, Figures, Wallboard

ALL = "all"
PREFIX = "contact_centre_"

# name, help, figure (None: nothing to say, left out)
_FIGURES: tuple[tuple[str, str, Callable[[Figures], float | None]], ...] = (
    ("queue_waiting_callers", "Callers on the line waiting for an adviser now.", lambda f: f.waiting),
    (
        "queue_longest_wait_seconds",
        "How long the longest-waiting caller has waited, now (0 when nobody waits).",
        lambda f: f.longest_wait_seconds or 0.0,
    ),
    (
        "service_level_ratio",
        "Today's service level: answered within SERVICE_LEVEL_SECONDS / (answered + abandoned).",
        lambda f: f.service.service_level,
    ),
    ("calls_answered_today", "Callers answered today.", lambda f: f.service.answered),
    (
        "calls_answered_in_time_today",
        "Callers answered within SERVICE_LEVEL_SECONDS today.",
        lambda f: f.service.answered_in_time,
    ),
    (
        "calls_abandoned_today",
        "Callers who hung up waiting today (short abandons apart).",
        lambda f: f.service.abandoned,
    ),
    (
        "calls_short_abandoned_today",
        "Callers who hung up within SHORT_ABANDON_SECONDS today.",
        lambda f: f.service.short_abandoned,
    ),
    (
        "average_speed_of_answer_seconds",
        "Today's mean wait of the answered, joining the queue to an adviser accepting.",
        lambda f: f.service.average_speed_of_answer,
    ),
    (
        "callbacks_due",
        "Booked callbacks due by the end of today, not yet overdue.",
        lambda f: f.callbacks_due,
    ),
    (
        "callbacks_overdue",
        "Booked callbacks later than WALLBOARD_CALLBACK_GRACE_SECONDS.",
        lambda f: f.callbacks_overdue,
    ),
    (
        "callbacks_failed_today",
        "Callbacks that failed after their last attempt today.",
        lambda f: f.callbacks_failed,
    ),
)


def _rows(board: Wallboard) -> Iterator[tuple[str, str, Figures]]:
    """(library, topic, figures) for every row of the board."""
    yield ALL, ALL, board.overall
    for row in board.libraries:
        yield row.name, ALL, row
    for row in board.topics:
        yield ALL, row.key, row


class WallboardGauges(Collector):
    """A one-scrape collector of a board worked out just now (or of none: the database did not answer)."""

    def __init__(self, board: Wallboard | None) -> None:
        self.board = board

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            PREFIX + "wallboard_figures_up", "1 when the wallboard's figures could be read from the database."
        )
        up.add_metric([], 1 if self.board is not None else 0)
        yield up
        if self.board is None:
            return
        for name, words, figure in _FIGURES:
            family = GaugeMetricFamily(PREFIX + name, words, labels=["library", "topic"])
            for library, topic, row in _rows(self.board):
                value = figure(row)
                if value is not None:
                    family.add_metric([library, topic], float(value))
            yield family
        advisers = GaugeMetricFamily(
            PREFIX + "advisers", "Advisers in each state now.", labels=["library", "topic", "state"]
        )
        for library, topic, row in _rows(self.board):
            for state, _ in STATES:
                advisers.add_metric([library, topic, state.value], row.advisers_in(state))
        yield advisers
