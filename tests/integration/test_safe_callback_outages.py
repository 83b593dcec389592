"""Fault tests: "press 1 for a call back" after an error is a real callback, through database and Redis outages.

The app runs behind TCP proxies on 127.0.0.1 that cut PostgreSQL and Redis for real (connections reset, new ones
refused). On the embedded default (SQLite, a file, not a server) the database outage is made by refusing new
connections at the engine instead. The caller is promised a callback only once it is stored somewhere that lasts;
when the services return, the reconciler moves it into the database and the dialler rings the resident.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator

import runtime.worker
from callbacks import jobs, pending
from models import Callback, CallbackStatus
from simulator.live import CouncilLine, serve_live
from tests.conftest import _empty_tables, call_form
from tests.faults import TcpProxy
from tests.twiml import parse_twiml, spoken_text, verbs

RESIDENT = "+447400123456"
SID = "CA" + "c" * 32


class DatabaseOutage:
    """Cut and restore the app's database: a real cut of PostgreSQL's TCP; for SQLite, refused connections."""

    def __init__(self, services, proxy: TcpProxy | None) -> None:
        self.services, self.proxy, self.down = services, proxy, False
        if proxy is None:

            @event.listens_for(services.engine, "do_connect")
            def _refuse(*_args, **_kwargs):  # type: ignore[no-untyped-def]
                if self.down:
                    raise sqlite3.OperationalError("unable to open database file (outage under test)")

    def cut(self) -> None:
        self.down = True
        if self.proxy is not None:
            self.proxy.cut()
        self.services.engine.dispose()

    def restore(self) -> None:
        self.down = False
        if self.proxy is not None:
            self.proxy.restore()


@dataclass
class Outages:
    line: CouncilLine
    database: DatabaseOutage
    redis: TcpProxy

    def post(self, path: str, form: dict[str, str]) -> str:
        """Twilio posts a signed webhook to the live app (over HTTP, as it would)."""
        world, url = self.line.world, f"{self.line.live.base_url}{path}"
        signature = RequestValidator(world.auth_token).compute_signature(url, form)
        status, body, _elapsed = world.transport.post(url, form, {"X-Twilio-Signature": signature}, "POST")
        assert status == 200, body
        return body

    def reconcile(self) -> dict[str, int]:
        """What the worker's reconciler job does every CALLBACK_RECONCILE_SECONDS."""
        previous, runtime.worker._services = runtime.worker._services, self.line.live.services
        try:
            return jobs.reconcile_callbacks()
        finally:
            runtime.worker._services = previous


@pytest.fixture
def outages(settings, clock, tmp_path) -> Iterator[Outages]:
    database_proxy = (
        TcpProxy.in_front_of(settings.database_url)
        if settings.database_url.startswith("postgresql")
        else None
    )
    redis_proxy = TcpProxy.in_front_of(settings.redis_url)
    proxied = settings.with_overrides(
        database_url=database_proxy.url_for(settings.database_url)
        if database_proxy
        else settings.database_url,
        redis_url=redis_proxy.url_for(settings.redis_url),
        callback_spool_dir=str(tmp_path / "spool"),
    )

    def fresh_state(application) -> None:  # type: ignore[no-untyped-def]
        services = application.extensions["contact_centre"]
        _empty_tables(services.engine)
        services.redis.flushdb()

    try:
        with serve_live(proxied, clock, before_serving=fresh_state) as live:
            line = CouncilLine(live)
            line.install_demo_council()
            outages = Outages(line, DatabaseOutage(live.services, database_proxy), redis_proxy)
            yield outages
            redis_proxy.restore()
            outages.database.restore()
            live.services.redis.flushdb()
    finally:
        redis_proxy.cut()
        if database_proxy is not None:
            database_proxy.cut()


def _callbacks(outages: Outages) -> list[Callback]:
    with outages.line.live.services.session_factory() as session:
        return list(session.scalars(select(Callback)))


def _dialled(outages: Outages) -> list:
    return [
        c for c in outages.line.world.calls.values() if c.to == RESIDENT and c.direction == "outbound-api"
    ]


