"""Exceptions to the weekly rota: days an adviser is rostered but will not be there (leave, sickness, training).

The weekly pattern is `AdviserShift`; a `RotaException` covers whole days from `starts_on` to `ends_on`
(inclusive, Europe/London dates). While one covers a day, that adviser's shifts on it do not count: no callback
slots are promised on them and "when are advisers next expected" looks past them (callbacks/booking.py).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models import Base, _enum


class RotaExceptionKind(enum.StrEnum):
    LEAVE = "leave"
    SICKNESS = "sickness"
    TRAINING = "training"
    OTHER = "other"


class RotaException(Base):
    """Whole days an adviser is away from their weekly rota, and who recorded it."""

    __tablename__ = "rota_exception"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        Index("ix_rota_exception_adviser_days", "adviser_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("adviser.id", ondelete="CASCADE"))
    kind: Mapped[RotaExceptionKind] = mapped_column(_enum(RotaExceptionKind, "rota_exception_kind"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # None when recorded from a command or a job; else the console user who did.
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
