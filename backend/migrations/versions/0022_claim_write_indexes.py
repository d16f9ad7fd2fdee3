"""A claim writes one index entry fewer: ``ix_cases_claimed_by_id`` is dropped.

A claim's UPDATE changes ``claimed_by_id``, so PostgreSQL writes a new entry into every index of
``cases`` whose condition the claimed row meets (eleven before this migration; the claim's UPDATE
took about 0.3 ms of PostgreSQL's CPU on a million cases, most of it in these entries). No query
reads this one: the queries on ``claimed_by_id`` test it for NULL (the partial indexes of the
queue and of claims that lapse answer them), the casework pages find a claim's holder by the
case's reference, and the lookup of a user's claims that the foreign key's ``ON DELETE SET NULL``
would make (users are deactivated, never deleted) is answered by ``ix_cases_claim_expires_at``,
whose entries are exactly the claimed cases (EXPLAIN on a million cases: issue 14).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_claimed_by_id")


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.create_index("ix_cases_claimed_by_id", ["claimed_by_id"])
