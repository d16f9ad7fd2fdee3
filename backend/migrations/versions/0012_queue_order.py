"""The queues' order as columns of ``cases``, with an index in that exact order.

``queue``, ``queue_rank``, ``queue_due_date``, ``queue_since`` and ``queue_available_on`` (kept by
``backend.queue_order``) let the decision queue, the review queue and "claim next" read cases in
index order instead of sorting the whole queue. Existing cases are placed by one UPDATE over
plain columns (no payload is decrypted).

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

from backend.queue_order import BACKFILL_SQL

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER = ["queue", "queue_rank", "queue_due_date", "queue_since", "id"]
_QUEUED = sa.text("queue IS NOT NULL")
_UNCLAIMED = sa.text("queue IS NOT NULL AND claimed_by_id IS NULL")
_CLAIMED = sa.text("claimed_by_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("queue", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("queue_rank", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("queue_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("queue_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("queue_available_on", sa.Date(), nullable=True))
    op.execute(BACKFILL_SQL)
    op.create_index("ix_cases_queue_order", "cases", [*_ORDER, "queue_available_on"],
                    postgresql_where=_QUEUED, sqlite_where=_QUEUED)
    op.create_index("ix_cases_queue_unclaimed", "cases", _ORDER,
                    postgresql_where=_UNCLAIMED, sqlite_where=_UNCLAIMED)
    op.create_index("ix_cases_claim_expires_at", "cases", ["claim_expires_at"],
                    postgresql_where=_CLAIMED, sqlite_where=_CLAIMED)


def downgrade() -> None:
    op.drop_index("ix_cases_claim_expires_at", table_name="cases")
    op.drop_index("ix_cases_queue_unclaimed", table_name="cases")
    op.drop_index("ix_cases_queue_order", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        for column in ("queue_available_on", "queue_since", "queue_due_date", "queue_rank", "queue"):
            batch.drop_column(column)
