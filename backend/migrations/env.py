"""Alembic environment: the product's one metadata, the URL from the app or the environment.

Where the database comes from, first match wins: a connection handed over by the app
(``config.attributes["connection"]``, what ``nrm db upgrade`` does), ``config.attributes["url"]``,
``-x url=...`` on the alembic command line, the ``DATABASE_URL`` environment variable.
SQLite runs in batch mode, since it can alter tables only by copying them.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

import backend.models  # noqa: F401 - registers every table on Base.metadata
from backend.config import normalise_database_url
from backend.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url") \
        or os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass -x url=..., set DATABASE_URL, or run `nrm db upgrade`")
    return normalise_database_url(url)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without a database connection."""
    url = _url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"), compare_type=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
