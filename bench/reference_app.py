"""The yardsticks `bench.ivr_bench` measures the real menu step against (benchmark only, never deployed).

* `POST /ref/step`  — the minimum a menu step must do: read Twilio's form, one ORM insert + commit into a small
  table on the same PostgreSQL, one Redis command, and a VoiceResponse with a Say and a Gather.
* `POST /bare/step` — a bare Flask route returning fixed TwiML: the floor set by gunicorn, Flask and the client.
* `GET /healthz`    — readiness probe for the benchmark.

Run under gunicorn exactly like the app: `gunicorn -c gunicorn.conf.py 'bench.reference_app:create_app()'`,
with BENCH_DATABASE_URL and BENCH_REDIS_URL set (the benchmark sets them; it creates the table beforehand).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import redis
from flask import Flask, Response, request
from sqlalchemy import DateTime, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from twilio.twiml.voice_response import VoiceResponse

REPLY_TTL_SECONDS = 4 * 3600
BARE_TWIML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-GB" voice="Polly.Amy">'
    b'Welcome to Kirklees Council.</Say><Gather action="/bare/step?turn=2" numDigits="1" timeout="5">'
    b'<Say language="en-GB" voice="Polly.Amy">For council tax, press 1.</Say></Gather></Response>'
)


class Base(DeclarativeBase):
    pass


class ReferenceStep(Base):
    """A deliberately small table: the one insert a menu step can't avoid."""

    __tablename__ = "bench_reference_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int | None] = mapped_column(Integer)
    digits: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def create_schema(database_url: str) -> None:
    """Create the reference table (called by the benchmark before gunicorn starts, so workers don't race)."""
    engine = create_engine(database_url)
    try:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


def create_app() -> Flask:
    database_url = os.environ["BENCH_DATABASE_URL"]
    redis_url = os.environ["BENCH_REDIS_URL"]
    # Same pool size as models.db.make_engine, but no pre-ping: the reference does only the necessary I/O.
    engine = create_engine(database_url, pool_size=10, max_overflow=10)
    session_factory = sessionmaker(engine, expire_on_commit=False)
    redis_client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)

    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}', content_type="application/json")

    @app.post("/ref/step")
    def reference_step() -> Response:
        call_sid = request.form["CallSid"]
        turn = request.args.get("turn", type=int)
        with session_factory() as session:
            session.add(
                ReferenceStep(
                    call_sid=call_sid,
                    turn=turn,
                    digits=request.form.get("Digits"),
                    occurred_at=datetime.now(UTC),
                )
            )
            session.commit()
        response = VoiceResponse()
        response.say("Council tax.", language="en-GB", voice="Polly.Amy")
        gather = response.gather(
            input="dtmf speech",
            num_digits=1,
            timeout=5,
            action=f"/ref/step?turn={(turn or 0) + 1}",
            action_on_empty_result=True,
        )
        gather.say(
            "To pay, press 1. For your bill, press 2. For discounts, press 3. For anything else, press 4.",
            language="en-GB",
            voice="Polly.Amy",
        )
        body = str(response)
        redis_client.set(f"bench:ref:{call_sid}:{turn}", body, ex=REPLY_TTL_SECONDS)
        return Response(body, content_type="text/xml; charset=utf-8")

    @app.post("/bare/step")
    def bare_step() -> Response:
        return Response(BARE_TWIML, content_type="text/xml; charset=utf-8")

    return app
