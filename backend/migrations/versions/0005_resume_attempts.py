"""Resume code throttle: the wrong codes each redeemer typed recently.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resume_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resume_failures")),
    )
    op.create_index("ix_resume_failures_key_at", "resume_failures", ["key", "at"])


def downgrade() -> None:
    op.drop_index("ix_resume_failures_key_at", table_name="resume_failures")
    op.drop_table("resume_failures")
