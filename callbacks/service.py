"""Creating and updating callback requests, one active request per number and topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ACTIVE_CALLBACK_STATUSES, Callback, CallbackStatus, Topic


def dedupe_key(number: str, topic: Topic) -> str:
    return f"{number}|{topic.value}"


@dataclass(frozen=True)
class CallbackRequestResult:
    callback: Callback
    created: bool  # False: the resident already had one active for this topic and it was updated


def request_callback(
    session: Session,
    number: str,
    topic: Topic,
    now: datetime,
    language: str = "en-GB",
    reference: str | None = None,
    slot: tuple[datetime, datetime] | None = None,
    call_id: int | None = None,
    status: CallbackStatus | None = None,
    library_id: int | None = None,
) -> CallbackRequestResult:
    """Record a callback request; a second request for the same number and topic updates the first.

    `status` (e.g. SCHEDULED once a slot and number are agreed) applies to a new request, and to an existing one
    unless the dialler has already claimed it (dialling): its attempt is in flight and is left alone.
    """
    key = dedupe_key(number, topic)
    existing = session.scalar(
        select(Callback).where(Callback.dedupe_key == key, Callback.status.in_(ACTIVE_CALLBACK_STATUSES))
    )
    slot_start, slot_end = slot if slot else (None, None)
    if existing is not None:
        existing.slot_starts_at, existing.slot_ends_at = slot_start, slot_end
        existing.next_attempt_at = slot_start or now
        existing.reference = reference or existing.reference
        existing.language = language
        existing.updated_at = now
        if status is not None and existing.status != CallbackStatus.DIALLING:
            existing.status = status
        existing.library_id = library_id if library_id is not None else existing.library_id
        return CallbackRequestResult(existing, created=False)
    callback = Callback(
        number=number,
        topic=topic,
        language=language,
        reference=reference,
        slot_starts_at=slot_start,
        slot_ends_at=slot_end,
        status=status or CallbackStatus.REQUESTED,
        attempts=0,
        next_attempt_at=slot_start or now,
        dedupe_key=key,
        call_id=call_id,
        library_id=library_id,
        created_at=now,
        updated_at=now,
    )
    session.add(callback)
    session.flush()
    return CallbackRequestResult(callback, created=True)
