"""The indexes of the queues' other orders (issue 12: sort a queue by due date, or by how long
cases have waited, oldest or newest first), so that each order's page is an index range on a
national-scale queue rather than a sort (``backend.casework.queue_sort``).

Revision ID: 0018_queue_sort
Revises: 0017_webchat_drafts
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUED = sa.text("queue IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_cases_queue_due", "cases", ["queue", "queue_due_date", "reference", "queue_available_on"],
                    postgresql_where=_QUEUED, sqlite_where=_QUEUED)
    op.create_index("ix_cases_queue_since", "cases", ["queue", "queue_since", "id", "queue_available_on"],
                    postgresql_where=_QUEUED, sqlite_where=_QUEUED)


def downgrade() -> None:
    op.drop_index("ix_cases_queue_since", table_name="cases")
    op.drop_index("ix_cases_queue_due", table_name="cases")
