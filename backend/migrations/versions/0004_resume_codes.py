"""Resume codes: one-time codes that carry a draft from SMS to web chat and back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "resume_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("target_channel", sa.String(length=10), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        sa.CheckConstraint("target_channel IN ('web', 'sms')", name=op.f("ck_resume_codes_target_channel")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_resume_codes_conversation_id_conversations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resume_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_resume_codes_code_hash")),
    )
    op.create_index(op.f("ix_resume_codes_conversation_id"), "resume_codes", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_resume_codes_conversation_id"), table_name="resume_codes")
    op.drop_table("resume_codes")
