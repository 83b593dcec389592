"""Typed SQLAlchemy 2.x models: the durable truth for libraries, advisers, calls, journeys, callbacks, flows, users.

Models hold invariants only (constraints, enums); business rules live in the engines and service functions.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints so Alembic migrations are deterministic on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Store tz-aware UTC everywhere; SQLite returns naive datetimes, so re-attach UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use the injected clock (tz-aware UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ClippedString(TypeDecorator[str]):
    """A VARCHAR for Twilio's own words (a DialCallStatus, AnsweredBy) and sentences built around them.

    Twilio sends short known values, but a webhook must never fail on one that is longer than the column
    (PostgreSQL refuses it; SQLite would silently keep it): such a value is cut to the column's length.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return value[: self.length] if isinstance(value, str) else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


def _enum(enum_class: type[enum.Enum], name: str | None = None) -> Enum:
    # VARCHAR + CHECK rather than a native PG enum: adding a state later is a plain migration on both databases.
    return Enum(
        enum_class,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        create_constraint=True,
        # The CHECK constraint's name; two columns of one enum in a table each need their own.
        name=name or enum_class.__name__.lower(),
    )


class Topic(enum.StrEnum):
    COUNCIL_TAX = "council_tax"
    HOUSING_BENEFIT = "housing_benefit"
    GENERAL = "general"


