"""The hand-written migration creates exactly what the models declare, on a real SQLite file."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from backend import db
from backend.cli import alembic_config, upgrade_database
from backend.db import Base, make_engine


def test_upgrade_head_matches_metadata(app):
    engine = db.get_db(app).engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert context.get_current_revision() == head


def test_upgrade_is_idempotent(app):
    upgrade_database(app)  # already at head: nothing to do, no error


def test_alembic_command_line_url_and_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = make_engine(url)
    try:
        assert {"cases", "conversations", "audit_events", "users"} <= set(inspect(engine).get_table_names())
        command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()


def test_sqlite_connection_settings(app):
    with db.get_db(app).engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        connection.execute(text("SELECT 1"))


def test_the_legacy_chain_of_plain_and_keyed_events_still_verifies_after_the_per_case_chains_migration(
        tmp_path, monkeypatch):
    """Events from before 0009 (version 1, plain SHA-256) and before 0013 (version 2, keyed, one
    chain) stay as they are on the legacy chain and still verify; new events go on their case's
    chain, which starts where the legacy chain ends (so its tail cannot be cut off either)."""
    from datetime import timedelta

    from backend import audit
    from backend.app import create_app
    from backend.db import utcnow
    from tests.conftest import backend_test_config

    monkeypatch.delenv("AUDIT_KEY", raising=False)
    app = create_app(backend_test_config(tmp_path))
    key = app.config["AUDIT_KEY"].encode("utf-8")
    insert = text("INSERT INTO audit_events (at, actor, action, case_reference, detail, prev_hash, hash{}) "
                  "VALUES (:at, 'user:1', 'case.claimed', 'NRM-2025-000001', :detail, :prev, :hash{})")
    upgrade_database(app, "0005")
    prev, at = audit.GENESIS, utcnow() - timedelta(days=1)
    with db.get_db(app).engine.begin() as connection:
        for number in (1, 2):
            digest = audit.compute_hash(prev, at, "user:1", "case.claimed", "NRM-2025-000001", {"n": number})
            connection.execute(text(insert.text.format("", "")),
                               {"at": at.replace(tzinfo=None), "detail": f'{{"n": {number}}}', "prev": prev,
                                "hash": digest})
            prev = digest
    upgrade_database(app, "0010")
    with db.get_db(app).engine.begin() as connection:  # what record() wrote between 0009 and 0013
        detail_digest = audit.detail_digest(key, {"n": 3})
        keyed = audit.compute_keyed_hash(key, prev, at, "user:1", "case.claimed", "NRM-2025-000001", detail_digest)
        connection.execute(text(insert.text.format(", version, detail_digest", ", 2, :digest")),
                           {"at": at.replace(tzinfo=None), "detail": '{"n": 3}', "prev": prev, "hash": keyed,
                            "digest": detail_digest})
    upgrade_database(app)
    try:
        with app.app_context(), db.get_db(app).transaction() as session:
            new = audit.record(session, "user:2", "case.released", "NRM-2025-000001")
            assert (new.version, new.chain, new.seq, new.prev_hash) == (audit.CHAINED, "NRM-2025-000001", 1, keyed)
        with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
            assert session.execute(text("SELECT chain, seq FROM audit_events WHERE id <= 3 ORDER BY id")).all() == [
                (audit.LEGACY_CHAIN, 1), (audit.LEGACY_CHAIN, 2), (audit.LEGACY_CHAIN, 3)]
            assert audit.verify(session) == []
        with db.get_db(app).engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_events WHERE id = 3"))  # the legacy chain's tail
        with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
            problems = audit.verify(session)
        assert len(problems) == 1 and problems[0].startswith(f"event {new.id}:") and "removed" in problems[0]
    finally:
        db.get_db(app).engine.dispose()


def test_the_sessions_migration_keeps_existing_tokens_and_gives_them_an_expiry(tmp_path):
    url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0005")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO users (id, email, role, password_hash, active, failed_logins, "
                                    "created_at) VALUES (1, 'a@x.org', 'caseworker', 'x', 1, 0, CURRENT_TIMESTAMP)"))
            connection.execute(text("INSERT INTO api_tokens (user_id, token_hash, created_at) "
                                    "VALUES (1, 'h', CURRENT_TIMESTAMP)"))
        command.upgrade(cfg, "0007")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT expires_at, last_used_at FROM api_tokens")).all()
        assert len(rows) == 1 and rows[0][0] is not None and rows[0][1] is None
        assert "failed_logins" not in {column["name"] for column in inspect(engine).get_columns("users")}
    finally:
        engine.dispose()
def downgrade_to(engine, revision: str) -> None:
    with engine.begin() as connection:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def test_the_migration_drops_the_responders_reference_from_stored_cases(app):
    from backend.models import Case
    from tests.backend.casework_helpers import make_case

    engine = db.get_db(app).engine
    with app.app_context(), db.get_db(app).transaction() as session:  # made with today's columns, then
        stored = make_case(session, route="dtn", answers={"reference": "Ayesha K Leeds"}).id
        clean = make_case(session).id
    downgrade_to(engine, "0009")  # just before the migration under test
    with engine.connect() as connection:
        token = connection.execute(text("SELECT payload FROM cases WHERE id = :id"), {"id": clean}).scalar()

    upgrade_database(app)

    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        answers = session.get(Case, stored).payload["answers"]
    assert "reference" not in answers
    assert answers["pv-name-first-name"] == "Zbigniew" and answers["fr-location"] == "england"
    with engine.connect() as connection:  # a payload without the reference is left as it was
        assert connection.execute(text("SELECT payload FROM cases WHERE id = :id"), {"id": clean}).scalar() == token


def test_the_migration_derives_the_statistics_columns_of_stored_cases(app):
    """Cases stored before 0011 get their statistics columns from their (decrypted) payload, once."""
    from backend.models import Case
    from tests.backend.casework_helpers import make_case

    engine = db.get_db(app).engine
    with app.app_context(), db.get_db(app).transaction() as session:
        child = make_case(session, age_route="child", answers={
            "types-of-exploitation": ["forced-to-commit-crime", "prostitution"], "pv-nationality": "Eritrean",
            "pv-gender": "male", "reported-to-police-police-forces": "Kent Police",
            "local-authority-contacted-about-child-local-authority-name": "Birmingham City Council"}).id
        adult = make_case(session, answers={"pv-under-age-at-time-of-exploitation": "yes",
                                            "pv-nationality": "Martian"}, organisation="Kent Police").id
    downgrade_to(engine, "0010")
    assert "age_group" not in {column["name"] for column in inspect(engine).get_columns("cases")}

    upgrade_database(app)

    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        first, second = session.get(Case, child), session.get(Case, adult)
        assert (first.age_group, first.gender, first.nationality, first.police_force, first.local_authority,
                first.organisation_type, first.exploitation_groups) == (
            "child", "male", "Eritrean", "Kent Police", "Birmingham City Council", "ngo", 2 | 4)
        # a child at the time of exploitation; a nationality typed in is "other", never the text
        assert (second.age_group, second.nationality, second.organisation_type, second.gender) == (
            "child", "other", "police", None)


def test_a_web_chat_transcript_stored_a_line_a_row_reads_in_order_after_the_turn_replies_migration(app):
    """0023 adds ``chat_messages.client_message_id`` (a turn's row keeps its reply for a retry):
    a draft's transcript stored before, one line a row, reads the same, line by line, after it."""
    from backend.models import ChatMessage, Conversation
    from bot import chat_history

    lines = [("assistant", "Question \u0645"), ("operator", "Answer, with \u00e0"), ("assistant", "Next")]
    engine = db.get_db(app).engine
    with app.app_context(), db.get_db(app).transaction() as session:
        session.add(Conversation(id="c" * 36, channel="web", address="user:1", status="draft", language="en",
                                 state={}))
        session.flush()
        session.add_all([ChatMessage(conversation_id="c" * 36, sender=sender, text={"text": line})
                         for sender, line in lines])
    downgrade_to(engine, "0021")
    assert "client_message_id" not in {column["name"] for column in inspect(engine).get_columns("chat_messages")}

    upgrade_database(app)

    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        assert [(entry["sender"], entry["text"]) for entry in chat_history.entries(session, "c" * 36)] == lines
