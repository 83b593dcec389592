"""The wallboard's figures as Prometheus gauges: read from the database at each scrape, labelled by library and
topic, and a scrape still answers (figures_up 0) when the database does not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import runtime.health
from models import Adviser, AdviserState, Call, Library, QueueEntry, QueueEntryStatus, Topic
from tests.staff import seed_council


def test_a_scrape_shows_the_caller_waiting_and_the_advisers_by_state(client, db, clock):
    seed_council(db, clock)
    now = clock.now()
    with db.begin():
        dewsbury = db.scalars(select(Library).where(Library.name == "Dewsbury")).one()
        call = Call(call_sid="CA" + "8" * 32, started_at=now - timedelta(minutes=2))
        db.add(call)
        db.flush()
        db.add(
            QueueEntry(
                call_id=call.id,
                topic=Topic.HOUSING_BENEFIT,
                home_library_id=dewsbury.id,
                joined_at=now - timedelta(seconds=90),
                status=QueueEntryStatus.WAITING,
            )
        )
        zofia = db.scalars(select(Adviser).where(Adviser.name == "Zofia Nowak")).one()
        zofia.state, zofia.state_since = AdviserState.BREAK, now
    text = client.get("/metrics").get_data(as_text=True)
    assert "contact_centre_wallboard_figures_up 1.0" in text
    assert 'contact_centre_queue_waiting_callers{library="all",topic="all"} 1.0' in text
    assert 'contact_centre_queue_waiting_callers{library="Dewsbury",topic="all"} 1.0' in text
    assert 'contact_centre_queue_waiting_callers{library="Huddersfield",topic="all"} 0.0' in text
    assert 'contact_centre_queue_waiting_callers{library="all",topic="housing_benefit"} 1.0' in text
    assert 'contact_centre_queue_longest_wait_seconds{library="Dewsbury",topic="all"} 90.0' in text
    assert 'contact_centre_advisers{library="Dewsbury",state="break",topic="all"} 1.0' in text
    assert 'contact_centre_advisers{library="all",state="offline",topic="all"} 19.0' in text
    assert 'contact_centre_calls_answered_today{library="all",topic="all"} 0.0' in text
    # nobody answered or abandoned yet: no service level to report, rather than a made-up 0 or 100 %
    assert "contact_centre_service_level_ratio{" not in text
    assert "# TYPE contact_centre_callbacks_overdue gauge" in text


def test_a_scrape_without_the_database_still_serves_the_process_metrics(client, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionError("database gone"))

    monkeypatch.setattr(runtime.health, "wallboard", unavailable)
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "contact_centre_wallboard_figures_up 0.0" in text
    assert "contact_centre_queue_waiting_callers" not in text
    assert "# TYPE contact_centre_webhook_latency_seconds histogram" in text
