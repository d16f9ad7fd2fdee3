"""Job schedules shared by every machine, and the time each case entered its status.

``job_runs`` holds one row per periodic job of ``nrm jobs run`` (``backend.jobs``): its lease and
when it is due again, so that runners on several machines never run one job twice. Cases are now
given ``status_changed_at`` when they are submitted (existing ones without it get their submission
time), and the waiting cases get a partial index holding every column the queue gauges of
``/metrics`` read, so a scrape reads the index alone.

Revision ID: 0014
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

WAITING = "status IN ('awaiting_rg', 'awaiting_cg', 'rg_review', 'cg_review')"
"""``backend.models.WAITING`` as it was at this revision."""

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runner", sa.String(length=128), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )
    op.execute("UPDATE cases SET status_changed_at = submitted_at WHERE status_changed_at IS NULL")
    op.create_index("ix_cases_waiting", "cases",
                    ["status", "status_changed_at", "rg_due_date", "cg_due_date", "review_due_date"],
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))


def downgrade() -> None:
    op.drop_index("ix_cases_waiting", table_name="cases")
    op.drop_table("job_runs")
