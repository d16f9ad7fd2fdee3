"""Statistics columns on cases, derived from the payload, and the indexes the statistics read.

Statistics used to decrypt every payload of the period on every request (92 s over a million cases).
The few answers they need now live in plain, non-identifying columns set at intake
(``backend.statistics.derived``): age group at exploitation, gender, nationality, first responder
organisation type, police force, local authority and exploitation type groups. This migration adds
them and fills them in for the cases already stored, decrypting each payload once, in batches.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from backend.crypto import FieldCipher, migration_cipher
from backend.statistics.derived import columns as derived_columns

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
STATISTICS = ("age_group", "gender", "nationality", "organisation_type", "police_force", "local_authority",
              "exploitation_groups")

_CASES = sa.table("cases", sa.column("id", sa.Integer), sa.column("payload", sa.Text),
                  sa.column("organisation", sa.String), *(sa.column(name) for name in STATISTICS))


def _backfill(bind: Connection) -> None:
    cipher: FieldCipher | None = None
    last = 0
    while True:
        rows = bind.execute(sa.select(_CASES.c.id, _CASES.c.payload, _CASES.c.organisation)
                            .where(_CASES.c.id > last).order_by(_CASES.c.id).limit(BATCH)).all()
        if not rows:
            return
        cipher = cipher or migration_cipher(bind.dialect)
        for case_id, token, organisation in rows:
            payload = cipher.decrypt_json(token) if token is not None else {}
            values = derived_columns(payload if isinstance(payload, dict) else {}, organisation or "")
            bind.execute(_CASES.update().where(_CASES.c.id == case_id).values(**values))
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("age_group", sa.String(13), nullable=False, server_default="not-specified"))
        batch.add_column(sa.Column("gender", sa.String(7), nullable=True))
        batch.add_column(sa.Column("nationality", sa.String(64), nullable=True))
        batch.add_column(sa.Column("organisation_type", sa.String(24), nullable=False, server_default="other"))
        batch.add_column(sa.Column("police_force", sa.String(64), nullable=True))
        batch.add_column(sa.Column("local_authority", sa.String(96), nullable=True))
        batch.add_column(sa.Column("exploitation_groups", sa.Integer, nullable=False, server_default="32"))
    _backfill(op.get_bind())
    op.create_index("ix_cases_submitted_at_statistics", "cases", ["submitted_at"],
                    postgresql_include=["route", *STATISTICS])
    op.create_index("ix_cases_id_submitted_at", "cases", ["id", "submitted_at"])
    op.create_index("ix_decisions_decided_at_stage_outcome", "decisions", ["decided_at", "stage", "outcome"],
                    postgresql_include=["case_id"])
    op.create_index("ix_reviews_reviewed_at_outcome", "reviews", ["reviewed_at", "outcome"])
    op.create_index("ix_case_notes_kind_at", "case_notes", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_case_notes_kind_at", "case_notes")
    op.drop_index("ix_reviews_reviewed_at_outcome", "reviews")
    op.drop_index("ix_decisions_decided_at_stage_outcome", "decisions")
    op.drop_index("ix_cases_id_submitted_at", "cases")
    op.drop_index("ix_cases_submitted_at_statistics", "cases")
    with op.batch_alter_table("cases") as batch:
        for name in reversed(STATISTICS):
            batch.drop_column(name)
