"""Shared fixtures: a backend app on a real, migrated SQLite file in a temporary instance folder.

Every test gets its own database and generated keys (no mocks). Tests that need the whole product
can build ``bot.app`` the same way: pass ``INSTANCE_PATH``/``DATABASE_URL`` in the test config.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy.orm import Session

from backend import auth, db
from backend.app import create_app
from backend.cli import upgrade_database

pytest_plugins = ["tests.xdist_groups"]  # how pytest -n shares the tests out


HIGH_RATE_LIMITS = {key: "100000 per minute" for key in
                    ("SIGN_IN_RATE_LIMIT", "SIGN_IN_ACCOUNT_RATE_LIMIT", "CHAT_RATE_LIMIT",
                     "RESUME_RATE_LIMIT", "API_RATE_LIMIT")}
"""Tests are never throttled by accident; the rate-limit tests set low limits themselves."""


def backend_test_config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    """Config for an isolated app: instance folder and SQLite file under ``tmp_path``."""
    instance = tmp_path / "instance"
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'test.sqlite3'}",
        "NRM_ENV": "development",
        "JOBS_INTERVAL_SECONDS": 0,  # each `jobs run` runs every job; tests/backend/test_jobs.py sets its own
        **HIGH_RATE_LIMITS,
        **extra,
    }


PRODUCTION_PASSWORD_HASHER = auth._hasher
"""The hasher the product uses (argon2id at the library's default cost, about 0.25 s of CPU a hash);
tests/backend/test_auth.py checks its parameters and that sign-in upgrades weaker hashes to it."""
TEST_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
"""The same algorithm at its lowest cost: hundreds of tests create users and sign in, and at the
production cost hashing alone took minutes of the suite's CPU. Processes the tests start (``nrm
serve``, gunicorn) keep the production hasher."""


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", TEST_PASSWORD_HASHER)
        yield


@contextmanager
def shared_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[None]:
    """An exclusive lock shared by every process of this test run (the ``-n`` workers of
    pytest-xdist share the parent of their temporary folders), for work on files outside them."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


_migrated_template: list[Path] = []


def migrated_template() -> Path:
    """A SQLite file migrated to head by ``upgrade_database``, made once per process (a pytest-xdist
    worker is one) and removed when it exits; see :func:`migrate`."""
    if not _migrated_template:
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="nrm-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = create_app(backend_test_config(folder))
        upgrade_database(template)
        db.get_db(template).engine.dispose()
        _migrated_template.append(folder / "instance" / "test.sqlite3")
    return _migrated_template[0]


def migrate(app: Flask) -> None:
    """``upgrade_database(app)`` for a test's new database: an empty SQLite file gets a copy of
    :func:`migrated_template` (SQLite's backup API) instead of running every migration again,
    about 0.4 s of CPU a test; any other database is migrated. The copy has the same tables,
    indexes and rows (tests/test_suite_fixtures.py); tests/backend/test_migrations.py runs the
    migrations themselves."""
    import sqlite3
    from contextlib import closing

    engine = db.get_db(app).engine
    new = engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")
    if new:
        raw = engine.raw_connection()
        try:
            new = not raw.cursor().execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if new:
                with closing(sqlite3.connect(migrated_template())) as source:
                    source.backup(raw.dbapi_connection)
        finally:
            raw.close()
    if new:
        engine.dispose()  # pooled connections start afresh on the copied schema
    else:
        upgrade_database(app)  # PostgreSQL, or not new: the migrations say what is still to do


@pytest.fixture(scope="session")
def compiled_catalogues(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The app loads compiled catalogues (.mo files: built by ``make translations``, never
    committed). Build them when one is missing or older than its .po, so that tests of the
    channels and pages in other languages see the current translations."""
    from backend import i18n
    from bot import i18n as bot_i18n
    from bot import translate

    def stale(locale: str) -> bool:
        po = translate.po_path(locale, translate.domain_of(locale))
        mo = po.with_suffix(".mo")
        return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime

    with shared_lock(tmp_path_factory, "catalogues"):  # parallel workers: one compiles, the others wait
        if any(stale(locale) for locale in (*translate.LOCALES, *translate.CONSENT_LOCALES)):
            translate.compile_catalogues()
            i18n.translator.cache_clear()
            bot_i18n.catalogue.cache_clear()


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The casework app (``backend.app``) with its schema migrated to head."""
    for key in ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "AUDIT_KEY", "NRM_ENV", "TWILIO_AUTH_TOKEN",
                "PUBLIC_BASE_URL", "NRM_INSTANCE_PATH"):
        monkeypatch.delenv(key, raising=False)  # the developer's shell must not leak into tests
    application = create_app(backend_test_config(tmp_path))
    migrate(application)
    yield application
    db.get_db(application).engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the app's database inside an app context; rolled back and closed afterwards."""
    with app.app_context():
        session = db.get_db(app).new_session()
        try:
            yield session
        finally:
            session.rollback()
            session.close()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def cli_runner(app: Flask):
    return app.test_cli_runner()


