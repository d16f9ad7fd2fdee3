"""PostgreSQL: ``locked_drafts(channel, address)``, a sender's drafts locked, read in a snapshot
of their own.

An SMS turn locks the sender's responder row and only then reads their drafts, so a draft that
the sender's previous message opened and committed while this one waited for the lock is seen.
That took two statements (one round trip each): a statement's own snapshot is taken before it
waits. A VOLATILE PL/pgSQL function takes a new snapshot for each query it runs, so
``bot.sms`` now reads the drafts through this function in a LATERAL join after the subquery that
locks the responder: one statement, the same guarantee (issue 14: a round trip and a statement's
client work a turn). SQLite needs nothing (``BEGIN IMMEDIATE`` holds the database's write lock).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOCKED_DRAFTS = """
CREATE OR REPLACE FUNCTION locked_drafts(wanted_channel text, wanted_address text)
RETURNS SETOF conversations LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY SELECT * FROM conversations
        WHERE channel = wanted_channel AND address = wanted_address AND status = 'draft'
        ORDER BY id FOR UPDATE;
END
$$
"""
"""PL/pgSQL, not SQL: it keeps its query's plan for the session (PostgreSQL plans a SQL
function's body again at every call: measured, 60 microseconds of the server's CPU a turn)."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LOCKED_DRAFTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION locked_drafts(text, text)")
