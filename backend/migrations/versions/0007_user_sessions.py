"""Sessions that end: server-side sign-in sessions, API token expiry and last use; no global lock-out.

``user_sessions`` holds one row per signed-in browser (``backend.sessions``). API tokens get
``expires_at`` (tokens issued before this migration expire 90 days after it) and ``last_used_at``.
The per-account lock-out columns go: repeated wrong passwords are throttled per client instead
(``backend.limits``), so nobody can lock a named caseworker out.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXISTING_TOKEN_DAYS = 90


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("last_seen_at"),
        _timestamp("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])

    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(_timestamp("expires_at", nullable=True))
        batch.add_column(_timestamp("last_used_at", nullable=True))
    tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    expiry = datetime.now(timezone.utc) + timedelta(days=EXISTING_TOKEN_DAYS)
    op.execute(tokens.update().values(expires_at=expiry))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)

    # Not batch mode: on SQLite it would copy and drop ``users``, and dropping the old table fires
    # the ON DELETE actions of every table that refers to it (tokens, sessions, claims). SQLite
    # 3.35+ drops a plain column in place.
    for column in ("failed_logins", "locked_until"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE users DROP COLUMN {column}")
        else:
            op.drop_column("users", column)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(_timestamp("locked_until", nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
