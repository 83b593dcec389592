"""Wrap-up: what the adviser records after each conversation, and the council's lists it is chosen from."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import Base, Topic, _enum


class WrapUpStatus(enum.StrEnum):
    PENDING = "pending"  # the conversation ended; the adviser is coding it
    CODED = "coded"
    UNCODED = "uncoded"  # the wrap-up time ran out (or they chose "ready now") first; it can still be coded


class WrapUpOptionKind(enum.StrEnum):
    REASON = "reason"  # why the resident called, in the council's words
    AVOIDABLE_CAUSE = "avoidable_cause"  # what made an avoidable contact happen


# The lists a council starts with (the first migration inserts the same); supervisors change them later.
DEFAULT_OPTIONS: dict[WrapUpOptionKind, tuple[tuple[str, str], ...]] = {
    WrapUpOptionKind.REASON: (
        ("council_tax_payment_arrangement", "Council tax payment arrangement"),
        ("single_person_discount", "Single person discount"),
        ("council_tax_bill_query", "Council tax bill query"),
        ("council_tax_moving_home", "Moving home (council tax)"),
        ("housing_benefit_new_claim", "Housing benefit new claim"),
        ("change_of_circumstances", "Change of circumstances"),
        ("housing_benefit_claim_progress", "Housing benefit claim progress"),
        ("information_given", "Information given"),
        ("referred_face_to_face", "Referred to a face-to-face appointment"),
        ("safeguarding_concern", "Safeguarding concern"),
        ("other", "Something else"),
    ),
    WrapUpOptionKind.AVOIDABLE_CAUSE: (
        ("chasing_progress", "Chasing progress"),
        ("letter_not_understood", "Letter not understood"),
        ("online_service_failed", "Online service failed"),
        ("promised_callback_missed", "A promised callback did not come"),
        ("wrong_information_before", "Given wrong information before"),
        ("other", "Something else"),
    ),
}


class WrapUpOption(Base):
    """One entry of a configurable list: a reason code or an avoidable-contact cause."""

    __tablename__ = "wrap_up_option"
    __table_args__ = (UniqueConstraint("kind", "code", name="uq_wrap_up_option_kind_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[WrapUpOptionKind] = mapped_column(_enum(WrapUpOptionKind, "wrap_up_option_kind"))
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WrapUp(Base):
    """The adviser's record of one conversation (a queue entry that connected), never lost: a wrap-up the
    adviser did not finish in time is kept as uncoded and can still be coded later."""

    __tablename__ = "wrap_up"
    __table_args__ = (
        CheckConstraint("status != 'coded' OR reason_code IS NOT NULL", name="coded_has_a_reason"),
        Index("ix_wrap_up_started_at", "started_at"),  # the wrap-up reports over a range of days
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entry.id", ondelete="CASCADE"), unique=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"), index=True)
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback.id", ondelete="SET NULL"), index=True
    )
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id"), index=True)
    topic: Mapped[Topic] = mapped_column(_enum(Topic))
    status: Mapped[WrapUpStatus] = mapped_column(_enum(WrapUpStatus, "wrap_up_status"))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    avoidable: Mapped[bool | None] = mapped_column(Boolean)
    avoidable_cause: Mapped[str | None] = mapped_column(String(40))
    resolved_first_contact: Mapped[bool | None] = mapped_column(Boolean)
    # A short note for whoever speaks to the resident next. Personal data: redacted with the call's.
    note: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    coded_at: Mapped[datetime | None]
    coded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


def ensure_default_wrap_up_options(session: Session) -> int:
    """Add the default lists where they are empty (a migrated database has them already); returns how many."""
    added = 0
    for kind, rows in DEFAULT_OPTIONS.items():
        if session.scalar(select(WrapUpOption.id).where(WrapUpOption.kind == kind).limit(1)) is not None:
            continue
        for position, (code, label) in enumerate(rows, start=1):
            session.add(WrapUpOption(kind=kind, code=code, label=label, position=position, active=True))
            added += 1
    return added
