"""What every row of the bench shares: the seeded databases, their users and tokens, the settings.

A :class:`Database` is migrated, seeded (``bench.seed``) and given the accounts the rows use:
registered SMS numbers, a web chat operator, caseworkers (one who signs in with a password, for
the HTML queue), an analyst; on PostgreSQL then vacuumed and analysed, as autovacuum would have
done on a database in use (``bench.postgres_costs.analyze``). Servers (``bench.servers``) get its
``env``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet

SENDERS = 50
CLAIMERS = 8
PASSWORD = "bench-password-" + secrets.token_hex(8)
UNLIMITED = "1000000 per minute"


def sender_phone(sender: int) -> str:
    """Ofcom's drama range (+44 7700 900xxx): never a real line."""
    return f"+447700900{100 + sender:03d}"


@dataclass
class Database:
    name: str
    """``SQLite`` or ``PostgreSQL``."""
    url: str
    instance: str
    cases: int = 0
    waiting: int = 0
    env: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    """``operator``, ``analyst``, ``caseworker-0`` .. ``caseworker-7`` -> API token."""
    caseworker_email: str = "bench-caseworker-0@example.org"
    password: str = PASSWORD
    """Every bench account's password (a kept schema's accounts get this run's: ``--keep-pg``)."""
    sms_sent: dict[int, int] = field(default_factory=dict)
    """Messages each SMS sender has sent so far (its draft goes on across servers)."""
    chats: dict[int, str] = field(default_factory=dict)
    """Web chat conversation id of each sender."""
    chat_sent: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {
            "NRM_ENV": "production", "DATABASE_URL": self.url, "NRM_INSTANCE_PATH": self.instance,
            "SECRET_KEY": secrets.token_hex(32), "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "AUDIT_KEY": secrets.token_hex(32), "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
            # one load generator is every client: lift the per-client limits (backend.limits)
            "CHAT_RATE_LIMIT": UNLIMITED, "API_RATE_LIMIT": UNLIMITED, "SIGN_IN_RATE_LIMIT": UNLIMITED,
            "SIGN_IN_ACCOUNT_RATE_LIMIT": UNLIMITED, "RESUME_RATE_LIMIT": UNLIMITED,
        }

    def app(self) -> Any:
        """The product's app on this database, in this process (for set-up and in-process rows)."""
        os.environ["NRM_INSTANCE_PATH"] = self.instance
        from bot.app import create_app

        return create_app({key: value for key, value in self.env.items() if key != "NRM_INSTANCE_PATH"})

    def prepare(self, cases: int) -> None:
        """Migrate, seed ``cases`` cases and add the bench's accounts."""
        from backend import auth, db
        from backend.cli import upgrade_database
        from backend.crypto import FieldCipher
        from backend.models import Responder
        from bench.postgres_costs import analyze
        from bench.seed import seed

        app = self.app()
        upgrade_database(app)
        seeded = seed(self.url, cases, FieldCipher.from_setting(self.env["FIELD_ENCRYPTION_KEY"]))
        self.cases, self.waiting = seeded["cases"], seeded["waiting"]
        with app.app_context(), db.get_db(app).transaction() as session:
            for sender in range(SENDERS):
                session.add(Responder(phone_e164=sender_phone(sender), organisation="The Salvation Army"))
            for role, key in (("operator", "operator"), ("analyst", "analyst")):
                user = auth.create_user(session, f"bench-{role}@example.org", role, self.password,
                                        "The Salvation Army")
                self.tokens[key] = auth.create_token(session, user)
            for claimer in range(CLAIMERS):
                user = auth.create_user(session, f"bench-caseworker-{claimer}@example.org", "caseworker", self.password,
                                        "Single Competent Authority")
                self.tokens[f"caseworker-{claimer}"] = auth.create_token(session, user)
        if self.name == "PostgreSQL":
            analyze(db.get_db(app).engine, vacuum=True)  # after the bulk load, as on a database in use
        db.get_db(app).engine.dispose()

    def saved(self) -> dict[str, Any]:
        """What :meth:`restored` needs to serve this seeded database again (keys included: a
        scratch file for the bench only)."""
        return {"name": self.name, "url": self.url, "cases": self.cases, "waiting": self.waiting,
                "env": self.env, "tokens": self.tokens}

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection of its own to this database, each statement committed as it runs
        (autocommit), closed with its engine afterwards: for the bench's own set-up."""
        from sqlalchemy import create_engine

        engine = create_engine(self.url, isolation_level="AUTOCOMMIT", hide_parameters=True)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def give_back_claims(self) -> None:
        """Every claimed case back in its queue, unclaimed: the queue as seeded."""
        from sqlalchemy import text

        with self.connection() as connection:
            connection.execute(text("UPDATE cases SET claimed_by_id = NULL, claimed_at = NULL, "
                                    "claim_expires_at = NULL WHERE claimed_by_id IS NOT NULL"))

    @classmethod
    def restored(cls, saved: dict[str, Any], instance: str) -> Database:
        """A database :meth:`prepare` seeded in an earlier run, its claims given back (so each run
        starts from the same queue) and vacuumed as after seeding."""
        from sqlalchemy import text

        from backend.auth import hash_password

        database = cls(saved["name"], saved["url"], instance, saved["cases"], saved["waiting"])
        database.env = {**saved["env"], "NRM_INSTANCE_PATH": instance}
        database.tokens = saved["tokens"]
        database.give_back_claims()
        with database.connection() as connection:
            connection.execute(text("UPDATE users SET password_hash = :hash WHERE email LIKE 'bench-%'"),
                               {"hash": hash_password(database.password)})  # this run's password
            connection.execute(text("VACUUM ANALYZE cases"))
        return database


@dataclass
class Context:
    """The run's settings and databases, handed to every row function."""

    cases: int
    sqlite_cases: int
    seconds: float
    databases: list[Database] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)
    """What the run shows beside the table (a title, then preformatted text): claim-next's plan."""

    def database(self, name: str) -> Database | None:
        return next((d for d in self.databases if d.name == name), None)

    def command(self, group: str) -> str:
        """The command that measures one group of rows alone (``make bench`` runs them all)."""
        return f".venv/bin/python -m bench.run --cases {self.cases} --only {group}"
