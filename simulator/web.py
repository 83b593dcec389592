"""Simulator mode inside the app: the simulated Twilio world, its fake REST API, and the browser phone.

Only `create_app` calls `init_simulator`, and only when SIMULATOR_ENABLED is true; production never serves it.

The browser phone (GET /simulator) is a page plus JSON endpoints under /simulator/api. Each endpoint drives the
world synchronously: the world posts webhooks to this same app over HTTP while the request waits, which is why
the dev server must be threaded. The page polls the call's state to show the journey as it happens.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy import select

from models import Adviser
from models.demo import ADVISERS, client_identity_for
from runtime.web import db_session, services
from simulator.call_engine import Call, CallEnded, CallStateError, RequestsTransport
from simulator.clock import can_skip_time
from simulator.fake_rest import EXTENSION_KEY as WORLD_KEY
from simulator.fake_rest import init_fake_twilio
from simulator.live import call_summary, journey_of
from simulator.spec import check_spec_readable
from simulator.world import AdviserClient, SimulatedTwilio, SimulatorError
from telephony.numbers import to_e164

simulator_bp = Blueprint(
    "simulator",
    __name__,
    url_prefix="/simulator",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

WITHHELD = "withheld"
# Numbers a tester can ring from without typing one. 07700 900xxx is Ofcom's drama range: safe to show,
# but phonenumbers does not count it as a mobile, so the mobile-only paths (texts) need a real-looking mobile.
DEMO_CALLERS = (
    ("+447400123456", "Mobile 07400 123456"),
    ("+441484123456", "Huddersfield landline 01484 123456"),
    ("+447700900123", "Drama-range number 07700 900123"),
)
WAITS_ALLOWED_SECONDS = (60, 300)
UK_TIME = ZoneInfo("Europe/London")
# A browser phone that stops its heartbeat this long stops ringing (real seconds, whatever the call clock does).
REGISTRATION_LEASE_SECONDS = 30
# Transcript kinds a resident would not notice; the page leaves them out.
QUIET_KINDS = frozenset({"gather-waiting", "paused", "keys-ignored", "waiting"})


def init_simulator(app: Flask) -> SimulatedTwilio:
    """Build the world that plays Twilio for this app; serve the fake REST API and the browser phone."""
    check_spec_readable()  # else every fake REST request fails and no caller ever reaches an adviser
    with app.app_context():
        app_services = services()
    settings = app_services.settings
    world = SimulatedTwilio(
        base_url=settings.public_base_url or "http://127.0.0.1:5000",
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        transport=RequestsTransport(),
        clock=app_services.clock,
        phone_numbers=(settings.twilio_phone_number,),
    )
    init_fake_twilio(app, world)
    app.register_blueprint(simulator_bp)
    return world


def _world() -> SimulatedTwilio:
    world: SimulatedTwilio = current_app.extensions[WORLD_KEY]
    return world


def _problem(status: int, message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def _public_base() -> str:
    return (services().settings.public_base_url or request.host_url).rstrip("/")


# -- the page ------------------------------------------------------------------------------------------


@simulator_bp.get("")
@simulator_bp.get("/")
def phone_page() -> str:
    """The browser phone: a resident's handset and an adviser's browser phone side by side."""
    return render_template(
        "simulator/phone.html",
        council_number=services().settings.twilio_phone_number,
        demo_callers=DEMO_CALLERS,
        advisers=_advisers(),
        can_skip_time=can_skip_time(services().clock),
    )


def _advisers() -> list[dict[str, str]]:
    """Advisers from the database (seeded demo advisers), or the demo list before the first seed."""
    rows = db_session().scalars(
        select(Adviser).where(Adviser.client_identity.is_not(None)).order_by(Adviser.name)
    )
    found = [
        {
            "identity": a.client_identity or "",
            "name": a.name,
            "library": a.home_library.name,
            "state": a.state.value,
        }
        for a in rows
    ]
    return found or [
        {"identity": client_identity_for(name), "name": name, "library": library, "state": "offline"}
        for name, library, _skills, _languages in ADVISERS
    ]


# -- the resident's phone ------------------------------------------------------------------------------


def _gather_keys(call: Call) -> dict[str, Any] | None:
    """What the waiting <Gather> takes, so the page can send a whole entry (an 8-digit number) in one go."""
    gather = getattr(call, "_gather", None)  # the engine's own record; read-only here
    if gather is None:
        return None
    verb = gather.verb
    return {
        "input": sorted(verb.input),
        "num_digits": verb.num_digits,
        "finish_on_key": verb.finish_on_key,
    }


def _event(event: Any) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "at": event.at.isoformat(),
        "text": event.text,
        "language": event.language,
        "voice": event.voice,
        "detail": dict(event.detail),
    }


def call_state(call: Call) -> dict[str, Any]:
    """Everything the page shows about one call: what was heard and done, where it is, what the app recorded."""
    queue_name = None
    if call.in_queue:
        enqueued = call.events("enqueued")
        queue_name = enqueued[-1].text if enqueued else None
    app_services = services()
    return {
        "sid": call.sid,
        "from": call.from_,
        "to": call.to,
        "status": call.status,
        "ended": call.ended,
        "duration_seconds": call.duration_seconds,
        "gather": _gather_keys(call),
        "in_queue": call.in_queue,
        "queue_name": queue_name,
        "queue_position": call.queue_position,
        "bridged_with": call.bridged_with.to if call.bridged_with is not None else None,
        "transcript": [_event(e) for e in list(call.transcript) if e.kind not in QUIET_KINDS],
        # Texts arrive through the fake REST API (sent by a worker job), so they are looked up by number.
        "texts": [message.body for message in list(_world().messages) if message.to == call.from_],
        "journey": journey_of(app_services, call.sid),
        # The fake REST API failing (not refusing) means nothing can connect or text this caller: say so.
        "simulator_failures": [
            f"{failure.method} {failure.path} failed: {failure.error}"
            for failure in _world().rest_failures_since(call.date_created)
        ],
        "recorded": call_summary(app_services, call.sid),
        "now": app_services.clock.now().isoformat(),
    }


@simulator_bp.post("/api/calls")
def dial() -> tuple[Response, int]:
    """Ring the council from the chosen number (or withheld), and run the call to its first question."""
    body = request.get_json(silent=True) or {}
    raw = str(body.get("from", "")).strip()
    if raw == WITHHELD:
        caller = None
    else:
        caller = to_e164(raw, services().settings.default_region)
        if caller is None:
            return _problem(400, f"{raw or 'an empty number'} is not a phone number; choose withheld instead")
    world, base = _world(), _public_base()
    world.run_pending()
    call = world.place_call(
        to=services().settings.twilio_phone_number,
        url=f"{base}/voice/incoming",
        from_=caller,
        fallback_url=f"{base}/voice/fallback",
    )
    world.run_pending()
    return jsonify(call_state(call)), 201


def _find_call(call_sid: str) -> Call | None:
    try:
        return _world().call(call_sid)
    except SimulatorError:
        return None


@simulator_bp.get("/api/calls/<call_sid>")
def show_call(call_sid: str) -> tuple[Response, int]:
    call = _find_call(call_sid)
    if call is None:
        return _problem(404, f"no call {call_sid}")
    _world().run_pending()  # let Twilio act on anything the app asked of it since the last look
    return jsonify(call_state(call)), 200


def _act_on_call(call_sid: str, act: Callable[[Call], object]) -> tuple[Response, int]:
    call = _find_call(call_sid)
    if call is None:
        return _problem(404, f"no call {call_sid}")
    world = _world()
    world.run_pending()
    try:
        act(call)
    except CallEnded:
        return _problem(409, "the call has ended")
    except CallStateError as error:
        return _problem(409, str(error))
    world.run_pending()
    return jsonify(call_state(call)), 200


@simulator_bp.post("/api/calls/<call_sid>/press")
def press(call_sid: str) -> tuple[Response, int]:
    keys = str((request.get_json(silent=True) or {}).get("keys", ""))
    if not keys or any(key not in "0123456789*#" for key in keys):
        return _problem(400, "keys are 0-9, * and #")
    return _act_on_call(call_sid, lambda call: call.press(keys))


@simulator_bp.post("/api/calls/<call_sid>/speak")
def speak(call_sid: str) -> tuple[Response, int]:
    body = request.get_json(silent=True) or {}
    words = str(body.get("words", "")).strip()
    try:
        confidence = float(body.get("confidence", 0.9))
    except (TypeError, ValueError):
        return _problem(400, "confidence is a number from 0 to 1")
    if not words or not 0.0 <= confidence <= 1.0:
        return _problem(400, "say some words, with a confidence from 0 to 1")
    return _act_on_call(call_sid, lambda call: call.speak(words, confidence=confidence))


@simulator_bp.post("/api/calls/<call_sid>/silence")
def silence(call_sid: str) -> tuple[Response, int]:
    return _act_on_call(call_sid, lambda call: call.stay_silent())


@simulator_bp.post("/api/calls/<call_sid>/wait")
def wait(call_sid: str) -> tuple[Response, int]:
    """Skip ahead (1 or 5 minutes) with the caller on hold; needs a clock that can jump."""
    try:
        seconds = int((request.get_json(silent=True) or {}).get("seconds", 0))
    except (TypeError, ValueError):
        seconds = 0
    if seconds not in WAITS_ALLOWED_SECONDS:
        return _problem(400, "wait 60 or 300 seconds")
    if not can_skip_time(services().clock):
        # On the real clock the engine would sleep through the wait while this request hangs.
        return _problem(409, "this server runs on the real clock, so time cannot be skipped")
    return _act_on_call(call_sid, lambda call: call.wait(seconds))


@simulator_bp.post("/api/calls/<call_sid>/hangup")
def hang_up(call_sid: str) -> tuple[Response, int]:
    return _act_on_call(call_sid, lambda call: call.hang_up())


# -- the adviser's browser phone ----------------------------------------------------------------------


def adviser_state(identity: str) -> dict[str, Any]:
    client = _world().browser(identity)
    current = client.current_call
    session = db_session()
    adviser = session.scalar(select(Adviser).where(Adviser.client_identity == identity))
    session.rollback()  # a read only: don't hold the transaction (SQLite) while the page polls
    return {
        "identity": identity,
        "registered": client.registered,
        "muted": client.muted,
        "routing_state": adviser.state.value if adviser else None,
        "state_reason": adviser.state_reason if adviser else None,
        "offers": [
            {
                "sid": offer.sid,
                "from": offer.parent.from_ if offer.parent is not None else offer.from_,
                "ringing_since": offer.date_created.isoformat(),
                "parameters": dict(offer.custom_parameters),
            }
            for offer in client.pending_offers
        ],
        "current_call": None
        if current is None
        else {
            "sid": current.sid,
            "status": current.status,
            "ended": current.ended,
            "bridged_with": current.bridged_with.from_ if current.bridged_with is not None else None,
            "heard": current.heard,
        },
    }


@simulator_bp.get("/api/advisers/<identity>/offers")
def adviser_offers(identity: str) -> tuple[Response, int]:
    _world().run_pending()  # the router rings advisers through REST; those calls start here
    return jsonify(adviser_state(identity)), 200


def _act_as_adviser(identity: str, act: Callable[[AdviserClient], object]) -> tuple[Response, int]:
    world = _world()
    world.run_pending()
    try:
        act(world.browser(identity))
    except (SimulatorError, CallEnded, CallStateError) as error:
        return _problem(409, str(error))
    world.run_pending()
    return jsonify(adviser_state(identity)), 200


@simulator_bp.post("/api/advisers/<identity>/state")
def adviser_sets_state(identity: str) -> tuple[Response, int]:
    """Log an adviser in or out, or on a break, as their console would (the simulator has no login)."""
    from routing.advisers import change_state
    from routing.states import StateChangeRefused

    wanted = (request.get_json(silent=True) or {}).get("state")
    session = db_session()
    try:
        with session.begin():
            adviser = session.scalar(select(Adviser).where(Adviser.client_identity == identity))
            if adviser is None:
                return _problem(404, f"no adviser has the identity {identity}")
            change_state(services(), session, adviser.id, str(wanted), "set in the phone simulator")
    except StateChangeRefused as refused:
        return _problem(409, str(refused))
    return jsonify(adviser_state(identity)), 200


@simulator_bp.post("/api/advisers/<identity>/answer")
def adviser_answers(identity: str) -> tuple[Response, int]:
    """Take the oldest ringing call, as Accept on the desk does: for a browser, answering is the acceptance."""
    return _act_as_adviser(identity, lambda client: client.answer())


@simulator_bp.post("/api/advisers/<identity>/reject")
def adviser_rejects(identity: str) -> tuple[Response, int]:
    return _act_as_adviser(identity, lambda client: client.reject())


@simulator_bp.post("/api/advisers/<identity>/hangup")
def adviser_hangs_up(identity: str) -> tuple[Response, int]:
    return _act_as_adviser(identity, lambda client: client.hang_up())


# -- the desk's simulated softphone: a browser phone rings only while its page keeps it registered --------------


def _known_adviser(identity: str) -> bool:
    session = db_session()
    known = session.scalar(select(Adviser.id).where(Adviser.client_identity == identity)) is not None
    session.rollback()
    return known


@simulator_bp.post("/api/advisers/<identity>/register")
def adviser_registers(identity: str) -> tuple[Response, int]:
    """An open desk (or this page) registers the adviser's browser phone for REGISTRATION_LEASE_SECONDS."""
    if not _known_adviser(identity):
        return _problem(404, f"no adviser has the identity {identity}")
    _world().browser(identity).register(lease_seconds=REGISTRATION_LEASE_SECONDS)
    return adviser_offers(identity)


