"""Initial schema: users and API tokens, responders, conversations, inbound messages, cases,
reference counters and the audit trail.

Written out with plain SQLAlchemy types (timestamps are ``DateTime(timezone=True)``, encrypted
JSON is ``Text``) so this migration never changes when the model code does.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = "'responder', 'operator', 'caseworker', 'panel', 'analyst', 'admin'"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("organisation", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        _timestamp("locked_until", nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint(f"role IN ({ROLES})", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        _timestamp("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    op.create_table(
        "responders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("organisation", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responders")),
        sa.UniqueConstraint("phone_e164", name=op.f("uq_responders_phone_e164")),
    )

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("submitted_at", nullable=True),
        sa.CheckConstraint("channel IN ('sms', 'web', 'cli')", name=op.f("ck_conversations_channel")),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'cancelled')",
                           name=op.f("ck_conversations_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index("ix_conversations_channel_address_status", "conversations",
                    ["channel", "address", "status"])

    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        _timestamp("received_at"),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_inbound_messages_conversation_id_conversations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
    )
    op.create_index(op.f("ix_inbound_messages_conversation_id"), "inbound_messages", ["conversation_id"])

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("series", sa.String(length=3), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.String(length=20), nullable=False),
        sa.Column("route", sa.String(length=3), nullable=False),
        sa.Column("age_route", sa.String(length=7), nullable=False),
        sa.Column("fr_location", sa.String(length=16), nullable=False),
        sa.Column("organisation", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        _timestamp("submitted_at"),
        sa.Column("rg_due_date", sa.Date(), nullable=True),
        sa.CheckConstraint("series IN ('NRM', 'DTN')", name=op.f("ck_cases_series")),
        sa.CheckConstraint("route IN ('nrm', 'dtn')", name=op.f("ck_cases_route")),
        sa.CheckConstraint("age_route IN ('adult', 'child', 'unknown')", name=op.f("ck_cases_age_route")),
        sa.CheckConstraint("fr_location IN ('england', 'wales', 'scotland', 'northern-ireland')",
                           name=op.f("ck_cases_fr_location")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_cases_conversation_id_conversations"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_cases_conversation_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    op.create_index("ix_cases_status_priority_rg_due_date", "cases", ["status", "priority", "rg_due_date"])

    op.create_table(
        "reference_counters",
        sa.Column("series", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_reference_counters")),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_reference", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    op.create_index(op.f("ix_audit_events_case_reference"), "audit_events", ["case_reference"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("reference_counters")
    op.drop_table("cases")
    op.drop_table("inbound_messages")
    op.drop_table("conversations")
    op.drop_table("responders")
    op.drop_table("api_tokens")
    op.drop_table("users")
