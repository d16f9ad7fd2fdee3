"""Fewer indexes rewritten by every claim: the three ``ix_cases_status_priority_*`` indexes (from
before the queue's own order, migration 0012) go, and the one query that still needed an index on
``status`` (``nrm jobs run`` ending recovery periods) gets a partial one of its own.

A claim writes ``claimed_by_id`` and ``claim_expires_at``, both indexed, so PostgreSQL cannot
update the row in place (HOT): every index of ``cases`` whose condition the claimed row meets gets
a new entry. EXPLAIN of every query that filters or orders cases (queue pages and counts with each
filter and sort, claim-next, lapsed claims, recovery ends, retention, the queue gauges) on 300,000
seeded cases: the ``rg`` and ``cg`` indexes were used by none; the ``review`` one only as an index
on ``status`` (a stage filter, which ``ix_cases_waiting`` answers as well, and recovery ends).
``ix_cases_recovery_ends`` holds cases in recovery only, which a claim never touches.

Revision ID: 0020_claim_indexes
Revises: 0019_outbound_polish
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "ix_cases_status_priority_rg_due_date": ["status", "priority", "rg_due_date"],
    "ix_cases_status_priority_cg_due_date": ["status", "priority", "cg_due_date"],
    "ix_cases_status_priority_review_due_date": ["status", "priority", "review_due_date"],
}
RECOVERY = sa.text("status = 'recovery'")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name in DROPPED:
            batch.drop_index(name)
        batch.create_index("ix_cases_recovery_ends", ["cg_not_before", "id"], postgresql_where=RECOVERY,
                           sqlite_where=RECOVERY)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_recovery_ends")
        for name, columns in DROPPED.items():
            batch.create_index(name, columns)
