"""Every Twilio REST call goes through here; no other module imports twilio's Client.

`TWILIO_API_BASE_URL` redirects the official client (through a custom http_client) so tests and the local
simulator receive the exact requests production would send to api.twilio.com.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from config import TWILIO_DEFAULT_API_BASE_URL

# twilio-python logs request bodies (To/From numbers) at INFO; numbers must never reach plain logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

REST_TIMEOUT_SECONDS = 10.0
# A text sent while the caller waits on the line (the menu then says whether it went) must be answered well
# inside Twilio's 15 s webhook limit, with time left for the rest of the step.
CALLER_WAITING_TIMEOUT_SECONDS = 4.0


class TelephonyError(RuntimeError):
    """Twilio (or the fake) refused or failed a request; carries Twilio's error code when there is one."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class RedirectingHttpClient(TwilioHttpClient):
    """Send requests meant for https://*.twilio.com to another base URL (fake API, recorder)."""

    def __init__(self, api_base_url: str, timeout: float = REST_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        target = urlsplit(api_base_url.rstrip("/"))
        self._scheme, self._netloc, self._path_prefix = (
            target.scheme,
            target.netloc,
            target.path,
        )

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        original = urlsplit(url)
        rewritten = urlunsplit(
            (
                self._scheme,
                self._netloc,
                self._path_prefix + original.path,
                original.query,
                "",
            )
        )
        return super().request(method, rewritten, *args, **kwargs)


@dataclass(frozen=True)
class CallRecord:
    """What Twilio knows about one call: enough to settle a dial whose worker died before hearing back."""

    sid: str
    to: str
    status: str  # queued, ringing, in-progress, completed, busy, no-answer, failed, canceled
    direction: str
    answered_by: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class QueueMember:
    queue_sid: str
    call_sid: str
    position: int
    wait_time: int


@dataclass(frozen=True)
class IncomingNumber:
    """One of the account's phone numbers and where Twilio sends what it receives (REST field names)."""

    sid: str
    phone_number: str
    webhooks: dict[str, str | None]  # VoiceUrl, VoiceMethod, ..., VoiceApplicationSid, TrunkSid


@dataclass(frozen=True)
class NewApiKey:
    sid: str
    secret: str  # Twilio shows it in this answer only


# A number's webhook settings as REST fields, and the attribute twilio-python gives each on the resource.
NUMBER_WEBHOOK_ATTRIBUTES = {
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "VoiceApplicationSid": "voice_application_sid",
    "SmsApplicationSid": "sms_application_sid",
    "TrunkSid": "trunk_sid",
}


class TelephonyGateway:
    """Thin, typed wrapper over the official client for the handful of REST calls the service makes."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str = TWILIO_DEFAULT_API_BASE_URL,
    ) -> None:
        # twilio-python takes a timeout per HTTP client, not per request: one client for ordinary requests and one
        # for the quick sends a caller on the line is waiting for. Both have a timeout against api.twilio.com too
        # (twilio-python's default client has none, so a hung Twilio would hold a worker or a webhook).
        self._account = self._account_client(account_sid, auth_token, api_base_url, REST_TIMEOUT_SECONDS)
        self._caller_waiting_account = self._account_client(
            account_sid, auth_token, api_base_url, CALLER_WAITING_TIMEOUT_SECONDS
        )
        self.from_number = from_number
        self._queue_sids: dict[str, str] = {}

    @staticmethod
    def _account_client(account_sid: str, auth_token: str, api_base_url: str, timeout: float) -> Any:
        redirected = api_base_url.rstrip("/") != TWILIO_DEFAULT_API_BASE_URL
        http_client = (
            RedirectingHttpClient(api_base_url, timeout=timeout)
            if redirected
            else TwilioHttpClient(timeout=timeout)
        )
        return Client(account_sid, auth_token, http_client=http_client).api.v2010.accounts(account_sid)

    def _call(self, action: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except TwilioRestException as error:
            raise TelephonyError(
                f"Twilio refused {action}: {error.msg}",
                status=error.status,
                code=error.code,
            ) from error
        except (TwilioException, OSError) as error:
            raise TelephonyError(f"Twilio unreachable during {action}: {error}") from error

    def create_call(
        self,
        to: str,
        url: str,
        status_callback: str | None = None,
        machine_detection: str | None = None,
        timeout_seconds: int | None = None,
        from_number: str | None = None,
    ) -> str:
        """Start an outbound call (callback to a resident, or an adviser leg); returns the CallSid."""
        options: dict[str, Any] = {
            "to": to,
            "from_": from_number or self.from_number,
            "url": url,
        }
        if status_callback:
            options["status_callback"] = status_callback
            options["status_callback_event"] = [
                "initiated",
                "ringing",
                "answered",
                "completed",
            ]
        if machine_detection:
            options["machine_detection"] = machine_detection
        if timeout_seconds:
            options["timeout"] = timeout_seconds
        call = self._call("create call", self._account.calls.create, **options)
        return str(call.sid)

    def fetch_call(self, call_sid: str) -> CallRecord:
        """Ask Twilio how a call stands (e.g. its status callback never reached us)."""
        return _call_record(self._call("fetch call", self._account.calls(call_sid).fetch))

    def recent_calls_to(self, to: str, created_since: datetime, limit: int = 200) -> list[CallRecord]:
        """Calls to `to` created at or after `created_since`, newest first.

        The proof, after a worker died mid-request, of whether Twilio created the call it was asking for.
        Filtered by start time at Twilio and by number here: Twilio's spec gives the `To` filter a
        `phone-number` format that strict OpenAPI validators (our fake's) cannot check.
        """
        calls = self._call(
            "list calls",
            self._account.calls.list,
            start_time_after=created_since,
            limit=limit,
            page_size=limit,
        )
        records = [_call_record(call) for call in calls]
        return [
            r for r in records if r.to == to and r.created_at is not None and r.created_at >= created_since
        ]

    def redirect_call(self, call_sid: str, url: str) -> None:
        """Point a live call at new TwiML (e.g. pull a caller out of a menu to an adviser)."""
        self._call("update call", self._account.calls(call_sid).update, url=url, method="POST")

    def end_call(self, call_sid: str) -> None:
        self._call("end call", self._account.calls(call_sid).update, status="completed")

    def queue_sid(self, friendly_name: str) -> str:
        """Find the Twilio queue for an <Enqueue> name, creating it if it does not exist yet."""
        if friendly_name in self._queue_sids:
            return self._queue_sids[friendly_name]
        for queue in self._call("list queues", self._account.queues.list, page_size=1000):
            if queue.friendly_name == friendly_name:
                self._queue_sids[friendly_name] = str(queue.sid)
                return str(queue.sid)
        queue = self._call("create queue", self._account.queues.create, friendly_name=friendly_name)
        self._queue_sids[friendly_name] = str(queue.sid)
        return str(queue.sid)

    def dequeue_member(self, queue_sid: str, call_sid: str, url: str) -> None:
        """Take one waiting caller out of a Twilio queue and run the TwiML at `url` for them.

        This is how our router, not Twilio's FIFO, chooses who goes next.
        """
        member = self._account.queues(queue_sid).members(call_sid)
        self._call("dequeue member", member.update, url=url, method="POST")

    def list_queue_members(self, queue_sid: str) -> list[QueueMember]:
        members = self._call("list queue members", self._account.queues(queue_sid).members.list)
        return [
            QueueMember(queue_sid, str(m.call_sid), int(m.position or 0), int(m.wait_time or 0))
            for m in members
        ]

    def send_sms(
        self, to: str, body: str, from_number: str | None = None, caller_waiting: bool = False
    ) -> str:
        """Send a text; returns the MessageSid once Twilio accepted it, else raises TelephonyError.

        `caller_waiting`: a caller is on the line waiting for this answer (the menu says whether the text went),
        so Twilio gets CALLER_WAITING_TIMEOUT_SECONDS instead of the usual REST timeout.
        """
        account = self._caller_waiting_account if caller_waiting else self._account
        message = self._call(
            "send SMS",
            account.messages.create,
            to=to,
            from_=from_number or self.from_number,
            body=body,
        )
        return str(message.sid)

    # -- the account's set-up (`flask twilio setup`) -------------------------------------------------------

    def find_incoming_number(self, phone_number: str) -> IncomingNumber | None:
        """The account's number `phone_number` (E.164) with its webhooks, or None if the account has no such one."""
        found = self._call(
            "list incoming phone numbers",
            self._account.incoming_phone_numbers.list,
            phone_number=phone_number,
            limit=20,
            page_size=20,
        )
        for number in found:  # the filter also matches partial numbers: keep only the very one
            if number.phone_number == phone_number:
                return _incoming_number(number)
        return None

    def update_incoming_number(self, sid: str, webhooks: dict[str, str]) -> IncomingNumber:
        """Set some of a number's webhooks, given by REST field name (VoiceUrl=..., VoiceMethod=POST, ...)."""
        options = {NUMBER_WEBHOOK_ATTRIBUTES[field]: value for field, value in webhooks.items()}
        number = self._call(
            "update incoming phone number", self._account.incoming_phone_numbers(sid).update, **options
        )
        return _incoming_number(number)

    def api_key_exists(self, sid: str) -> bool:
        try:
            self._call("fetch API key", self._account.keys(sid).fetch)
        except TelephonyError as error:
            if error.status == 404:
                return False
            raise
        return True

    def api_key_sids_named(self, friendly_name: str) -> list[str]:
        keys = self._call("list API keys", self._account.keys.list, page_size=1000)
        return [str(key.sid) for key in keys if key.friendly_name == friendly_name]

    def create_api_key(self, friendly_name: str) -> NewApiKey:
        key = self._call("create API key", self._account.new_keys.create, friendly_name=friendly_name)
        return NewApiKey(str(key.sid), str(key.secret))


def _incoming_number(number: Any) -> IncomingNumber:
    webhooks = {
        field: getattr(number, attribute, None) for field, attribute in NUMBER_WEBHOOK_ATTRIBUTES.items()
    }
    return IncomingNumber(str(number.sid), str(number.phone_number), webhooks)


def _call_record(call: Any) -> CallRecord:
    return CallRecord(
        sid=str(call.sid),
        to=str(call.to),
        status=str(call.status),
        direction=str(call.direction or ""),
        answered_by=call.answered_by or None,
        created_at=call.date_created,
    )
