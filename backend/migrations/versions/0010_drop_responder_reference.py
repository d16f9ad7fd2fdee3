"""Drop the responder's own reference from stored case payloads.

Until payload schema 2.0 every referral and Duty to Notify report carried the responder's own
label (``answers.reference``), which the form never sends and whose prompt suggested first names.
Each stored payload is decrypted, the answer removed and the payload encrypted again. Data only:
the reference cannot be restored on downgrade (the case page and JSON no longer show it anyway).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from alembic import op

from backend.crypto import migration_cipher

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CASES = sa.table("cases", sa.column("id", sa.Integer), sa.column("payload", sa.Text))


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_CASES.c.id, _CASES.c.payload).where(_CASES.c.payload.is_not(None))).all()
    if not rows:
        return
    cipher = migration_cipher(bind.dialect)
    for case_id, token in rows:
        payload = cipher.decrypt_json(token)
        answers = payload.get("answers") if isinstance(payload, dict) else None
        if isinstance(answers, dict) and "reference" in answers:
            payload["answers"] = {k: v for k, v in answers.items() if k != "reference"}
            bind.execute(_CASES.update().where(_CASES.c.id == case_id)
                         .values(payload=cipher.encrypt_json(payload)))


def downgrade() -> None:
    """Nothing to undo: the dropped references are gone for good."""
