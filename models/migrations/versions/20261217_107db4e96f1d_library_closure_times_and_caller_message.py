"""closures from/until a moment (emergencies), with the sentence callers hear

Revision ID: 107db4e96f1d
Revises: 3f9b7c1d2e48
Create Date: 2026-12-07 13:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "107db4e96f1d"
down_revision: str | None = "3f9b7c1d2e48"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("library_closure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("caller_message", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("is_emergency", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.create_check_constraint(
            "ends_at_after_starts_at", "starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at"
        )


def downgrade() -> None:
    with op.batch_alter_table("library_closure", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_library_closure_ends_at_after_starts_at"), type_="check")
        batch_op.drop_column("is_emergency")
        batch_op.drop_column("caller_message")
        batch_op.drop_column("ends_at")
        batch_op.drop_column("starts_at")
