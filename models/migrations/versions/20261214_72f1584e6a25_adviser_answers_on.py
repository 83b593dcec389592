"""adviser.answers_on: an adviser answers in the browser or on a phone number

Revision ID: 72f1584e6a25
Revises: 3c1f2a9b8d70
Create Date: 2026-12-14 09:00:00

Advisers with a client identity keep answering in the browser; one reachable only by phone answers there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "72f1584e6a25"
down_revision: str | None = "3c1f2a9b8d70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANSWERS_WHERE_REACHABLE = (
    "(answers_on = 'browser' AND client_identity IS NOT NULL)"
    " OR (answers_on = 'phone' AND phone_number IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "answers_on",
                sa.Enum(
                    "browser", "phone", name="answerson", native_enum=False, create_constraint=True, length=32
                ),
                server_default="browser",
                nullable=False,
            )
        )
    op.execute("UPDATE adviser SET answers_on = 'phone' WHERE client_identity IS NULL")
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_adviser_answers_where_reachable"), ANSWERS_WHERE_REACHABLE)


def downgrade() -> None:
    with op.batch_alter_table("adviser", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_adviser_answers_where_reachable"), type_="check")
        batch_op.drop_constraint(op.f("ck_adviser_answerson"), type_="check")  # the enum's own CHECK
        batch_op.drop_column("answers_on")
