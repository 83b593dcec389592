"""A fake of the Twilio REST API paths this service uses, served at /fake-twilio/2010-04-01/...

Calls, Queues and their Members, Messages; and for `flask twilio setup` the account's IncomingPhoneNumbers
(list, fetch, update) and Keys (list, fetch, create).

Every request is checked like Twilio would: HTTP Basic auth with AccountSid:AuthToken (401 otherwise),
then Twilio's own OpenAPI spec (400, code 20001, otherwise). Handlers only record intent in the world
(ring a phone, dequeue a caller, redirect or end a call); the call engine acts on it outside the request,
because the app calls this API while it is answering a webhook the engine is waiting on.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from runtime.logging import get_logger
from simulator.call_engine import API_VERSION, Call, RedirectCall, rfc2822
from simulator.spec import twilio_request_errors
from simulator.world import (
    ApiKey,
    IncomingNumber,
    SentMessage,
    SimulatedQueue,
    SimulatedTwilio,
    SimulatorError,
)

log = get_logger(__name__)
EXTENSION_KEY = "simulated_twilio"
URL_PREFIX = "/fake-twilio"
API = "/2010-04-01/Accounts/<account_sid>"

fake_twilio_bp = Blueprint("fake_twilio", __name__, url_prefix=URL_PREFIX)


def init_fake_twilio(app: Flask, world: SimulatedTwilio) -> None:
    """Attach the world and serve the fake REST API from this app."""
    app.extensions[EXTENSION_KEY] = world
    app.register_blueprint(fake_twilio_bp)


def _world() -> SimulatedTwilio:
    world: SimulatedTwilio = current_app.extensions[EXTENSION_KEY]
    return world


def twilio_error(status: int, code: int, message: str) -> Response:
    response = jsonify(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    )
    response.status_code = status
    return response


@fake_twilio_bp.before_request
def check_like_twilio() -> Response | None:
    world = _world()
    auth = request.authorization
    if auth is None or (auth.username, auth.password) != (world.account_sid, world.auth_token):
        return twilio_error(401, 20003, "Authenticate")
    if request.view_args and request.view_args.get("account_sid") != world.account_sid:
        return twilio_error(404, 20404, "The requested resource was not found")
    errors = twilio_request_errors(
        request.method, request.url, request.form.to_dict(flat=False), dict(request.headers)
    )
    if errors:
        return twilio_error(400, 20001, "; ".join(errors))
    return None


@fake_twilio_bp.errorhandler(Exception)
def simulator_failed(error: Exception) -> Response:
    """The fake itself broke (not a request Twilio would refuse): answer like Twilio's 500, and keep the failure
    for the browser phone, which otherwise shows a caller holding for ever while nothing can connect them."""
    if isinstance(error, HTTPException) and error.code is not None and error.code < 500:
        return twilio_error(error.code, 20000 + error.code, error.description or error.name)
    log.exception("fake_twilio.failed", method=request.method, path=request.path)
    failure = _world().record_rest_failure(request.method, request.path, f"{type(error).__name__}: {error}")
    return twilio_error(500, 20500, f"The simulated Twilio failed: {failure.error}")


# -- resource shapes (as twilio-python parses them) -------------------------------------------------


def _uri(world: SimulatedTwilio, rest: str) -> str:
    return f"/2010-04-01/Accounts/{world.account_sid}/{rest}"


def _when(moment: datetime | None) -> str | None:
    return rfc2822(moment) if moment else None


def call_resource(world: SimulatedTwilio, call: Call) -> dict[str, Any]:
    return {
        "sid": call.sid,
        "account_sid": world.account_sid,
        "parent_call_sid": call.parent.sid if call.parent else None,
        "from": call.from_,
        "from_formatted": call.from_,
        "to": call.to,
        "to_formatted": call.to,
        "status": call.status,
        "direction": call.direction,
        "answered_by": call.answered_by,
        "api_version": API_VERSION,
        "date_created": _when(call.date_created),
        "date_updated": _when(world.clock.now()),
        "start_time": _when(call.start_time),
        "end_time": _when(call.end_time),
        "duration": str(call.duration_seconds) if call.ended else None,
        "price": None,
        "price_unit": "GBP",
        "caller_name": None,
        "forwarded_from": None,
        "group_sid": None,
        "phone_number_sid": None,
        "queue_time": "0",
        "trunk_sid": None,
        "annotation": None,
        "uri": _uri(world, f"Calls/{call.sid}.json"),
        "subresource_uris": {},
    }


def queue_resource(world: SimulatedTwilio, queue: SimulatedQueue) -> dict[str, Any]:
    now = world.clock.now()
    return {
        "sid": queue.sid,
        "account_sid": world.account_sid,
        "friendly_name": queue.friendly_name,
        "current_size": len(queue.members),
        "max_size": queue.max_size,
        "average_wait_time": queue.average_wait_seconds(now),
        "date_created": _when(queue.date_created),
        "date_updated": _when(now),
        "uri": _uri(world, f"Queues/{queue.sid}.json"),
        "subresource_uris": {"members": _uri(world, f"Queues/{queue.sid}/Members.json")},
    }


def member_resource(
    world: SimulatedTwilio, queue_sid: str, call_sid: str, enqueued_at: datetime, position: int
) -> dict[str, Any]:
    return {
        "call_sid": call_sid,
        "queue_sid": queue_sid,
        "date_enqueued": _when(enqueued_at),
        "position": position,
        "wait_time": int((world.clock.now() - enqueued_at).total_seconds()),
        "uri": _uri(world, f"Queues/{queue_sid}/Members/{call_sid}.json"),
    }


def message_resource(world: SimulatedTwilio, message: SentMessage) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "account_sid": world.account_sid,
        "to": message.to,
        "from": message.from_,
        "body": message.body,
        "status": message.status,
        "direction": "outbound-api",
        "messaging_service_sid": message.messaging_service_sid,
        "num_segments": "1",
        "num_media": "0",
        "price": None,
        "price_unit": "GBP",
        "error_code": None,
        "error_message": None,
        "api_version": API_VERSION,
        "date_created": _when(message.date_created),
        "date_updated": _when(message.date_created),
        "date_sent": None,
        "uri": _uri(world, f"Messages/{message.sid}.json"),
        "subresource_uris": {},
    }


def _page(world: SimulatedTwilio, key: str, rest: str, records: list[dict[str, Any]]) -> Response:
    uri = _uri(world, rest)
    page_size = int(request.args.get("PageSize", 50))
    return jsonify(
        {
            key: records[:page_size],
            "start": 0,
            "end": max(0, min(len(records), page_size) - 1),
            "page": 0,
            "page_size": page_size,
            "uri": uri,
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
        }
    )


def _created(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = 201
    return response


# Twilio accepts E.164 numbers, browser clients and SIP addresses as a call's To (error 21211 otherwise).
_DIALLABLE = re.compile(r"^(\+[1-9]\d{6,14}|client:[\w.@-]+|sip:\S+)$")

# -- calls ---------------------------------------------------------------------------------------------


@fake_twilio_bp.route(f"{API}/Calls.json", methods=["GET", "POST"])
def calls(account_sid: str) -> Response:
    world = _world()
    if request.method == "GET":
        with world.lock:
            found = [
                call_resource(world, call)
                for call in world.calls.values()
                if request.args.get("To") in (None, call.to)
                and request.args.get("From") in (None, call.from_)
                and request.args.get("Status") in (None, call.status)
            ]
        return _page(world, "calls", "Calls.json", found)
    form = request.form
    if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return twilio_error(400, 21205, "Url parameter is required.")
    if not _DIALLABLE.match(form["To"]):
        return twilio_error(400, 21211, f"Invalid 'To' Phone Number: {form['To']}")
    call = world.create_outbound_call(
        to=form["To"],
        from_=form["From"],
        url=form.get("Url"),
        twiml=form.get("Twiml"),
        method=form.get("Method", "POST"),
        fallback_url=form.get("FallbackUrl"),
        status_callback=form.get("StatusCallback"),
        status_callback_events=tuple(form.getlist("StatusCallbackEvent")) or ("completed",),
        machine_detection=form.get("MachineDetection"),
        timeout=float(form.get("Timeout", 60)),
    )
    return _created(call_resource(world, call))


@fake_twilio_bp.route(f"{API}/Calls/<call_sid>.json", methods=["GET", "POST"])
def one_call(account_sid: str, call_sid: str) -> Response:
    world = _world()
    try:
        call = world.call(call_sid)
    except SimulatorError:
        return twilio_error(404, 20404, f"The requested resource /Calls/{call_sid}.json was not found")
    if request.method == "POST":
        form = request.form
        if call.ended:
            return twilio_error(400, 21220, "Call is not in-progress. Cannot redirect.")
        status = form.get("Status")
        if status:
            if status == "completed" or call.status in {"queued", "ringing"}:
                world.end_call(call_sid, "completed" if status == "completed" else "canceled")
        elif form.get("Twiml"):
            world.instruct(call_sid, RedirectCall(twiml=form["Twiml"]))
        elif form.get("Url"):
            world.instruct(call_sid, RedirectCall(url=form["Url"], method=form.get("Method", "POST")))
    with world.lock:
        return jsonify(call_resource(world, call))


# -- queues --------------------------------------------------------------------------------------------


@fake_twilio_bp.route(f"{API}/Queues.json", methods=["GET", "POST"])
def queues(account_sid: str) -> Response:
    world = _world()
    if request.method == "POST":
        name = request.form["FriendlyName"]
        if world.queue_named(name, create=False) is not None:
            return twilio_error(400, 22003, f"A queue with friendly name {name} already exists")
        queue = world.create_queue(name, int(request.form.get("MaxSize", 1000)))
        return _created(queue_resource(world, queue))
    with world.lock:
        found = [queue_resource(world, queue) for queue in world.queues.values()]
    return _page(world, "queues", "Queues.json", found)


@fake_twilio_bp.route(f"{API}/Queues/<queue_sid>.json", methods=["GET"])
def one_queue(account_sid: str, queue_sid: str) -> Response:
    world = _world()
    try:
        with world.lock:
            return jsonify(queue_resource(world, world.queue(queue_sid)))
    except SimulatorError:
        return twilio_error(404, 20404, f"The requested resource /Queues/{queue_sid}.json was not found")


@fake_twilio_bp.route(f"{API}/Queues/<queue_sid>/Members.json", methods=["GET"])
def members(account_sid: str, queue_sid: str) -> Response:
    world = _world()
    try:
        with world.lock:
            queue = world.queue(queue_sid)
            found = [
                member_resource(world, queue_sid, member.call_sid, member.enqueued_at, position)
                for position, member in enumerate(queue.members, start=1)
            ]
    except SimulatorError:
        return twilio_error(404, 20404, f"The requested resource /Queues/{queue_sid}.json was not found")
    return _page(world, "queue_members", f"Queues/{queue_sid}/Members.json", found)


@fake_twilio_bp.route(f"{API}/Queues/<queue_sid>/Members/<call_sid>.json", methods=["GET", "POST"])
def one_member(account_sid: str, queue_sid: str, call_sid: str) -> Response:
    world = _world()
    missing = twilio_error(
        404, 20404, f"The requested resource /Queues/{queue_sid}/Members/{call_sid}.json was not found"
    )
    with world.lock:
        try:
            queue = world.queue(queue_sid)
        except SimulatorError:
            return missing
        position = 1 if call_sid == "Front" and queue.members else queue.position_of(call_sid)
        if position is None:
            return missing
        member = queue.members[position - 1]
        body = member_resource(world, queue_sid, member.call_sid, member.enqueued_at, position)
        if request.method == "POST":
            world.dequeue(queue_sid, member.call_sid, request.form["Url"], request.form.get("Method", "POST"))
    return jsonify(body)


# -- messages ------------------------------------------------------------------------------------------


@fake_twilio_bp.route(f"{API}/Messages.json", methods=["GET", "POST"])
def messages(account_sid: str) -> Response:
    world = _world()
    if request.method == "GET":
        with world.lock:
            found = [
                message_resource(world, message)
                for message in reversed(world.messages)
                if request.args.get("To") in (None, message.to)
            ]
        return _page(world, "messages", "Messages.json", found)
    form = request.form
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
    if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
        return twilio_error(400, 21602, "Message body is required.")
    message = world.send_message(
        to=form["To"],
        body=form.get("Body", ""),
        from_=form.get("From"),
        messaging_service_sid=form.get("MessagingServiceSid"),
    )
    return _created(message_resource(world, message))


# -- the account's numbers (`flask twilio setup` points the council's at the app) ---------------------------

# The REST fields of a number's webhooks, in the order Twilio documents them.
NUMBER_WEBHOOK_FIELDS = (
    "VoiceUrl",
    "VoiceMethod",
    "VoiceFallbackUrl",
    "VoiceFallbackMethod",
    "StatusCallback",
    "StatusCallbackMethod",
    "SmsUrl",
    "SmsMethod",
    "SmsFallbackUrl",
    "SmsFallbackMethod",
    "VoiceApplicationSid",
    "SmsApplicationSid",
    "TrunkSid",
)


def _snake(field: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in field).lstrip("_")


def number_resource(world: SimulatedTwilio, number: IncomingNumber) -> dict[str, Any]:
    hooks = number.webhooks
    body: dict[str, Any] = {
        "sid": number.sid,
        "account_sid": world.account_sid,
        "phone_number": number.phone_number,
        "friendly_name": number.phone_number,
        "api_version": API_VERSION,
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "date_created": _when(number.date_created),
        "date_updated": _when(world.clock.now()),
        "uri": _uri(world, f"IncomingPhoneNumbers/{number.sid}.json"),
    }
    for field in NUMBER_WEBHOOK_FIELDS:
        default = "POST" if field.endswith("Method") else None
        body[_snake(field)] = hooks.get(field, default)
    return body


@fake_twilio_bp.route(f"{API}/IncomingPhoneNumbers.json", methods=["GET"])
def incoming_numbers(account_sid: str) -> Response:
    world = _world()
    wanted = request.args.get("PhoneNumber")
    with world.lock:
        found = [
            number_resource(world, number)
            for number in world.incoming_numbers.values()
            if wanted in (None, number.phone_number)
        ]
    return _page(world, "incoming_phone_numbers", "IncomingPhoneNumbers.json", found)


@fake_twilio_bp.route(f"{API}/IncomingPhoneNumbers/<sid>.json", methods=["GET", "POST"])
def one_incoming_number(account_sid: str, sid: str) -> Response:
    world = _world()
    try:
        number = world.incoming_number(sid)
    except SimulatorError:
        return twilio_error(
            404, 20404, f"The requested resource /IncomingPhoneNumbers/{sid}.json was not found"
        )
    with world.lock:
        if request.method == "POST":
            for field in NUMBER_WEBHOOK_FIELDS:
                if field in request.form:
                    number.webhooks[field] = request.form[field]
        return jsonify(number_resource(world, number))


# -- API keys (the desk softphone's tokens are signed with one) -------------------------------------------


def key_resource(key: ApiKey, with_secret: bool = False) -> dict[str, Any]:
    body = {
        "sid": key.sid,
        "friendly_name": key.friendly_name,
        "date_created": _when(key.date_created),
        "date_updated": _when(key.date_created),
    }
    return {**body, "secret": key.secret} if with_secret else body


@fake_twilio_bp.route(f"{API}/Keys.json", methods=["GET", "POST"])
def keys(account_sid: str) -> Response:
    world = _world()
    if request.method == "POST":
        key = world.create_api_key(request.form.get("FriendlyName", ""))
        return _created(key_resource(key, with_secret=True))  # the only time the secret is shown
    with world.lock:
        found = [key_resource(key) for key in world.api_keys.values()]
    return _page(world, "keys", "Keys.json", found)


@fake_twilio_bp.route(f"{API}/Keys/<sid>.json", methods=["GET"])
def one_key(account_sid: str, sid: str) -> Response:
    world = _world()
    with world.lock:
        key = world.api_keys.get(sid)
        if key is None:
            return twilio_error(404, 20404, f"The requested resource /Keys/{sid}.json was not found")
        return jsonify(key_resource(key))
