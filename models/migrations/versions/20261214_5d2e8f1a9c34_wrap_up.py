"""wrap-up after each conversation, the council's reason and avoidable-contact lists (with defaults), desk
call-backs offered directly to one adviser, and calls found by caller number

Revision ID: 5d2e8f1a9c34
Revises: 72f1584e6a25
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2e8f1a9c34"
down_revision: str | None = "72f1584e6a25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The lists a council starts with; supervisors change them later (they are data, not code).
REASONS = [
    ("council_tax_payment_arrangement", "Council tax payment arrangement"),
    ("single_person_discount", "Single person discount"),
    ("council_tax_bill_query", "Council tax bill query"),
    ("council_tax_moving_home", "Moving home (council tax)"),
    ("housing_benefit_new_claim", "Housing benefit new claim"),
    ("change_of_circumstances", "Change of circumstances"),
    ("housing_benefit_claim_progress", "Housing benefit claim progress"),
    ("information_given", "Information given"),
    ("referred_face_to_face", "Referred to a face-to-face appointment"),
    ("safeguarding_concern", "Safeguarding concern"),
    ("other", "Something else"),
]
AVOIDABLE_CAUSES = [
    ("chasing_progress", "Chasing progress"),
    ("letter_not_understood", "Letter not understood"),
    ("online_service_failed", "Online service failed"),
    ("promised_callback_missed", "A promised callback did not come"),
    ("wrong_information_before", "Given wrong information before"),
    ("other", "Something else"),
]


def upgrade() -> None:
    options = op.create_table(
        "wrap_up_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("reason", "avoidable_cause", name="wrap_up_option_kind", native_enum=False,
                                  length=32, create_constraint=True), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrap_up_option")),
        sa.UniqueConstraint("kind", "code", name="uq_wrap_up_option_kind_code"),
    )
    op.create_table(
        "wrap_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_entry_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("adviser_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Enum("council_tax", "housing_benefit", "general", name="topic", native_enum=False,
                                   length=32, create_constraint=True), nullable=False),
        sa.Column("status", sa.Enum("pending", "coded", "uncoded", name="wrap_up_status", native_enum=False,
                                    length=32, create_constraint=True), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("avoidable", sa.Boolean(), nullable=True),
        sa.Column("avoidable_cause", sa.String(length=40), nullable=True),
        sa.Column("resolved_first_contact", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("coded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("coded_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status != 'coded' OR reason_code IS NOT NULL", name=op.f("ck_wrap_up_coded_has_a_reason")),
        sa.ForeignKeyConstraint(["adviser_id"], ["adviser.id"], name=op.f("fk_wrap_up_adviser_id_adviser")),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_wrap_up_call_id_call"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["callback_id"], ["callback.id"], name=op.f("fk_wrap_up_callback_id_callback"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["coded_by_user_id"], ["user_account.id"],
                                name=op.f("fk_wrap_up_coded_by_user_id_user_account")),
        sa.ForeignKeyConstraint(["queue_entry_id"], ["queue_entry.id"],
                                name=op.f("fk_wrap_up_queue_entry_id_queue_entry"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrap_up")),
        sa.UniqueConstraint("queue_entry_id", name=op.f("uq_wrap_up_queue_entry_id")),
    )
    with op.batch_alter_table("wrap_up", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wrap_up_adviser_id"), ["adviser_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wrap_up_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wrap_up_callback_id"), ["callback_id"], unique=False)
    with op.batch_alter_table("queue_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direct", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index("ix_call_caller_number_started_at", ["caller_number", "started_at"], unique=False)
    op.bulk_insert(
        options,
        [
            {"kind": kind, "code": code, "label": label, "position": position, "active": True}
            for kind, rows in (("reason", REASONS), ("avoidable_cause", AVOIDABLE_CAUSES))
            for position, (code, label) in enumerate(rows, start=1)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_caller_number_started_at")
    with op.batch_alter_table("queue_entry", schema=None) as batch_op:
        batch_op.drop_column("direct")
    with op.batch_alter_table("wrap_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wrap_up_callback_id"))
        batch_op.drop_index(batch_op.f("ix_wrap_up_call_id"))
        batch_op.drop_index(batch_op.f("ix_wrap_up_adviser_id"))
    op.drop_table("wrap_up")
    op.drop_table("wrap_up_option")
