"""The suite's own shortcuts give what they stand for: a test database copied from the migrated
template (``tests.conftest.migrate``) is the database the migrations make."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import text

from backend import db
from backend.cli import upgrade_database
from bot.app import create_app
from tests.conftest import backend_test_config, migrate, migrated_template


def unnumbered(index: str) -> str:
    """An index's name without the number SQLite gives a constraint's own index."""
    return "sqlite_autoindex" if index.startswith("sqlite_autoindex_") else index


def described(path: str) -> dict[str, Any]:
    """Every table's columns, indexes (with their columns), foreign keys and rows; the order of a
    table's constraints is left out (batch migrations rebuild tables in no fixed order)."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: {
            "columns": connection.execute(f'PRAGMA table_info("{table}")').fetchall(),
            "indexes": sorted((unnumbered(name), unique, connection.execute(f'PRAGMA index_info("{name}")').fetchall())
                              for _, name, unique, *_ in connection.execute(f'PRAGMA index_list("{table}")')),
            "foreign keys": sorted(key[2:] for key in connection.execute(f'PRAGMA foreign_key_list("{table}")')),
            "rows": sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall()),
        } for table in tables}


def database_file(app: Any) -> str:
    path = db.get_db(app).engine.url.database
    db.get_db(app).engine.dispose()
    return path


def test_a_test_database_copied_from_the_migrated_template_equals_one_the_migrations_make(tmp_path: Path) -> None:
    migrated = create_app(backend_test_config(tmp_path / "migrated"))
    upgrade_database(migrated)
    copied = create_app(backend_test_config(tmp_path / "copied"))
    migrate(copied)
    with copied.app_context(), db.get_db(copied).transaction() as session:  # usable at once, in WAL mode
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("SELECT count(*) FROM cases")).scalar() == 0
    expected = described(database_file(migrated))
    assert expected["alembic_version"]["rows"] and described(database_file(copied)) == expected


def test_a_database_that_is_not_new_is_migrated_not_overwritten(tmp_path: Path) -> None:
    app = create_app(backend_test_config(tmp_path))
    upgrade_database(app, "0010")
    with app.app_context(), db.get_db(app).transaction() as session:
        session.execute(text("CREATE TABLE kept (n INTEGER)"))
    migrate(app)
    now = described(database_file(app))
    assert "kept" in now and now["alembic_version"]["rows"] == described(str(migrated_template()))["alembic_version"]["rows"]
