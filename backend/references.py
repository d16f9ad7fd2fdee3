"""Reference numbers a sender can quote: NRM-2026-000123 for referrals, DTN-2026-000007 for DtN.

Numbers run per series and calendar year without gaps in committed data. The counter row is bumped
with ``UPDATE ... RETURNING`` inside the caller's transaction: PostgreSQL row-locks it until commit,
and SQLite's write transaction serialises all writers, so two submissions never get one number.
If the caller rolls back, the number is given back with everything else.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.calendar import UK_TIME
from backend.db import utcnow
from backend.models import SERIES, ReferenceCounter

REFERENCE_PATTERN = re.compile(r"^(NRM|DTN)-(\d{4})-(\d{6,})$")


def format_reference(series: str, year: int, number: int) -> str:
    return f"{series}-{year:04d}-{number:06d}"


def is_reference(text: str) -> bool:
    """True for a well-formed reference (any series, year and number)."""
    return bool(REFERENCE_PATTERN.match(text.strip().upper()))


def allocate(session: Session, series: str, at: datetime | None = None) -> str:
    """Take the next reference of ``series`` for the UK year of ``at`` (default now)."""
    if series not in SERIES:
        raise ValueError(f"unknown reference series {series!r}")
    year = (at or utcnow()).astimezone(UK_TIME).year
    number = _bump(session, series, year)
    if number is None:
        _create_counter(session, series, year)
        number = _bump(session, series, year)
        if number is None:  # pragma: no cover - the row was just created in this transaction
            raise RuntimeError("reference counter vanished")
    return format_reference(series, year, number)


def _bump(session: Session, series: str, year: int) -> int | None:
    statement = (update(ReferenceCounter)
                 .where(ReferenceCounter.series == series, ReferenceCounter.year == year)
                 .values(last=ReferenceCounter.last + 1)
                 .returning(ReferenceCounter.last)
                 .execution_options(synchronize_session=False))
    return session.execute(statement).scalar_one_or_none()


def _create_counter(session: Session, series: str, year: int) -> None:
    """Insert the year's counter at 0, tolerating a concurrent transaction that inserts it too."""
    dialect = session.get_bind().dialect.name
    values = {"series": series, "year": year, "last": 0}
    if dialect == "postgresql":
        session.execute(postgresql.insert(ReferenceCounter).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(ReferenceCounter).values(values).on_conflict_do_nothing())
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(**values))
        except IntegrityError:
            pass
