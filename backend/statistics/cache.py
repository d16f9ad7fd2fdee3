"""Each ended quarter's figures, kept in ``statistics_quarters`` so a page over a million cases reads
a few rows instead of counting the cases again (issue 11: every table within 1 s).

Why it may be kept: statistics are published for ended quarters only, and an ended quarter's
figures (``counting.Figures``) change only when one of its rows is deleted (erasure, retention) or
changed, or a row dated in it arrives late. Every such write goes through a session flush, and
:func:`_forget_touched` (a ``before_flush`` hook on every session) deletes the kept figures of each
quarter it touches in the same transaction: a deleted case's submission quarter and the quarters of
its decisions, reviews and notes; a changed statistics column; a new case, decision, review or note
dated before the current quarter. (A bulk SQL ``DELETE``/``UPDATE`` of those tables, which no code
does, would have to call :func:`forget` itself.)

When it is filled: on first use (PostgreSQL; in a transaction of its own, so a read-only request
can fill it) and by the ``statistics`` job of ``nrm jobs run`` (:func:`fill_latest`), which counts the
quarters the default page shows as soon as a quarter has ended, so nobody waits for the count. A
quarter is kept only from :data:`SETTLED` after its end: a transaction that stamped a row just
before midnight has committed by then.

Races: filling and forgetting take the same lock (PostgreSQL advisory transaction lock; SQLite
write transactions are serialised anyway), and a filler counts only after taking it, so it either
sees a deletion or a late row, or has stored its figures before the deleting transaction deletes
them. A first-use filler never waits for the lock: if a transaction holds it, the figures are
counted in the caller's transaction and not kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from flask import Flask
from sqlalchemy import Engine, delete, event, func, inspect, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend import db
from backend.calendar import uk_date
from backend.models import STATISTICS_COLUMNS, Case, CaseNote, Decision, Review, StatisticsQuarter
from backend.statistics.counting import Figures, count_quarters
from backend.statistics.periods import SHOWN_FOR_A_QUARTER, Quarter, latest

SETTLED = timedelta(minutes=10)
"""How long after a quarter's end its figures may be kept: longer than any transaction that stamps a
row (a decision's time is taken when it is made, and committed within seconds)."""
LOCK = 0x4E524D11
"""The advisory lock filling and forgetting share (PostgreSQL): "NRM" and issue 11."""
TRACKED: dict[type, tuple[str, tuple[str, ...]]] = {
    Case: ("submitted_at", ("route", *STATISTICS_COLUMNS)),
    Decision: ("decided_at", ("stage", "outcome", "case_id")),
    Review: ("reviewed_at", ("outcome",)),
    CaseNote: ("at", ("kind", "requested_by")),
}
"""Each row counted in the figures: the time that puts it in a quarter, and what else is counted."""


def settled(quarter: Quarter, now: datetime) -> bool:
    return quarter.next().starts_at() + SETTLED <= now


def quarter_of(at: datetime) -> Quarter:
    return Quarter.containing(uk_date(at))


def figures(session: Session, quarters: Sequence[Quarter]) -> list[Figures]:
    """The figures of ``quarters``, kept ones read, the others counted (and kept, when settled, on
    PostgreSQL)."""
    now = db.utcnow()
    found = _read(session, [quarter for quarter in quarters if settled(quarter, now)])
    to_keep = [quarter for quarter in quarters if quarter.index not in found and settled(quarter, now)]
    if to_keep and session.get_bind().dialect.name == "postgresql":
        found.update(fill(_engine(session), to_keep, wait=False))
    missing = [quarter for quarter in quarters if quarter.index not in found]
    if missing:
        found.update(count_quarters(session, missing))
    return [found[quarter.index] for quarter in quarters]


def _read(session: Session, quarters: Sequence[Quarter]) -> dict[int, Figures]:
    if not quarters:
        return {}
    rows = session.execute(select(StatisticsQuarter.quarter, StatisticsQuarter.figures)
                           .where(StatisticsQuarter.quarter.in_([quarter.index for quarter in quarters])))
    return {quarter: kept for quarter, kept in rows}


def _engine(session: Session) -> Engine:
    bind: Any = session.get_bind()
    return getattr(bind, "engine", bind)


def _lock(session: Session, wait: bool) -> bool:
    """Take the fill/forget lock until the transaction ends (PostgreSQL); False if busy and not ``wait``."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    take = func.pg_advisory_xact_lock if wait else func.pg_try_advisory_xact_lock
    return wait or bool(session.execute(select(take(LOCK))).scalar())


def fill(engine: Engine, quarters: Sequence[Quarter], wait: bool = True) -> dict[int, Figures]:
    """Count ``quarters`` (settled ones) in a transaction of their own and keep their figures; what
    was counted (nothing if the lock was busy and not ``wait``)."""
    with Session(engine) as session, session.begin():
        if not _lock(session, wait):
            return {}
        counted = count_quarters(session, quarters)
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(StatisticsQuarter).values(
            [{"quarter": index, "figures": kept, "computed_at": db.utcnow()} for index, kept in counted.items()])
            .on_conflict_do_nothing())
    return counted


def fill_latest(app: Flask) -> str:
    """The ``statistics`` job: keep the figures of the latest ended quarter and the four before it
    (what the default page shows), once settled."""
    now = db.utcnow()
    last = latest(uk_date(now))
    wanted = [quarter for quarter in (Quarter(last.index - back) for back in range(SHOWN_FOR_A_QUARTER))
              if settled(quarter, now)]
    database = db.get_db(app)
    with database.transaction(readonly=True) as session:
        wanted = [quarter for quarter in wanted if quarter.index not in _read(session, wanted)]
    if wanted:
        fill(database.engine, wanted)
    return f"statistics quarters counted and kept: {', '.join(q.code for q in wanted) or 'none needed'}"


def forget(session: Session, quarters: Iterable[Quarter]) -> None:
    """Drop the kept figures of ``quarters``, in the caller's transaction (see the module docs)."""
    indexes = sorted({quarter.index for quarter in quarters})
    if indexes:
        _lock(session, wait=True)
        session.execute(delete(StatisticsQuarter).where(StatisticsQuarter.quarter.in_(indexes)))


def _case_quarters(session: Session, case: Case) -> set[Quarter]:
    """The quarters a case is counted in: its submission's and its decisions', reviews' and notes'."""
    times = session.execute(union_all(select(Decision.decided_at).where(Decision.case_id == case.id),
                                      select(Review.reviewed_at).where(Review.case_id == case.id),
                                      select(CaseNote.at).where(CaseNote.case_id == case.id))).scalars()
    return {quarter_of(at) for at in (case.submitted_at, *times) if at is not None}


def _touched(session: Session, row: Any, change: str) -> set[Quarter]:
    """The quarters whose figures ``row`` changes: ``new``, ``deleted`` or ``dirty`` (maybe changed)."""
    when, counted = TRACKED[type(row)]
    if change == "new":
        at = getattr(row, when)
        return {quarter_of(at)} if at is not None else set()
    state = inspect(row)
    if change == "dirty" and not any(state.attrs[name].history.has_changes() for name in (when, *counted)):
        return set()
    history = state.attrs[when].history
    found = {quarter_of(at) for at in (*history.deleted, *history.unchanged, *history.added) if at is not None}
    if isinstance(row, Case) and row.id is not None:
        found |= _case_quarters(session, row)  # its decisions' days from referral count too
    return found


@event.listens_for(Session, "before_flush")
def _forget_touched(session: Session, _context: Any, _instances: Any) -> None:
    current = Quarter.containing(uk_date(db.utcnow()))
    quarters = {quarter for row in session.new if type(row) in TRACKED
                for quarter in _touched(session, row, "new") if quarter < current}
    for change, rows in (("deleted", session.deleted), ("dirty", session.dirty)):
        quarters |= {quarter for row in rows if type(row) in TRACKED for quarter in _touched(session, row, change)}
    if quarters:
        forget(session, quarters)
