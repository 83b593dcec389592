"""The reports as tables: one list of rows per report that the page shows (a chart is drawn from the table by
static/console/report_charts.js) and the CSV download writes, so the two can never disagree.

Plain Python: the figures come from routing.reports, routing.contact_reports, callbacks.reports and
ivr.reports; here they only get headings, units and words.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from callbacks.reports import callbacks_by_day
from ivr.reports import menu_funnel
from models import Topic
from routing import contact_reports, reports
from routing.reports import Period
from routing.service_level import ServiceFigures, ServiceRules

TEXT, COUNT, PERCENT, SECONDS, COUNT_SHARE = "text", "count", "percent", "seconds", "count_share"
TOPIC_WORDS = {
    Topic.COUNCIL_TAX: "Council tax",
    Topic.HOUSING_BENEFIT: "Housing benefit",
    Topic.GENERAL: "General",
}


@dataclass(frozen=True)
class Column:
    """A column: its heading, how its values read, and whether the chart draws it (a series)."""

    heading: str
    unit: str = COUNT
    series: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]
    totals: tuple[Any, ...] | None = None  # a last row for the whole period (not drawn in the chart)
    chart: str | None = None  # bar, line, stacked-bar
    chart_unit: str = COUNT


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    summary: str  # one line for the list of reports
    definition: str  # what is counted, stated on the page
    tables: list[Table] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """What the reports need to know of the council's definitions."""

    rules: ServiceRules
    callback_grace: timedelta


# --- words for values ------------------------------------------------------------------------------------


def shown(value: Any, unit: str) -> str:
    """A value as the page shows it: 1,234; 87.5%; 65 s; "–" where there is nothing to say."""
    if unit == COUNT_SHARE:
        count, share = value
        return f"{count:,}" if share is None else f"{count:,} ({shown(share, PERCENT)})"
    if value is None:
        return "–"
    if unit == COUNT:
        return f"{value:,}"
    if unit == PERCENT:
        return f"{value * 100:.1f}%"
    if unit == SECONDS:
        return f"{value:.0f} s"
    return str(value)


def chart_value(value: Any, unit: str) -> str:
    """The number the chart draws (data-value): raw counts, shares 0..1, seconds; empty for none."""
    if unit == COUNT_SHARE:
        value = value[1]
    return "" if value is None or unit == TEXT else repr(round(float(value), 4))


def _csv_cells(value: Any, unit: str) -> list[Any]:
    if unit == COUNT_SHARE:
        return [value[0], _csv_cells(value[1], PERCENT)[0]]
    if value is None:
        return [""]
    if unit == PERCENT:
        return [round(value * 100, 1)]
    if unit == SECONDS:
        return [round(value, 1)]
    if unit == TEXT and isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return ["'" + value]  # never a formula when the file is opened in a spreadsheet
    return [value]


def _csv_headings(column: Column) -> list[str]:
    if column.unit == COUNT_SHARE:
        return [column.heading, f"{column.heading} (%)"]
    suffix = {PERCENT: " (%)", SECONDS: " (seconds)"}.get(column.unit, "")
    return [column.heading + suffix]


def as_csv(report: Report) -> str:
    """The report's tables as CSV, totals included. Several tables (the menu's versions, abandonment and its
    waits) follow one another, each with its own headings and a first column naming it."""
    out = io.StringIO()
    writer = csv.writer(out)
    several = len(report.tables) > 1
    for n, table in enumerate(report.tables):
        if n:
            writer.writerow([])
        headings = [h for column in table.columns for h in _csv_headings(column)]
        writer.writerow(["Table", *headings] if several else headings)
        for row in [*table.rows, *([table.totals] if table.totals else [])]:
            cells = [
                c
                for value, column in zip(row, table.columns, strict=True)
                for c in _csv_cells(value, column.unit)
            ]
            writer.writerow([table.caption, *cells] if several else cells)
    return out.getvalue()