def _press_1_after_the_apology(outages: Outages) -> str:
    return outages.post("/voice/safe-choice", call_form(SID, From=RESIDENT, Digits="1"))


def test_with_everything_up_the_callback_is_scheduled_and_dialled_like_any_other(outages):
    outages.line.world.phone(RESIDENT).will_answer()
    reply = parse_twiml(_press_1_after_the_apology(outages))
    assert "call you back" in spoken_text(reply).lower() and verbs(reply)[-1] == "Hangup"
    [callback] = _callbacks(outages)
    assert (callback.number, callback.status) == (RESIDENT, CallbackStatus.SCHEDULED)
    outages.line.settle()  # the worker's queued dial runs
    assert len(_dialled(outages)) == 1


def test_a_database_outage_keeps_the_request_in_redis_until_it_returns_then_it_is_dialled(outages):
    outages.line.world.phone(RESIDENT).will_answer()
    outages.database.cut()
    reply = parse_twiml(_press_1_after_the_apology(outages))
    assert "call you back" in spoken_text(reply).lower(), "stored in Redis: the promise is kept"
    assert outages.line.live.services.redis.llen(pending.PENDING_KEY) == 1

    with pytest.raises(OperationalError):  # while the database is away the reconciler cannot move it
        outages.reconcile()
    assert outages.line.live.services.redis.llen(pending.PENDING_KEY) == 1

    outages.database.restore()
    outages.reconcile()
    assert outages.line.live.services.redis.llen(pending.PENDING_KEY) == 0
    [callback] = _callbacks(outages)
    assert (callback.number, callback.status) == (RESIDENT, CallbackStatus.SCHEDULED)
    outages.line.settle()
    assert len(_dialled(outages)) == 1
    outages.reconcile()  # moving again changes nothing: still one callback, one dial
    assert len(_callbacks(outages)) == 1 and len(_dialled(outages)) == 1


def test_with_the_database_and_redis_both_away_the_request_is_spooled_to_disk_then_dialled(outages):
    outages.line.world.phone(RESIDENT).will_answer()
    spool = Path(outages.line.live.services.settings.callback_spool_dir)
    outages.database.cut()
    outages.redis.cut()
    reply = parse_twiml(_press_1_after_the_apology(outages))
    assert "call you back" in spoken_text(reply).lower()
    [line] = (spool / pending.SPOOL_FILE).read_text().splitlines()
    assert pending.PendingRequest.from_json(line).number == RESIDENT
    assert (spool / pending.SPOOL_FILE).stat().st_mode & 0o077 == 0, "personal data: readable by us alone"

    outages.redis.restore()
    outages.database.restore()
    outages.reconcile()
    assert list(spool.glob("*.jsonl")) == []
    [callback] = _callbacks(outages)
    assert callback.status == CallbackStatus.SCHEDULED
    outages.line.settle()
    assert len(_dialled(outages)) == 1


def test_when_nothing_can_store_it_no_callback_is_promised_and_the_caller_is_queued(outages, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the spool folder should be")
    services = outages.line.live.services
    services.settings = services.settings.with_overrides(callback_spool_dir=str(blocked))
    outages.database.cut()
    outages.redis.cut()
    reply = parse_twiml(_press_1_after_the_apology(outages))
    text = spoken_text(reply).lower()
    assert "couldn't book a call back" in text and "call you back" not in text
    [enqueue] = reply.iter("Enqueue")
    assert "/voice/queue/wait" in enqueue.get("waitUrl", ""), "queued where routing will record them"


def test_a_request_from_a_caller_on_hold_gets_only_wait_verbs_and_keeps_them_queued(outages):
    outages.database.cut()
    reply = parse_twiml(outages.post("/voice/safe-choice/held", call_form(SID, From=RESIDENT, Digits="2")))
    assert set(verbs(reply)) <= {"Say", "Play", "Pause", "Gather", "Redirect", "Leave", "Hangup"}
    assert "keep holding" in spoken_text(reply).lower()
