"""Claim-next can walk no index of the queue but the unclaimed cases' one: ``ix_cases_queue_order``
also requires ``queue_rank IS NOT NULL`` (true of every queued case), which the pages say and
claim-next does not.

Both indexes hold the queue in the same order; ``ix_cases_queue_unclaimed`` only the cases nobody
holds. PostgreSQL's statistics cannot tell that the claimed cases are the ones at the head of the
queue, so it costs both indexes alike for claim-next's first statement, and its prepared (generic)
plan took one or the other from one ANALYZE to the next. Along ``ix_cases_queue_order`` every
claim read the row of every claimed case before the first free one: 4,473 claimed cases, 2,823
buffers and 5 ms a claim (EXPLAIN ANALYZE EXECUTE, a million cases), against 4 buffers along its
own index; PostgreSQL's CPU a claim grew with every claim of a run (issue 14). A partial index is
only considered for a statement whose conditions imply the index's, so claim-next now cannot use
this one; a page of either queue in the priority order, and a queue's counts, say the condition
(``backend.casework.queue_sort.Sort.index_condition``) and read it as before. (Said by every
query of a queue, its estimate, a seventh of the rows, made a page in another order sort.)

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["queue", "queue_rank", "queue_due_date", "queue_since", "id", "queue_available_on"]


def _queue_order_index(where: str) -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_queue_order")
        batch.create_index("ix_cases_queue_order", COLUMNS, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def upgrade() -> None:
    _queue_order_index("queue IS NOT NULL AND queue_rank IS NOT NULL")


def downgrade() -> None:
    _queue_order_index("queue IS NOT NULL")