TINY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema_version", "route", "age_route", "answers"],
    "properties": {
        "schema_version": {"const": "test-1"},
        "route": {"enum": ["nrm", "dtn"]},
        "age_route": {"enum": ["adult", "child", "unknown"]},
        "language": {"type": "string"},
        "answers": {
            "type": "object",
            "required": ["fr-location", "user-organisation"],
            "properties": {
                "fr-location": {"enum": ["england", "wales", "scotland", "northern-ireland"]},
                "user-organisation": {"type": "string", "minLength": 1},
                "pv-name-first-name": {"type": "string", "maxLength": 100},
                "pv-name-last-name": {"type": "string", "maxLength": 100},
                "pv-dob": {"type": "string", "format": "date"},
            },
            "additionalProperties": False,
        },
    },
}
"""A stand-in for flows.schema when a test needs known personal fields (e.g. encryption at rest)."""


def tiny_payload(route: str = "nrm", age_route: str = "adult", fr_location: str = "england",
                 **answers: Any) -> dict[str, Any]:
    """A payload valid against :data:`TINY_SCHEMA`."""
    return {
        "schema_version": "test-1",
        "route": route,
        "age_route": age_route,
        "language": "en",
        "answers": {
            "fr-location": fr_location,
            "user-organisation": "The Salvation Army",
            "pv-name-first-name": "Zbigniew",
            "pv-name-last-name": "Quellmalz-Farrington",
            "pv-dob": "1990-02-03",
            **answers,
        },
    }


@pytest.fixture
def referral_payload():
    """``make(route) -> (payload, None)``: a real payload, produced by walking the dialogue to
    CONFIRM on that route ("nrm" or "dtn"); None means "validate against flows' own schema"."""
    from tests.flows.conversation import walked_payload

    def make(route: str = "nrm") -> tuple[dict[str, Any], None]:
        return walked_payload("adult" if route == "nrm" else route), None

    return make


# --- PostgreSQL-marked tests ------------------------------------------------------------------------

_pg_problem: list[str | None] = []


def postgres_unavailable() -> str | None:
    """Why the ``postgres`` tests cannot run here (None when DATABASE_URL_PG answers); checked once."""
    if not _pg_problem:
        import os

        from sqlalchemy import create_engine, text

        from backend.config import normalise_database_url

        url = os.environ.get("DATABASE_URL_PG")
        problem = None if url else "DATABASE_URL_PG is not set"
        if url:
            engine = create_engine(normalise_database_url(url), connect_args={"connect_timeout": 5},
                                   hide_parameters=True)
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001 - any failure means "unavailable"
                problem = f"PostgreSQL at DATABASE_URL_PG is unreachable ({type(exc).__name__})"
            finally:
                engine.dispose()
        _pg_problem.append(problem)
    return _pg_problem[0]


@contextmanager
def fresh_postgres_url() -> Iterator[str]:
    """The URL of a new, empty schema of the ``DATABASE_URL_PG`` database, dropped afterwards.

    A schema rather than a database, so the test role needs no CREATEDB: the URL sets
    ``search_path`` to it (``options=-csearch_path=...``), and ``application_name`` to the schema's
    name, so a test can find its own connections in ``pg_stat_activity``. Give the URL to an app
    as ``DATABASE_URL`` and migrate it (``backend.cli.upgrade_database``); dispose of the app's
    engine before the block ends. Only for ``@pytest.mark.postgres`` tests (which skip, or fail
    in CI, when the server is unavailable).
    """
    import os
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from backend.config import normalise_database_url

    base = make_url(normalise_database_url(os.environ["DATABASE_URL_PG"]))
    schema = f"nrm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = base.update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.postgres`` tests skip locally without a server, but fail in CI (CI=true)."""
    if item.get_closest_marker("postgres") is None:
        return
    problem = postgres_unavailable()
    if problem is None:
        return
    import os

    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{problem}: CI must run the PostgreSQL tests (.ci/run starts a server via "
                    "scripts/system-deps.sh and exports DATABASE_URL_PG)", pytrace=False)
    pytest.skip(problem)


_fuzz_figures: list[dict[str, Any]] = []
"""The schemathesis figures of each pytest-xdist worker, gathered by the controller."""


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker hands its schemathesis figures to the controller."""
    import sys

    fuzz = sys.modules.get("tests.test_api_fuzz")
    if fuzz is not None and hasattr(session.config, "workeroutput"):
        session.config.workeroutput["fuzz_figures"] = fuzz.figures()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    figures = getattr(node, "workeroutput", {}).get("fuzz_figures")
    if figures:
        _fuzz_figures.append(figures)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The schemathesis figures, when tests/test_api_fuzz.py ran in this session (in this process
    or in pytest-xdist workers)."""
    import sys

    fuzz = sys.modules.get("tests.test_api_fuzz")
    if fuzz is not None and not _fuzz_figures:
        _fuzz_figures.append(fuzz.figures())
    if _fuzz_figures:
        from tests.test_api_fuzz import merged, summary

        line = summary(merged(_fuzz_figures))
        if line:
            terminalreporter.write_line(line)
