"""call_event.caller_input holds speech of any length

Revision ID: 3c1f2a9b8d70
Revises: 1b1a0c6acd6b
Create Date: 2026-12-07 01:20:00

A SpeechResult of 58+ characters summarised as "speech:..." overflowed VARCHAR(64) on PostgreSQL, so the
caller heard the apology at the first prompt.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1f2a9b8d70"
down_revision: str | None = "1b1a0c6acd6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_event", schema=None) as batch_op:
        batch_op.alter_column(
            "caller_input", existing_type=sa.String(length=64), type_=sa.Text(), existing_nullable=True
        )


def downgrade() -> None:
    # Longer inputs are cut back to what the old column held.
    op.execute("UPDATE call_event SET caller_input = substr(caller_input, 1, 64) WHERE length(caller_input) > 64")
    with op.batch_alter_table("call_event", schema=None) as batch_op:
        batch_op.alter_column(
            "caller_input", existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=True
        )