@simulator_bp.post("/api/advisers/<identity>/heartbeat")
def adviser_heartbeat(identity: str) -> tuple[Response, int]:
    """Renew the registration; 409 once it has lapsed, so the page registers again (and says it was offline)."""
    browser = _world().browser(identity)
    if not browser.registered:
        return _problem(409, "this browser phone is not registered (its heartbeat stopped); register again")
    browser.register(lease_seconds=REGISTRATION_LEASE_SECONDS)
    return adviser_offers(identity)


@simulator_bp.post("/api/advisers/<identity>/unregister")
def adviser_unregisters(identity: str) -> tuple[Response, int]:
    """The desk closed: calls stop ringing this browser (a <Dial><Client> to it ends at once)."""
    _world().browser(identity).unregister()
    return adviser_offers(identity)


@simulator_bp.post("/api/advisers/<identity>/mute")
def adviser_mutes(identity: str) -> tuple[Response, int]:
    """Mute or unmute (`{"muted": true}`): only a flag here, since the simulator carries no audio."""
    muted = (request.get_json(silent=True) or {}).get("muted")
    if not isinstance(muted, bool):
        return _problem(400, 'send {"muted": true} or {"muted": false}')
    _world().browser(identity).muted = muted
    return adviser_offers(identity)


# -- the clock ---------------------------------------------------------------------------------------


@simulator_bp.post("/api/clock")
def set_clock() -> tuple[Response, int]:
    """Jump the shared clock to a UK local time (e.g. a bank holiday morning) to try opening hours by hand."""
    clock = services().clock
    if not can_skip_time(clock) or not callable(getattr(clock, "set", None)):
        return _problem(409, "this server runs on the real clock, so the time cannot be changed")
    try:
        moment = datetime.fromisoformat(str((request.get_json(silent=True) or {}).get("at", "")))
    except ValueError:
        return _problem(400, "give the time like 2026-12-25T10:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UK_TIME)
    clock.set(moment)
    return jsonify({"now": clock.now().isoformat()}), 200
