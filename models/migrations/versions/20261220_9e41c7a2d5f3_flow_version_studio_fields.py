"""flow versions carry a note, who published them, an edit revision (optimistic locking) and an override reason

Revision ID: 9e41c7a2d5f3
Revises: 5c2e8d9a4b31
Create Date: 2026-12-07 16:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e41c7a2d5f3"
down_revision: str | None = "5c2e8d9a4b31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flow_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("published_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default=sa.text("1"), nullable=False))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("publish_override_reason", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flow_version", schema=None) as batch_op:
        for column in ("publish_override_reason", "updated_by", "updated_at", "revision", "published_by", "note"):
            batch_op.drop_column(column)
