"""The supervisor's live wallboard: who waits, advisers by state, today's service and callbacks, per library and
per topic; also as a big screen for the wall (?big=1: larger type, no navigation).

Server-rendered; static/console/wallboard.js fetches the figures fragment again when the live stream
(/console/events) says the queue or an adviser changed, and every 15 s for the clocks. The figures come from
routing.wallboard; this module only formats them.
"""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from console.auth import supervisor_required
from console.supervisor import supervisor_bp
from routing import wallboard as figures
from routing.service_level import COUNCIL_TIME, ServiceRules
from routing.wallboard import STATES, Thresholds, Wallboard
from runtime.web import services


def _board() -> Wallboard:
    app_services = services()
    settings = app_services.settings
    with app_services.session_factory() as session:
        return figures.wallboard(
            session,
            app_services.clock.now(),
            ServiceRules.from_settings(settings),
            Thresholds.from_settings(settings),
        )


def duration(seconds: float | None) -> str:
    """A wait in words a wall screen can be read by: "45 seconds", "4 min 05 s", "1 hr 02 min"; "–" for none."""
    if seconds is None:
        return "–"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} second" + ("" if whole == 1 else "s")
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} hr {minutes:02d} min"


def spoken_duration(seconds: float | None) -> str:
    """The longest wait for the screen reader's announcement, rounded: "under a minute", "4 minutes"."""
    minutes = int(seconds or 0) // 60
    if minutes < 1:
        return "under a minute"
    return f"{minutes} minute" + ("" if minutes == 1 else "s")


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def _context(board: Wallboard, big: bool) -> dict[str, Any]:
    overall = board.overall
    waiting = f"{overall.waiting} caller{'' if overall.waiting == 1 else 's'} waiting"
    announcement = (
        f"{waiting}, longest {spoken_duration(overall.longest_wait_seconds)}."
        if overall.waiting
        else f"{waiting}."
    )
    service = overall.service_status(board.thresholds)
    if overall.service.service_level is not None:
        announcement += f" Service level {percent(overall.service.service_level)}, {service.words.lower()}."
    if overall.callbacks_overdue:
        announcement += (
            f" {overall.callbacks_overdue} callback{'s' if overall.callbacks_overdue > 1 else ''} overdue."
        )
    return {
        "board": board,
        "big": big,
        "states": STATES,
        "duration": duration,
        "percent": percent,
        "local_time": board.at.astimezone(COUNCIL_TIME).strftime("%H:%M:%S"),
        "announcement": announcement,
        # The announcement is made again only when one of these changes, not each time a wait grows a second.
        "announcement_key": "|".join(
            (
                str(overall.waiting),
                overall.wait_status(board.thresholds).words,
                service.words,
                str(overall.callbacks_overdue),
            )
        ),
    }


def _big() -> bool:
    return request.args.get("big") == "1"


@supervisor_bp.get("/wallboard")
@supervisor_required
def wallboard() -> ResponseReturnValue:
    """The wallboard; ?big=1 is the big screen (any other value: the ordinary page)."""
    big = _big()
    context = _context(_board(), big)
    context["figures_url"] = url_for("supervisor.wallboard_figures", **({"big": "1"} if big else {}))
    context["events_url"] = url_for("live.events")
    template = "supervisor/wallboard_big.html" if big else "supervisor/wallboard.html"
    response = Response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@supervisor_bp.get("/wallboard/figures")
@supervisor_required
def wallboard_figures() -> ResponseReturnValue:
    """The figures as an HTML fragment, fetched by the page's script when something changed."""
    response = Response(render_template("supervisor/_wallboard_figures.html", **_context(_board(), _big())))
    response.headers["Cache-Control"] = "no-store"
    return response
