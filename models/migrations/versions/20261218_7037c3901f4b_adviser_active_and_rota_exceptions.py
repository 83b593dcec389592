"""advisers active or not; rota exceptions (leave, sickness, training) on top of the weekly pattern

Revision ID: 7037c3901f4b
Revises: 107db4e96f1d
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7037c3901f4b"
down_revision: str | None = "107db4e96f1d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )
    op.create_table(
        "rota_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "leave",
                "sickness",
                "training",
                "other",
                name="rota_exception_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_rota_exception_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["adviser_id"],
            ["adviser.id"],
            name=op.f("fk_rota_exception_adviser_id_adviser"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_rota_exception_created_by_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_exception")),
    )
    with op.batch_alter_table("rota_exception", schema=None) as batch_op:
        batch_op.create_index("ix_rota_exception_adviser_days", ["adviser_id", "ends_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rota_exception", schema=None) as batch_op:
        batch_op.drop_index("ix_rota_exception_adviser_days")
    op.drop_table("rota_exception")
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.drop_column("is_active")
