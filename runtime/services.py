"""The shared clients of one process, built once by the app factory or the worker's main()."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from rq import Queue
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import REPO_ROOT, Settings
from models.db import make_engine, make_session_factory
from runtime.clock import Clock, SystemClock
from telephony.gateway import TelephonyGateway

EXTENSION_KEY = "contact_centre"


@dataclass
class Services:
    settings: Settings
    clock: Clock
    engine: Engine
    session_factory: sessionmaker[Session]
    redis: redis.Redis
    queue: Queue
    gateway: TelephonyGateway


def resolve_redis_url(settings: Settings) -> str:
    """Use REDIS_URL, or (embedded default only) start/reuse the local embedded Redis."""
    if settings.redis_url:
        return settings.redis_url
    from runtime.embedded_redis import start_embedded_redis

    url, _process = start_embedded_redis(REPO_ROOT / "instance")
    return url


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    engine = make_engine(
        settings.database_url,
        connect_timeout_seconds=settings.database_connect_timeout_seconds,
        statement_timeout_ms=settings.database_statement_timeout_ms,
    )
    redis_connection = redis.Redis.from_url(
        resolve_redis_url(settings),
        socket_timeout=5,
        socket_connect_timeout=2,
        health_check_interval=30,
    )
    return Services(
        settings=settings,
        clock=clock or SystemClock(),
        engine=engine,
        session_factory=make_session_factory(engine),
        redis=redis_connection,
        queue=Queue(settings.rq_queue_name, connection=redis_connection),
        gateway=TelephonyGateway(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_phone_number,
            api_base_url=settings.twilio_api_base_url,
        ),
    )
