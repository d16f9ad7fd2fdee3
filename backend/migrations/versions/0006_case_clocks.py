"""Case clocks and returns: CG and panel review target dates, the day a suspension paused the
clocks, the panel's return (when, and whose decision), and who made the referral.

Open cases get their target dates from the default settings (CG 20, review 10 working days).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09
"""

from __future__ import annotations

from datetime import timezone
from typing import Sequence

import sqlalchemy as sa
from alembic import op

from backend.calendar import add_working_days, uk_date

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CG_WORKING_DAYS = 20
REVIEW_WORKING_DAYS = 10


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("submitted_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("cg_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("review_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("suspended_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("returned_decider_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_cases_returned_decider_id_users"), "users", ["returned_decider_id"],
                                 ["id"], ondelete="SET NULL")
        batch.create_index("ix_cases_status_priority_cg_due_date", ["status", "priority", "cg_due_date"])
        batch.create_index("ix_cases_status_priority_review_due_date", ["status", "priority", "review_due_date"])
    _backfill()


def _backfill() -> None:
    """Target dates for the cases already open (the rows are few: one pass in Python)."""
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("status", sa.String),
                     sa.column("suspended_from", sa.String), sa.column("fr_location", sa.String),
                     sa.column("cg_not_before", sa.Date), sa.column("status_changed_at", sa.DateTime),
                     sa.column("cg_due_date", sa.Date), sa.column("review_due_date", sa.Date))
    connection = op.get_bind()
    rows = connection.execute(sa.select(cases.c.id, cases.c.status, cases.c.suspended_from, cases.c.fr_location,
                                        cases.c.cg_not_before, cases.c.status_changed_at)
                              .where(cases.c.status.in_(("recovery", "awaiting_cg", "suspended",
                                                         "rg_review", "cg_review")))).all()
    for case_id, status, suspended_from, nation, cg_not_before, changed_at in rows:
        values = {}
        if cg_not_before is not None and (status in ("recovery", "awaiting_cg")
                                          or suspended_from in ("recovery", "awaiting_cg")):
            values["cg_due_date"] = add_working_days(cg_not_before, CG_WORKING_DAYS, nation)
        if status in ("rg_review", "cg_review") and changed_at is not None:
            moment = changed_at if changed_at.tzinfo else changed_at.replace(tzinfo=timezone.utc)
            values["review_due_date"] = add_working_days(uk_date(moment), REVIEW_WORKING_DAYS, nation)
        if values:
            connection.execute(cases.update().where(cases.c.id == case_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_status_priority_review_due_date")
        batch.drop_index("ix_cases_status_priority_cg_due_date")
        batch.drop_constraint(op.f("fk_cases_returned_decider_id_users"), type_="foreignkey")
        batch.drop_column("returned_decider_id")
        batch.drop_column("returned_at")
        batch.drop_column("suspended_on")
        batch.drop_column("review_due_date")
        batch.drop_column("cg_due_date")
        batch.drop_column("submitted_by")
