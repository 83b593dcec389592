"""Alembic runs up and down on SQLite and on the configured database (PostgreSQL in CI)."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from models import Base
from models.db import make_engine
from models.migrate import downgrade, upgrade
from tests.conftest import reset_schema

EXPECTED_TABLES = {
    "library",
    "library_closure",
    "adviser",
    "adviser_skill",
    "call",
    "call_event",
    "callback",
    "flow",
    "flow_version",
    "user_account",
    "console_session",
}


def _targets(tmp_path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'migrations.db'}"]
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith("postgresql"):
        urls.append(configured)
    return urls


@pytest.fixture
def migration_urls(tmp_path, database_url):
    urls = _targets(tmp_path)
    yield urls
    # Leave the shared test database as the session fixture made it.
    engine = make_engine(database_url)
    reset_schema(engine)
    engine.dispose()
    upgrade(database_url)


def test_upgrade_head_then_downgrade_base_on_every_database(migration_urls):
    for url in migration_urls:
        engine = make_engine(url)
        reset_schema(engine)
        upgrade(url)
        assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES, url
        downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}, url
        upgrade(url)
        engine.dispose()


def test_migrations_match_the_models_exactly(migration_urls):
    for url in migration_urls:
        engine = make_engine(url)
        reset_schema(engine)
        upgrade(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        engine.dispose()
        assert differences == [], f"{url}: models and migrations disagree: {differences}"
