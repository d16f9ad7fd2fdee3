"""A web chat turn's reply is kept in its transcript row: ``chat_messages.client_message_id``.

A message sent with a ``client_message_id`` to a draft keeps the answer for a retry in the row of
its turn (``bot.webchat``, ``bot.chat_history``) rather than in a ``chat_replies`` row of its own:
one INSERT and one seal fewer a turn, on SQLite a statement (issue 14). The unique constraint
still makes a message sent twice at once apply once. ``chat_replies`` keeps the answers of
finished conversations and those stored before. Rows already stored (one line each, no id) read
as before.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages") as batch:
        batch.add_column(sa.Column("client_message_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_chat_messages_conversation_client_message",
                                       ["conversation_id", "client_message_id"])


def downgrade() -> None:
    with op.batch_alter_table("chat_messages") as batch:
        batch.drop_constraint("uq_chat_messages_conversation_client_message", type_="unique")
        batch.drop_column("client_message_id")
