"""`nrm jobs run` on the whole product also purges expired drafts (one scheduled command)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from backend import db
from backend.db import utcnow
from backend.models import Conversation
from bot import engine


def test_jobs_run_deletes_drafts_past_their_expiry(product) -> None:
    with product.app_context(), db.get_db(product).transaction() as session:
        old = engine.begin(session, "cli", "terminal", language="en").conversation
        fresh = engine.begin(session, "cli", "terminal", language="en").conversation
    with product.app_context(), db.get_db(product).transaction() as session:
        session.execute(update(Conversation).where(Conversation.id == old)
                        .values(updated_at=utcnow() - timedelta(days=8)))

    result = product.test_cli_runner().invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "purged 1 expired draft(s)" in result.output
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert list(session.scalars(select(Conversation.id))) == [fresh]