# --- the reports --------------------------------------------------------------------------------------------


def _day(day: date) -> str:
    return day.strftime("%a %-d %b %Y")


def _service_columns(rules: ServiceRules) -> tuple[Column, ...]:
    within = int(rules.answered_within.total_seconds())
    return (
        Column("Day", TEXT),
        Column("Service level", PERCENT, series=True),
        Column(f"Answered within {within} s"),
        Column("Answered"),
        Column("Abandoned"),
    )


def _service_row(label: str, figures: ServiceFigures) -> tuple[Any, ...]:
    return (label, figures.service_level, figures.answered_in_time, figures.answered, figures.abandoned)


def calls_by_day(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = reports.by_day(session, period, settings.rules)
    whole = reports.overall(session, period, settings.rules)
    columns = (
        Column("Day", TEXT),
        Column("Calls", series=True),
        Column("Answered", series=True),
        Column("Abandoned", series=True),
        Column("Short abandons"),
        Column("Left for a callback"),
    )

    def line(label: str, calls: int, s: ServiceFigures) -> tuple[Any, ...]:
        return (label, calls, s.answered, s.abandoned, s.short_abandoned, s.to_callback)

    return [
        Table(
            "Calls by day",
            columns,
            [line(_day(r.key), r.calls, r.service) for r in rows],  # type: ignore[arg-type]
            line("All days", whole.calls, whole.service),
            chart="bar",
        )
    ]


def calls_by_hour(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = reports.by_hour(session, period, settings.rules)
    columns = (
        Column("Hour", TEXT),
        Column("Calls", series=True),
        Column("Answered", series=True),
        Column("Abandoned", series=True),
    )
    return [
        Table(
            "Calls by hour of the day",
            columns,
            [
                (
                    f"{r.key:02d}:00 to {int(r.key) + 1:02d}:00",
                    r.calls,
                    r.service.answered,
                    r.service.abandoned,
                )  # type: ignore[call-overload]
                for r in rows
            ],
            chart="bar",
        )
    ]


def service_level(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = reports.by_day(session, period, settings.rules)
    whole = reports.overall(session, period, settings.rules).service
    return [
        Table(
            "Service level by day",
            _service_columns(settings.rules),
            [_service_row(_day(r.key), r.service) for r in rows],  # type: ignore[arg-type]
            _service_row("All days", whole),
            chart="line",
            chart_unit=PERCENT,
        )
    ]


def speed_of_answer(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = reports.by_day(session, period, settings.rules)
    whole = reports.overall(session, period, settings.rules).service
    columns = (
        Column("Day", TEXT),
        Column("Average speed of answer", SECONDS, series=True),
        Column("Answered"),
    )
    return [
        Table(
            "Average speed of answer by day",
            columns,
            [(_day(r.key), r.service.average_speed_of_answer, r.service.answered) for r in rows],  # type: ignore[arg-type]
            ("All days", whole.average_speed_of_answer, whole.answered),
            chart="line",
            chart_unit=SECONDS,
        )
    ]


def abandonment(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = reports.by_day(session, period, settings.rules)
    whole = reports.overall(session, period, settings.rules).service
    columns = (
        Column("Day", TEXT),
        Column("Abandonment rate", PERCENT, series=True),
        Column("Abandoned"),
        Column("Short abandons"),
        Column("Answered"),
    )

    def line(label: str, s: ServiceFigures) -> tuple[Any, ...]:
        return (label, s.abandonment_rate, s.abandoned, s.short_abandoned, s.answered)

    return [
        Table(
            "Abandonment by day",
            columns,
            [line(_day(r.key), r.service) for r in rows],  # type: ignore[arg-type]
            line("All days", whole),
            chart="line",
            chart_unit=PERCENT,
        ),
        Table(
            "How long callers waited before hanging up",
            (Column("Waited", TEXT), Column("Callers who hung up", series=True)),
            [(band, count) for band, count in reports.give_up_waits(session, period, settings.rules)],
            chart="bar",
        ),
    ]


def menu(session: Session, period: Period, settings: Settings) -> list[Table]:
    columns = (
        Column("Menu step", TEXT),
        Column("Callers who reached it", series=True),
        Column("Asked for a person", series=True),
        Column("Not understood", series=True),
        Column("Hung up here", series=True),
    )
    return [
        Table(
            f"Flow {version.flow}, version {version.version}",
            columns,
            [
                (s.node, s.reached, s.asked_for_person, s.not_understood, s.hung_up_here)
                for s in version.steps
            ],
            chart="bar",
        )
        for version in menu_funnel(session, period.since, period.until)
    ]


def callbacks(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = callbacks_by_day(session, period, settings.callback_grace)
    columns = (
        Column("Day booked", TEXT),
        Column("Booked"),
        Column("Kept", series=True),
        Column("Late", series=True),
        Column("Failed", series=True),
        Column("Cancelled"),
        Column("Still to ring"),
        Column("Kept on time", PERCENT),
    )
    total = [
        sum(getattr(r, name) for r in rows)
        for name in ("booked", "kept", "late", "failed", "cancelled", "open")
    ]
    finished = total[1] + total[2] + total[3]
    return [
        Table(
            "Callbacks by the day they were booked",
            columns,
            [
                (_day(r.day), r.booked, r.kept, r.late, r.failed, r.cancelled, r.open, r.kept_rate)
                for r in rows
            ],
            ("All days", *total, total[1] / finished if finished else None),
            chart="stacked-bar",
        )
    ]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def wrap_up_codes(session: Session, period: Period, settings: Settings) -> list[Table]:
    codes, uncoded = contact_reports.wrap_up_codes(session, period)
    coded = sum(row.contacts for row in codes)
    return [
        Table(
            "Conversations by wrap-up reason",
            (Column("Reason", TEXT), Column("Conversations", series=True), Column("Share of coded", PERCENT)),
            [(row.label, row.contacts, _share(row.contacts, coded)) for row in codes],
            ("Not coded yet", uncoded, None),
            chart="bar",
        )
    ]


def avoidable(session: Session, period: Period, settings: Settings) -> list[Table]:
    found = contact_reports.avoidable_contacts(session, period)
    columns = (
        Column("Cause", TEXT),
        Column("Avoidable contacts", series=True),
        Column("Share of coded conversations", PERCENT),
    )
    return [
        Table(
            "Avoidable contacts by cause",
            columns,
            [(row.label, row.contacts, _share(row.contacts, found.coded)) for row in found.by_cause],
            ("All causes", found.avoidable, _share(found.avoidable, found.coded)),
            chart="bar",
        )
    ]


def repeats(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = contact_reports.repeat_contacts(session, period)
    columns = (
        Column("Topic", TEXT),
        Column("Contacts"),
        *(
            Column(f"Called again within {days} days", COUNT_SHARE, series=True)
            for days in contact_reports.REPEAT_WINDOWS
        ),
    )

    def line(row: contact_reports.RepeatContacts) -> tuple[Any, ...]:
        label = TOPIC_WORDS[row.topic] if row.topic else "All topics"
        return (
            label,
            row.contacts,
            *((row.repeated[d], row.rate(d)) for d in contact_reports.REPEAT_WINDOWS),
        )

    return [
        Table(
            "Repeat contacts by topic",
            columns,
            [line(row) for row in rows[:-1]],
            line(rows[-1]),
            chart="bar",
            chart_unit=PERCENT,
        )
    ]


def library_load(session: Session, period: Period, settings: Settings) -> list[Table]:
    rows = reports.library_load(session, period, settings.rules)
    answered = sum(row.answered_by_its_advisers for row in rows)
    columns = (
        Column("Library", TEXT),
        Column("Callers whose library it is", series=True),
        Column("Answered by its advisers", series=True),
        Column("Share of all answered", PERCENT),
        Column("Service level for its callers", PERCENT),
    )
    return [
        Table(
            "Load per library",
            columns,
            [
                (
                    row.library,
                    row.callers.joined,
                    row.answered_by_its_advisers,
                    _share(row.answered_by_its_advisers, answered),
                    row.callers.service_level,
                )
                for row in rows
            ],
            chart="bar",
        )
    ]


TableMaker = Callable[[Session, Period, Settings], list[Table]]
# (key, title, summary, definition, maker), in the order the list of reports shows them.
REPORTS: Sequence[tuple[str, str, str, str, TableMaker]] = (
    ("calls-by-day", "Calls by day", "Calls, answered and abandoned, each day.",
     "Calls: every call to the council's number that started that day, whether or not it reached the queue. "
     "Answered, abandoned and left for a callback count callers who joined the queue that day.", calls_by_day),
    ("calls-by-hour", "Calls by hour of the day", "When in the day residents call, over the whole range.",
     "Calls that started in each hour of the council's clock (UK time), all the days of the range together.",
     calls_by_hour),
    ("service-level", "Service level", "The share of callers answered in time, each day.",
     "Service level: callers answered within the threshold, of those answered or abandoned. Short abandons and "
     "callers who left for a callback are not in it.", service_level),
    ("speed-of-answer", "Average speed of answer", "How long answered callers waited, each day.",
     "Average speed of answer: the mean wait, from joining the queue to an adviser accepting, of the callers "
     "answered.", speed_of_answer),
    ("abandonment", "Abandonment", "Callers who hung up while waiting, and how long they had waited.",
     "Abandonment rate: callers who hung up in the queue after the short-abandon limit, of those answered or "
     "abandoned. The wait bands show every caller who hung up, short abandons in the first.", abandonment),
    ("menu", "Menu funnel", "Where callers go in the voice menu, ask for a person or give up, by flow version.",
     "For each version of a menu the calls of the range used: callers who reached each step, asked for a person "
     "there (pressed 0 or said \u201cadviser\u201d), were not understood at least once (silence or a key the "
     "step does not know), and whose call ended there without reaching the queue or booking a callback.", menu),
    ("callbacks", "Callbacks kept", "Booked callbacks kept, late or failed, by the day they were booked.",
     "Kept: the resident was reached and first rung on time (by the end of their slot; for \u201cas soon as "
     "possible\u201d, within the grace the wallboard allows). Late: reached, but first rung after that. Failed: "
     "every attempt made, nobody reached. Residents who kept their place in the queue are counted with the "
     "queue.", callbacks),
    ("wrap-up", "Wrap-up reasons", "What conversations were about, as advisers coded them.",
     "Conversations that started in the range, by the reason the adviser chose at wrap-up; shares are of coded "
     "conversations.", wrap_up_codes),
    ("avoidable", "Avoidable contacts", "Contacts that should not have been needed, by cause.",
     "Coded conversations the adviser marked avoidable, by the cause they chose; shares are of all coded "
     "conversations.", avoidable),
    ("repeat-contacts", "Repeat contacts", "Residents who called again about the same thing within 7, 14, 28 days.",
     "A contact is a call with a topic from a number that was not withheld. It counts as repeated within N days "
     "when the same number called about the same topic again in the N days after it (even after the range). "
     "First-contact resolution is what is left.", repeats),
    ("library-load", "Load per library", "Callers each library was home to, and what its advisers answered.",
     "Callers whose library it is: callers who joined the queue with it as their home library. Answered by its "
     "advisers: callers answered by advisers whose home library it is, wherever the caller came from.",
     library_load),
)  # fmt: skip
KEYS = {key for key, *_ in REPORTS}


def build(session: Session, key: str, period: Period, settings: Settings) -> Report:
    """One report over the period (key must be one of KEYS)."""
    for found, title, summary, definition, maker in REPORTS:
        if found == key:
            return Report(key, title, summary, definition, maker(session, period, settings))
    raise KeyError(key)
