"""The supervisor's reports for a range of days: the headline figures (service level, speed of answer,
abandonment) on the reports page, then one page per report with its definition, a chart drawn from its table
(static/console/report_charts.js, Chart.js vendored) and the same rows as a CSV download.

Figures come from console.supervisor.report_tables (SQL aggregates); this module reads the range and answers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from console.auth import supervisor_required
from console.inputs import Inputs
from console.supervisor import report_tables, supervisor_bp
from console.supervisor.report_tables import COUNT, PERCENT, SECONDS, Settings, chart_value, shown
from routing import reports
from routing.reports import LONGEST_PERIOD, Period
from routing.service_level import COUNCIL_TIME, ServiceRules
from runtime.web import services


def _settings() -> Settings:
    settings = services().settings
    return Settings(
        rules=ServiceRules.from_settings(settings),
        callback_grace=timedelta(seconds=settings.wallboard_callback_grace_seconds),
    )


def _today() -> date:
    return services().clock.now().astimezone(COUNCIL_TIME).date()


def _typed(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _read_period(inputs: Inputs) -> tuple[Period | None, dict[str, str]]:
    """The range asked for (no first day: today; no last day: the first), or None with field errors; and the
    values to show in the form."""
    typed_first, typed_last = request.args.get("from") or "", request.args.get("until") or ""
    first = inputs.uk_date("from", typed_first, "The first day") if typed_first else _today()
    last = inputs.uk_date("until", typed_last, "The last day") if typed_last else first
    if first and last and last < first:
        inputs.fail("until", "The last day must be the same as or after the first.")
    elif first and last and last - first >= LONGEST_PERIOD:
        inputs.fail("until", "Choose a range of at most a year (366 days).")
    values = {
        "from": typed_first[:20] or (_typed(first) if first else ""),
        "until": typed_last[:20] or (_typed(last) if last else ""),
    }
    if inputs.errors or first is None or last is None:
        return None, values
    return Period(first, last), values


def _range_words(period: Period) -> str:
    if period.first == period.last:
        return period.first.strftime("%A %-d %B %Y")
    return f"{period.first.strftime('%-d %B %Y')} to {period.last.strftime('%-d %B %Y')}"


def _common(period: Period | None, values: dict[str, str], inputs: Inputs) -> dict[str, Any]:
    rules = _settings().rules
    return {
        "period": period,
        "range_words": _range_words(period) if period else None,
        "values": values,
        "errors": inputs.errors,
        "query": {"from": values["from"], "until": values["until"]},
        "reports": report_tables.REPORTS,
        "shown": shown,
        "chart_value": chart_value,
        "answered_within": int(rules.answered_within.total_seconds()),
        "short_abandon": int(rules.short_abandon.total_seconds()),
    }


@supervisor_bp.get("/reports")
@supervisor_required
def reports_page() -> ResponseReturnValue:
    """The range's headline figures and calls by hour, then the list of reports."""
    inputs = Inputs()
    period, values = _read_period(inputs)
    context = _common(period, values, inputs)
    if period is not None:
        with services().session_factory() as session:
            whole = reports.overall(session, period, _settings().rules)
            context["by_hour"] = report_tables.calls_by_hour(session, period, _settings())[0]
        figures = whole.service
        context["headline"] = [
            ("Calls", shown(whole.calls, COUNT), "calls"),
            ("Service level", shown(figures.service_level, PERCENT), "service-level"),
            ("Average speed of answer", shown(figures.average_speed_of_answer, SECONDS), "speed-of-answer"),
            ("Abandonment rate", shown(figures.abandonment_rate, PERCENT), "abandonment"),
            ("Answered", shown(figures.answered, COUNT), "answered"),
            ("Abandoned", shown(figures.abandoned, COUNT), "abandoned"),
            ("Short abandons", shown(figures.short_abandoned, COUNT), "short-abandons"),
            ("Left for a callback", shown(figures.to_callback, COUNT), "to-callback"),
        ]
    return render_template("supervisor/reports.html", **context), 400 if inputs.errors else 200


def _report(key: str) -> tuple[report_tables.Report | None, dict[str, Any], Inputs]:
    if key not in report_tables.KEYS:
        abort(404)
    inputs = Inputs()
    period, values = _read_period(inputs)
    context = _common(period, values, inputs)
    report = None
    if period is not None:
        with services().session_factory() as session:
            report = report_tables.build(session, key, period, _settings())
    return report, context, inputs


@supervisor_bp.get("/reports/<key>")
@supervisor_required
def report_page(key: str) -> ResponseReturnValue:
    """One report over the range: definition, chart, table, CSV link."""
    report, context, inputs = _report(key)
    title = next(title for found, title, *_ in report_tables.REPORTS if found == key)
    return (
        render_template("supervisor/report.html", report=report, key=key, title=title, **context),
        400 if inputs.errors else 200,
    )


@supervisor_bp.get("/reports/<key>.csv")
@supervisor_required
def report_csv(key: str) -> ResponseReturnValue:
    """The report's rows as CSV, named by report and range; a wrong range is a plain 400 that says why."""
    report, context, inputs = _report(key)
    if report is None or context["period"] is None:
        message = " ".join(inputs.errors.values()) or "Choose the days to report on."
        return Response(message + "\n", status=400, mimetype="text/plain")
    period: Period = context["period"]
    name = f"{key}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    return Response(
        report_tables.as_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
