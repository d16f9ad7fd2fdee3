"""The counts of each ended quarter the published statistics show, kept (issue 11: every table over
a million cases within 1 s).

``statistics_quarters`` holds, per ended quarter, the counts every table is made of
(``backend.statistics.cache``); it starts empty and fills on first use and in ``nrm jobs run``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statistics_quarters",
        sa.Column("quarter", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("quarter", name=op.f("pk_statistics_quarters")),
    )


def downgrade() -> None:
    op.drop_table("statistics_quarters")
