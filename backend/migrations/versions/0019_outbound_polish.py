"""A case awaiting information says so in a column (``cases.awaiting_information_since``), so the
queue can show it and leave the days it waits out of "overdue" without reading another table.

Revision ID: 0019_outbound_polish
Revises: 0017_webchat_drafts
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import timezone
from typing import Sequence

import sqlalchemy as sa
from alembic import op

from backend.calendar import uk_date

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("awaiting_information_since", sa.Date(), nullable=True))
    connection = op.get_bind()
    requests = sa.table("information_requests", sa.column("case_id", sa.Integer),
                        sa.column("asked_at", sa.DateTime(timezone=True)), sa.column("answered_at"))
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("awaiting_information_since", sa.Date))
    for case_id, asked_at in connection.execute(
            sa.select(requests.c.case_id, requests.c.asked_at).where(requests.c.answered_at.is_(None))):
        connection.execute(sa.update(cases).where(cases.c.id == case_id)
                           .values(awaiting_information_since=uk_date(asked_at if asked_at.tzinfo else
                                                                       asked_at.replace(tzinfo=timezone.utc))))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("awaiting_information_since")
