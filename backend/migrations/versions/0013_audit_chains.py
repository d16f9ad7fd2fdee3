"""One audit chain per case (or actor) instead of one for the whole service, and sealed epochs.

Every existing event stays as it is on the one legacy chain ``global`` (its place ``seq`` is its
id), so versions 1 and 2 still verify; new events (version 3) go on their own case's chain, and
``nrm audit anchor`` / ``nrm jobs run`` seal them into signed epochs (``audit_anchors``). See
``backend.audit`` and ``backend.audit_anchors``.

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_CHAIN = "global"


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("chain", sa.String(length=340), nullable=False, server_default=LEGACY_CHAIN))
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("epoch", sa.Integer(), nullable=True))
    op.execute("UPDATE audit_events SET seq = id")
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_audit_events_prev_hash", type_="unique")
        batch.create_unique_constraint("uq_audit_events_chain", ["chain", "seq"])
        batch.create_index("ix_audit_events_epoch", ["epoch"])
    op.create_table(
        "audit_anchors",
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("epoch", name=op.f("pk_audit_anchors")),
    )


def downgrade() -> None:
    """Only while every event is still on the legacy chain: per-case chains all start from the
    same point, which the single chain's unique ``prev_hash`` cannot hold (and events are never
    deleted to make room)."""
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_events WHERE chain <> :legacy"),
                    {"legacy": LEGACY_CHAIN}).scalar():
        raise RuntimeError("audit events on per-case chains exist: they cannot go back onto one chain")
    op.drop_table("audit_anchors")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_epoch")
        batch.drop_constraint("uq_audit_events_chain", type_="unique")
        batch.create_unique_constraint("uq_audit_events_prev_hash", ["prev_hash"])
        batch.drop_column("epoch")
        batch.drop_column("seq")
        batch.drop_column("chain")
