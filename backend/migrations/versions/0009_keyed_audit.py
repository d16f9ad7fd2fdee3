"""Keyed audit chain: a version per event, the digest the HMAC covers, and redaction time.

Existing events keep version 1 (plain SHA-256 over the whole event) and still verify; every new
event is version 2 (HMAC-SHA256 with ``AUDIT_KEY``). See ``backend.audit``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("detail_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("redacted_at")
        batch.drop_column("detail_digest")
        batch.drop_column("version")
