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

import os
from typing import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

from backend.crypto import FieldCipher, cipher_for

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CASES = sa.table("cases", sa.column("id", sa.Integer), sa.column("payload", sa.Text))


def _cipher(bind: Connection) -> FieldCipher:
    """The app's cipher (``nrm db upgrade``), else one from ``FIELD_ENCRYPTION_KEY``."""
    try:
        return cipher_for(bind.dialect)
    except RuntimeError:
        keys = os.environ.get("FIELD_ENCRYPTION_KEY")
        if not keys:
            raise RuntimeError("cases need re-encrypting: run `nrm db upgrade`, or set "
                               "FIELD_ENCRYPTION_KEY for alembic") from None
        return FieldCipher.from_setting(keys)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_CASES.c.id, _CASES.c.payload).where(_CASES.c.payload.is_not(None))).all()
    if not rows:
        return
    cipher = _cipher(bind)
    for case_id, token in rows:
        payload = cipher.decrypt_json(token)
        answers = payload.get("answers") if isinstance(payload, dict) else None
        if isinstance(answers, dict) and "reference" in answers:
            payload["answers"] = {k: v for k, v in answers.items() if k != "reference"}
            bind.execute(_CASES.update().where(_CASES.c.id == case_id)
                         .values(payload=cipher.encrypt_json(payload)))


def downgrade() -> None:
    """Nothing to undo: the dropped references are gone for good."""