class AdviserState(enum.StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"
    CUSTOMER_AT_DESK = "customer_at_desk"


class AnswersOn(enum.StrEnum):
    """Where an adviser's offered calls ring: their browser (the desk's softphone) or a phone number."""

    BROWSER = "browser"
    PHONE = "phone"


class CallOutcome(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK_BOOKED = "callback_booked"
    APPOINTMENT_BOOKED = "appointment_booked"
    SELF_SERVED = "self_served"
    TRANSFERRED = "transferred"
    FAILED = "failed"


class CallbackStatus(enum.StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    DIALLING = "dialling"
    CONNECTED = "connected"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_CALLBACK_STATUSES = (
    CallbackStatus.REQUESTED,
    CallbackStatus.SCHEDULED,
    CallbackStatus.DIALLING,
)


class QueueEntryStatus(enum.StrEnum):
    WAITING = "waiting"  # in Twilio's queue, or (virtual) a callback keeping its place
    OFFERED = "offered"  # dequeued to an adviser who has not yet accepted
    CONNECTED = "connected"  # adviser accepted: caller and adviser talking
    ABANDONED = "abandoned"  # caller hung up while waiting
    LEFT_FOR_CALLBACK = "left_for_callback"  # caller pressed the callback key; a virtual entry took over
    CALLBACK_OFFERED = (
        "callback_offered"  # queue closed to them (nobody logged in, too long): offered a callback
    )
    FAILED = "failed"


ACTIVE_QUEUE_ENTRY_STATUSES = (QueueEntryStatus.WAITING, QueueEntryStatus.OFFERED)


class FlowStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Role(enum.StrEnum):
    ADVISER = "adviser"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Library(Base):
    """A library hub where advisers work and residents get face-to-face help."""

    __tablename__ = "library"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    offers_phone_support: Mapped[bool] = mapped_column(Boolean, default=True)
    # {"mon": [["09:00", "17:00"]], ..., "sun": []} in Europe/London local time.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Names of libraries whose advisers take this library's callers when routing widens.
    neighbours: Mapped[list[Any]] = mapped_column(default=list)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    closures: Mapped[list[LibraryClosure]] = relationship(
        back_populates="library",
        cascade="all, delete-orphan",
        order_by="LibraryClosure.starts_on",
    )
    advisers: Mapped[list[Adviser]] = relationship(back_populates="home_library")


class LibraryClosure(Base):
    """A closure (training day, refurbishment, an emergency) on top of the weekly hours and bank holidays.

    Whole days from `starts_on` to `ends_on`, unless `starts_at`/`ends_at` cut the first/last day (an
    emergency: "closed from 14:00 today"); then `starts_on`/`ends_on` are those moments' dates in Europe/London.
    `reason` is what staff see; `caller_message`, what callers hear.
    """

    __tablename__ = "library_closure"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at", name="ends_at_after_starts_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("library.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    caller_message: Mapped[str | None] = mapped_column(String(300))
    is_emergency: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    library: Mapped[Library] = relationship(back_populates="closures")


class Adviser(Base):
    """A council adviser working from a library, reachable by browser (Twilio Client) and/or phone.

    `answers_on` says which one routing rings; supervisors set it, and the database refuses a choice the adviser
    cannot be reached on (a phone without a number, a browser without a client identity).
    """

    __tablename__ = "adviser"
    __table_args__ = (
        CheckConstraint("client_identity IS NOT NULL OR phone_number IS NOT NULL", name="reachable"),
        CheckConstraint(
            "(answers_on = 'browser' AND client_identity IS NOT NULL)"
            " OR (answers_on = 'phone' AND phone_number IS NOT NULL)",
            name="answers_where_reachable",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    home_library_id: Mapped[int] = mapped_column(ForeignKey("library.id"), index=True)
    # BCP-47 codes of languages the adviser can help in, e.g. ["en-GB", "pl-PL"].
    languages: Mapped[list[Any]] = mapped_column(default=list)
    client_identity: Mapped[str | None] = mapped_column(String(120), unique=True)
    phone_number: Mapped[str | None] = mapped_column(String(20))  # E.164
    answers_on: Mapped[AnswersOn] = mapped_column(
        _enum(AnswersOn), default=AnswersOn.BROWSER, server_default=AnswersOn.BROWSER.value
    )
    state: Mapped[AdviserState] = mapped_column(_enum(AdviserState), default=AdviserState.OFFLINE)
    state_since: Mapped[datetime]
    state_reason: Mapped[str | None] = mapped_column(ClippedString(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # False for an adviser who has left or is not taking phone work: never offered calls or callbacks, cannot go
    # available, and not counted in the rota, callback slots or "when are advisers next expected".
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    home_library: Mapped[Library] = relationship(back_populates="advisers")
    skills: Mapped[list[AdviserSkill]] = relationship(back_populates="adviser", cascade="all, delete-orphan")
    shifts: Mapped[list[AdviserShift]] = relationship(back_populates="adviser", cascade="all, delete-orphan")


class AdviserStateChange(Base):
    """Every change of an adviser's state, with its time and reason: the audit trail and the source of reports."""

    __tablename__ = "adviser_state_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[AdviserState] = mapped_column(_enum(AdviserState, "from_state"))
    to_state: Mapped[AdviserState] = mapped_column(_enum(AdviserState, "to_state"))
    reason: Mapped[str | None] = mapped_column(ClippedString(200))
    occurred_at: Mapped[datetime]
    # None when the system changed it (wrap-up timer, missed offer), else the console user.
    changed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class AdviserShift(Base):
    """A weekly rota line: this adviser takes phone work at this library on this weekday between these times."""

    __tablename__ = "adviser_shift"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_0_to_6"),
        CheckConstraint("ends > starts", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id", ondelete="CASCADE"), index=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("library.id"))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0, in Europe/London local time
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)

    adviser: Mapped[Adviser] = relationship(back_populates="shifts")


class AdviserSkill(Base):
    __tablename__ = "adviser_skill"
    __table_args__ = (
        UniqueConstraint("adviser_id", "topic", name="uq_adviser_skill_topic"),
        CheckConstraint("proficiency BETWEEN 1 AND 5", name="proficiency_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id", ondelete="CASCADE"))
    topic: Mapped[Topic] = mapped_column(_enum(Topic))
    proficiency: Mapped[int] = mapped_column(Integer)

    adviser: Mapped[Adviser] = relationship(back_populates="skills")


class Call(Base):
    """One resident's phone call, keyed by Twilio's CallSid."""

    __tablename__ = "call"
    # The screen pop's "previous contacts from this number", and repeat-contact reports.
    __table_args__ = (
        Index("ix_call_caller_number_started_at", "caller_number", "started_at"),
        Index("ix_call_started_at", "started_at"),  # every report over a range of days
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(34), unique=True)
    # E.164 via phonenumbers; None when the number was withheld. Personal data: redacted after retention.
    caller_number: Mapped[str | None] = mapped_column(String(20))
    dialled_number: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(10), default="en-GB")
    topic: Mapped[Topic | None] = mapped_column(_enum(Topic))
    # Council tax account or housing benefit claim reference the caller gave. Personal data.
    reference: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[CallOutcome] = mapped_column(_enum(CallOutcome), default=CallOutcome.IN_PROGRESS)
    flow_version_id: Mapped[int | None] = mapped_column(ForeignKey("flow_version.id"))
    # The flow engine's state between webhooks (ivr.engine.CallState.to_dict()); None once the menu is done.
    ivr_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The TwiML of the last menu step, returned as-is when Twilio retries that step (same turn or token).
    ivr_last_reply: Mapped[str | None] = mapped_column(Text)
    ivr_last_token: Mapped[str | None] = mapped_column(String(128))
    personal_data_redacted_at: Mapped[datetime | None]

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallEvent.id"
    )


class CallEvent(Base):
    """One step of a call's journey (IVR node, queue event, dial result), so any call can be replayed."""

    __tablename__ = "call_event"
    __table_args__ = (Index("ix_call_event_node_kind", "kind", "node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    node: Mapped[str | None] = mapped_column(String(64))
    # What the caller keyed or said, as the engine summarised it: free text of any length (speech).
    caller_input: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(ClippedString(64))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Twilio retries a webhook with the same I-Twilio-Idempotency-Token; unique so a replay records nothing twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)

    call: Mapped[Call] = relationship(back_populates="events")


class QueueEntry(Base):
    """A caller's place in the routing queue. Redis holds the live queue; this row lets it be rebuilt."""

    __tablename__ = "queue_entry"
    __table_args__ = (
        # One live place per call (a retried Enqueue webhook must not queue them twice).
        Index(
            "uq_queue_entry_active_call",
            "call_id",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'offered') AND call_id IS NOT NULL"),
            sqlite_where=text("status IN ('waiting', 'offered') AND call_id IS NOT NULL"),
        ),
        Index("ix_queue_entry_status", "status"),
        Index("ix_queue_entry_joined_at", "joined_at"),  # the wallboard's today and the reports' ranges
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"), index=True)
    # Set for a virtual entry: a resident who hung up for a callback but keeps their place.
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback.id", ondelete="SET NULL"), index=True
    )
    topic: Mapped[Topic] = mapped_column(_enum(Topic))
    language: Mapped[str] = mapped_column(String(10), default="en-GB")
    home_library_id: Mapped[int | None] = mapped_column(ForeignKey("library.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # Readable reasons for the priority, e.g. ["second timeout in menu"].
    priority_reasons: Mapped[list[Any]] = mapped_column(default=list)
    joined_at: Mapped[datetime]
    status: Mapped[QueueEntryStatus] = mapped_column(
        _enum(QueueEntryStatus), default=QueueEntryStatus.WAITING
    )
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    offered_at: Mapped[datetime | None]
    connected_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(ClippedString(64))
    # Advisers who missed or declined this caller, so the next offer goes to someone else.
    skipped_adviser_ids: Mapped[list[Any]] = mapped_column(default=list)
    # Offered to one adviser at their own request (a call-back started from their desk), never queued: if that
    # adviser does not take it, the entry ends and the callback stays with the dialler.
    direct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Callback(Base):
    """A resident's request to be called back; this row, not an RQ job, is the record."""

    __tablename__ = "callback"
    __table_args__ = (
        # One active callback per number and topic; finished ones may repeat.
        Index(
            "uq_callback_active_dedupe_key",
            "dedupe_key",
            unique=True,
            postgresql_where=text("status IN ('requested', 'scheduled', 'dialling')"),
            sqlite_where=text("status IN ('requested', 'scheduled', 'dialling')"),
        ),
        Index("ix_callback_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_callback_created_at", "created_at"),  # the callbacks report, by the day they were booked
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    topic: Mapped[Topic] = mapped_column(_enum(Topic))
    language: Mapped[str] = mapped_column(String(10), default="en-GB")
    reference: Mapped[str | None] = mapped_column(String(32))
    # Both None means "as soon as possible".
    slot_starts_at: Mapped[datetime | None]
    slot_ends_at: Mapped[datetime | None]
    status: Mapped[CallbackStatus] = mapped_column(_enum(CallbackStatus), default=CallbackStatus.REQUESTED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    dedupe_key: Mapped[str] = mapped_column(String(128))
    library_id: Mapped[int | None] = mapped_column(ForeignKey("library.id"))
    assigned_adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id"))
    # True when the resident kept their place in the queue (a virtual queue entry) instead of booking a slot.
    keeps_place: Mapped[bool] = mapped_column(Boolean, default=False)
    last_result: Mapped[str | None] = mapped_column(
        ClippedString(32)
    )  # no-answer, busy, machine, failed, ...
    cancelled_reason: Mapped[str | None] = mapped_column(String(200))
    confirmation_sent_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    final_sms_sent_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    attempt_records: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="callback", cascade="all, delete-orphan", order_by="CallbackAttempt.number"
    )


class CallbackAttempt(Base):
    """One dial of a callback. Unique per (callback, number): an attempt is dialled at most once, whoever claims it."""

    __tablename__ = "callback_attempt"
    __table_args__ = (UniqueConstraint("callback_id", "number", name="uq_callback_attempt_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the first attempt
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(120))  # worker name, for the fault logs
    dial_started_at: Mapped[datetime | None]
    call_sid: Mapped[str | None] = mapped_column(String(34), unique=True)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    result: Mapped[str | None] = mapped_column(ClippedString(32))
    answered_by: Mapped[str | None] = mapped_column(ClippedString(32))  # Twilio AnsweredBy (human, ...)
    ended_at: Mapped[datetime | None]

    callback: Mapped[Callback] = relationship(back_populates="attempt_records")


class InboundMessage(Base):
    """An SMS a resident sent us (e.g. CANCEL), keyed by MessageSid so a retried webhook acts once.

    The sender's number is not stored here: the callback it acted on already holds it.
    """

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(34), unique=True)
    received_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))  # cancelled, nothing_to_cancel, help, ignored
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback.id", ondelete="SET NULL"))


class Flow(Base):
    """A named voice menu; its definitions live in versions."""

    __tablename__ = "flow"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[FlowVersion]] = relationship(
        back_populates="flow",
        cascade="all, delete-orphan",
        order_by="FlowVersion.number",
    )


class FlowVersion(Base):
    """One immutable-once-published definition of a flow."""

    __tablename__ = "flow_version"
    __table_args__ = (
        UniqueConstraint("flow_id", "number", name="uq_flow_version_number"),
        # Exactly one published version per flow, enforced by the database, not by hope.
        Index(
            "uq_flow_version_one_published",
            "flow_id",
            unique=True,
            postgresql_where=text("status = 'published'"),
            sqlite_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[FlowStatus] = mapped_column(_enum(FlowStatus), default=FlowStatus.DRAFT)
    author: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    # Why this version was made, or published or rolled back to: the supervisor's own words.
    note: Mapped[str | None] = mapped_column(String(300))
    published_by: Mapped[str | None] = mapped_column(String(120))
    # Raised by every saved edit of a draft: an edit made from an older revision is refused as a conflict
    # (two supervisors editing one draft), never a silent overwrite.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[str | None] = mapped_column(String(120))
    # Set when an admin published although a scenario failed: their reason, kept with the version.
    publish_override_reason: Mapped[str | None] = mapped_column(String(300))

    flow: Mapped[Flow] = relationship(back_populates="versions")


class User(Base):
    """A console user: adviser, supervisor or admin. Passwords are argon2 hashes."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("adviser.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by a reset (and for a new account): the next sign-in must choose a password before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class ConsoleSession(Base):
    """One sign-in to the console. The cookie holds only a random token; this row says whether it still counts.

    The database, not Redis, holds it: a revocation must survive a Redis flush or restart (a Redis list of live
    sessions would sign everyone out, a list of revoked ones would bring copied cookies back to life). Checking
    it costs nothing extra: loading the user on each request was already one query, now a join.
    """

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the cookie's token, so a copy of the database holds no usable sign-ins.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    # Set when the user signs out; the token then loads no user, whoever presents it.
    ended_at: Mapped[datetime | None]


# Models of later areas live in modules of their own; importing them here registers their tables on Base.
from models.audit import AuditEvent as AuditEvent  # noqa: E402
from models.rota import RotaException as RotaException  # noqa: E402
from models.rota import RotaExceptionKind as RotaExceptionKind  # noqa: E402
from models.wrap_up import WrapUp as WrapUp  # noqa: E402
from models.wrap_up import WrapUpOption as WrapUpOption  # noqa: E402
from models.wrap_up import WrapUpOptionKind as WrapUpOptionKind  # noqa: E402
from models.wrap_up import WrapUpStatus as WrapUpStatus  # noqa: E402
