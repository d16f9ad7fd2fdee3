"""Claim-next reads past no row it cannot take: cases still in their recovery period are skipped
inside ``ix_cases_queue_unclaimed``, and PostgreSQL vacuums ``cases`` after a bounded number of
dead rows.

Recovery periods. A CG case waits in the decision queue from the end of its recovery period
(``queue_available_on``); until then claim-next must pass it by. The index held no such date and a
case that may be decided now had NULL there, so the test ("NULL, or not after today") was made on
each row: every claim visited the row of every case still in recovery that sorts before the first
it may take (hundreds after a few thousand claims, as the cases ahead of them are taken). Now a
queued case that may be decided now holds 0001-01-01 (``backend.queue_order.AVAILABLE_NOW``), the
test is one comparison, and the index carries the date last, so it is checked on the index's own
entries (the order, and so every other use of the index, is unchanged: ``id`` is unique before it).

Dead entries (PostgreSQL). A claim leaves the entry of the row's old version in the index, at the
head of the queue, until VACUUM removes it. By default autovacuum waits for a fifth of the table
to be dead (200,000 rows of a million) and, when few pages hold dead rows, skips cleaning the
indexes (``vacuum_index_cleanup`` "auto"); here ``cases`` is vacuumed once :data:`DEAD_ROWS` rows
are dead, whatever its size, and each vacuum cleans its indexes. SQLite has no such settings.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AVAILABLE_NOW = "0001-01-01"
"""``backend.queue_order.AVAILABLE_NOW`` as this migration writes it (a migration keeps its values)."""
ORDER = ["queue", "queue_rank", "queue_due_date", "queue_since", "id"]
UNCLAIMED = sa.text("queue IS NOT NULL AND claimed_by_id IS NULL")
DEAD_ROWS = 1000
"""Dead row versions of ``cases`` (claims, decisions, any update) that start an autovacuum."""
SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": str(DEAD_ROWS),
    "vacuum_index_cleanup": "on",
}
"""Per-table storage parameters of ``cases`` (PostgreSQL's own defaults otherwise)."""


def _unclaimed_index(columns: list[str]) -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_queue_unclaimed")
        batch.create_index("ix_cases_queue_unclaimed", columns, postgresql_where=UNCLAIMED, sqlite_where=UNCLAIMED)


def upgrade() -> None:
    op.execute(f"UPDATE cases SET queue_available_on = '{AVAILABLE_NOW}' WHERE queue IS NOT NULL "
               "AND queue_available_on IS NULL")
    _unclaimed_index([*ORDER, "queue_available_on"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE cases SET ({', '.join(f'{name} = {value}' for name, value in SETTINGS.items())})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE cases RESET ({', '.join(SETTINGS)})")
    _unclaimed_index(ORDER)
    op.execute(f"UPDATE cases SET queue_available_on = NULL WHERE queue_available_on = '{AVAILABLE_NOW}'")
