"""indexes for the supervisor's reports over a range of days

Revision ID: 5c2e8d9a4b31
Revises: 7037c3901f4b
Create Date: 2026-12-07 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5c2e8d9a4b31"
down_revision: str | None = "7037c3901f4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_call_started_at", "call", "started_at"),
    ("ix_queue_entry_joined_at", "queue_entry", "joined_at"),
    ("ix_callback_created_at", "callback", "created_at"),
    ("ix_wrap_up_started_at", "wrap_up", "started_at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
