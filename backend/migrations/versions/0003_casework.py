"""Casework: the case lifecycle columns (claims, recovery period, suspension), decisions, panel
reviews and case notes (reconsideration, withdrawal, suspension, resumption).

Written out with plain SQLAlchemy types (timestamps are ``DateTime(timezone=True)``, encrypted
reasons are ``Text``) so this migration never changes when the model code does.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("'awaiting_rg', 'recovery', 'awaiting_cg', 'cg_positive', 'rg_review', 'cg_review', "
            "'rg_negative', 'cg_negative', 'suspended', 'withdrawn', 'dtn_recorded'")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(_timestamp("status_changed_at", nullable=True))
        batch.add_column(sa.Column("cg_not_before", sa.Date(), nullable=True))
        batch.add_column(sa.Column("suspended_from", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("claimed_by_id", sa.Integer(), nullable=True))
        batch.add_column(_timestamp("claimed_at", nullable=True))
        batch.add_column(_timestamp("claim_expires_at", nullable=True))
        batch.create_foreign_key(op.f("fk_cases_claimed_by_id_users"), "users", ["claimed_by_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index(op.f("ix_cases_claimed_by_id"), ["claimed_by_id"])
        batch.create_check_constraint(op.f("ck_cases_status"), f"status IN ({STATUSES})")

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=2), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        _timestamp("decided_at"),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.CheckConstraint("stage IN ('rg', 'cg')", name=op.f("ck_decisions_stage")),
        sa.CheckConstraint("outcome IN ('positive', 'negative')", name=op.f("ck_decisions_outcome")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_decisions_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_decisions_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_case_id"), "decisions", ["case_id"])
    op.create_index(op.f("ix_decisions_decided_by_id"), "decisions", ["decided_by_id"])

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        _timestamp("reviewed_at"),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.CheckConstraint("outcome IN ('upheld', 'returned')", name=op.f("ck_reviews_outcome")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_reviews_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"],
                                name=op.f("fk_reviews_decision_id_decisions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_reviews_reviewer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index(op.f("ix_reviews_case_id"), "reviews", ["case_id"])
    op.create_index(op.f("ix_reviews_decision_id"), "reviews", ["decision_id"])
    op.create_index(op.f("ix_reviews_reviewer_id"), "reviews", ["reviewer_id"])

    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=16), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        _timestamp("at"),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('reconsideration', 'withdrawal', 'suspension', 'resumption')",
                           name=op.f("ck_case_notes_kind")),
        sa.CheckConstraint("requested_by IN ('first_responder', 'support_provider')",
                           name=op.f("ck_case_notes_requested_by")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_notes_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_case_notes_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index(op.f("ix_case_notes_case_id"), "case_notes", ["case_id"])
    op.create_index(op.f("ix_case_notes_author_id"), "case_notes", ["author_id"])


def downgrade() -> None:
    op.drop_table("case_notes")
    op.drop_table("reviews")
    op.drop_table("decisions")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(op.f("ck_cases_status"), type_="check")
        batch.drop_index(op.f("ix_cases_claimed_by_id"))
        batch.drop_constraint(op.f("fk_cases_claimed_by_id_users"), type_="foreignkey")
        batch.drop_column("claim_expires_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by_id")
        batch.drop_column("suspended_from")
        batch.drop_column("cg_not_before")
        batch.drop_column("status_changed_at")
