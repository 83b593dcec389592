from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from callbacks.service import request_callback
from models import (
    Adviser,
    AdviserSkill,
    AdviserState,
    AnswersOn,
    Call,
    Callback,
    CallbackStatus,
    Flow,
    FlowStatus,
    FlowVersion,
    Library,
    LibraryClosure,
    Topic,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _library(db, name="Batley") -> Library:
    library = Library(
        name=name, address="Market Place", postcode="WF17 5DA", opening_hours={"mon": [["09:00", "17:00"]]}
    )
    db.add(library)
    db.flush()
    return library


def test_datetimes_come_back_tz_aware_utc(db):
    bst = timezone(timedelta(hours=1))
    db.add(Call(call_sid="CA" + "2" * 32, started_at=datetime(2026, 6, 1, 10, 0, tzinfo=bst)))
    db.commit()
    db.expire_all()
    call = db.scalars(select(Call)).one()
    assert call.started_at == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert call.started_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db):
    db.add(Call(call_sid="CA" + "3" * 32, started_at=datetime(2026, 6, 1, 10, 0)))
    with pytest.raises(StatementError, match="naive"):
        db.flush()


def test_call_sid_is_unique(db):
    db.add_all(
        [Call(call_sid="CA" + "4" * 32, started_at=NOW), Call(call_sid="CA" + "4" * 32, started_at=NOW)]
    )
    with pytest.raises(IntegrityError):
        db.flush()


def test_adviser_proficiency_must_be_between_1_and_5(db):
    library = _library(db)
    adviser = Adviser(
        name="Test",
        home_library=library,
        client_identity="adviser-test",
        state_since=NOW,
        skills=[AdviserSkill(topic=Topic.COUNCIL_TAX, proficiency=6)],
    )
    db.add(adviser)
    with pytest.raises(IntegrityError):
        db.flush()


def test_adviser_must_be_reachable_by_browser_or_phone(db):
    library = _library(db)
    db.add(Adviser(name="Nobody", home_library=library, state_since=NOW))
    with pytest.raises(IntegrityError):
        db.flush()


@pytest.mark.parametrize(
    ("answers_on", "where"),
    [
        (AnswersOn.PHONE, {"client_identity": "adviser-no-phone"}),
        (AnswersOn.BROWSER, {"phone_number": "+441484000002"}),
    ],
)
def test_an_adviser_answers_only_where_they_can_be_reached(db, answers_on, where):
    library = _library(db)
    db.add(Adviser(name="Unreachable", home_library=library, answers_on=answers_on, state_since=NOW, **where))
    with pytest.raises(IntegrityError):
        db.flush()


def test_an_adviser_answers_in_the_browser_unless_told_otherwise(db):
    library = _library(db)
    adviser = Adviser(name="B", home_library=library, client_identity="adviser-b", state_since=NOW)
    db.add(adviser)
    db.flush()
    assert adviser.answers_on is AnswersOn.BROWSER


def test_adviser_state_is_one_of_the_known_states(db):
    library = _library(db)
    adviser = Adviser(
        name="A",
        home_library=library,
        phone_number="+441484000001",
        answers_on=AnswersOn.PHONE,
        state_since=NOW,
    )
    db.add(adviser)
    db.flush()
    assert adviser.state is AdviserState.OFFLINE
    with pytest.raises((StatementError, LookupError)):
        adviser.state = "asleep"  # type: ignore[assignment]
        db.flush()


def test_closure_cannot_end_before_it_starts(db):
    library = _library(db)
    library.closures.append(
        LibraryClosure(starts_on=date(2026, 12, 2), ends_on=date(2026, 12, 1), reason="typo")
    )
    with pytest.raises(IntegrityError):
        db.flush()


def test_only_one_version_of_a_flow_can_be_published(db):
    flow = Flow(name="kirklees")
    flow.versions = [
        FlowVersion(number=n, definition={}, status=FlowStatus.PUBLISHED, author="s", created_at=NOW)
        for n in (1, 2)
    ]
    db.add(flow)
    with pytest.raises(IntegrityError):
        db.flush()


def test_many_archived_versions_may_sit_beside_one_published(db):
    flow = Flow(name="kirklees")
    flow.versions = [
        FlowVersion(number=1, definition={}, status=FlowStatus.ARCHIVED, author="s", created_at=NOW),
        FlowVersion(number=2, definition={}, status=FlowStatus.ARCHIVED, author="s", created_at=NOW),
        FlowVersion(
            number=3, definition={"start": "x"}, status=FlowStatus.PUBLISHED, author="s", created_at=NOW
        ),
    ]
    db.add(flow)
    db.flush()
    assert db.scalar(select(FlowVersion.number).where(FlowVersion.status == FlowStatus.PUBLISHED)) == 3


def test_second_callback_request_for_same_number_and_topic_updates_the_first(db):
    first = request_callback(db, "+447700900123", Topic.COUNCIL_TAX, NOW)
    later = NOW + timedelta(days=1)
    second = request_callback(
        db, "+447700900123", Topic.COUNCIL_TAX, NOW, slot=(later, later + timedelta(hours=1))
    )
    db.commit()
    assert first.created and not second.created
    assert second.callback.id == first.callback.id
    assert db.scalars(select(Callback)).one().slot_starts_at == later


def test_database_refuses_two_active_callbacks_with_one_dedupe_key(db):
    for _ in range(2):
        db.add(
            Callback(
                number="+447700900123",
                topic=Topic.COUNCIL_TAX,
                dedupe_key="k",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    with pytest.raises(IntegrityError):
        db.flush()


def test_a_finished_callback_does_not_block_a_new_request(db):
    done = request_callback(db, "+447700900123", Topic.HOUSING_BENEFIT, NOW).callback
    done.status = CallbackStatus.CONNECTED
    db.flush()
    again = request_callback(db, "+447700900123", Topic.HOUSING_BENEFIT, NOW)
    db.commit()
    assert again.created and again.callback.id != done.id
