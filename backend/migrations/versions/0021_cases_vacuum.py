"""``cases`` vacuumed after a bounded number of dead rows, its indexes cleaned each time (PostgreSQL).

A claim moves the case out of ``ix_cases_queue_unclaimed`` (its condition is ``claimed_by_id IS
NULL``), but the entry of the row's old version stays in the index, at the head of the queue,
until VACUUM removes it: every claim-next then reads past those dead entries (a burst of claims
left hundreds of index pages to read before the first free case). By default autovacuum waits
for a fifth of the table to be dead (200,000 rows of a million), and when few heap pages hold
dead rows it skips cleaning the indexes altogether (``vacuum_index_cleanup`` "auto"), which would
leave the dead entries where claim-next reads. Here ``cases`` is vacuumed once
:data:`DEAD_ROWS` rows are dead, whatever its size, and each vacuum cleans its indexes.

SQLite has no such settings (and no dead index entries): nothing to do there.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEAD_ROWS = 1000
"""Dead row versions of ``cases`` (claims, decisions, any update) that start an autovacuum."""
SETTINGS = {
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": str(DEAD_ROWS),
    "vacuum_index_cleanup": "on",
}
"""Per-table storage parameters of ``cases`` (PostgreSQL's own defaults otherwise)."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE cases SET ({', '.join(f'{name} = {value}' for name, value in SETTINGS.items())})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE cases RESET ({', '.join(SETTINGS)})")
