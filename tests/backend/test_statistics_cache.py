"""The kept figures of ended quarters (backend.statistics.cache): a report read from them is the
report counted straight from the cases, on random data, on SQLite and PostgreSQL; an erasure, a
retention delete or a late row forgets the quarters it touches in its own transaction; only settled
quarters are kept; the job keeps what the default page shows; percentiles from day histograms are
PostgreSQL's ``percentile_cont``; and the statistics queries read their indexes on PostgreSQL.

Each test works in years of its own, so tests do not see each other's cases.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, event, select, text

from backend import db, retention
from backend.calendar import uk_date
from backend.lifecycle import SYSTEM
from backend.models import CaseNote, Decision, Review, StatisticsQuarter
from backend.statistics import as_json, build, cache, counting, derived, parse
from backend.statistics.periods import Quarter, latest
from tests.backend.casework_helpers import make_case, make_user, shared_app
from tests.conftest import fresh_postgres_url

TODAY = date(2026, 11, 29)  # 2026 Q3 is the latest ended quarter


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory) -> Iterator[Flask]:
    with shared_app(tmp_path_factory.mktemp("stats-cache")) as app:
        yield app


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory) -> Iterator[Flask]:
    with fresh_postgres_url() as url, shared_app(tmp_path_factory.mktemp("stats-cache-pg"), DATABASE_URL=url) as app:
        yield app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request) -> Flask:
    return request.getfixturevalue("sqlite_app" if request.param == "sqlite" else "pg_app")


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


def seed_random(session, year: int, rng: random.Random, cases: int = 90) -> None:
    """``cases`` cases submitted in ``year`` with random statistics columns, decisions (some in the
    next year), panel reviews and reconsiderations."""
    decider, reviewer = make_user(session, "caseworker"), make_user(session, "panel", "Panel")
    for _ in range(cases):
        route = rng.choice(("nrm", "nrm", "dtn"))
        submitted = at(date(year, rng.randint(1, 12), rng.randint(1, 28)), rng.randint(0, 23), rng.randint(0, 59))
        case = make_case(session, "recovery" if route == "nrm" else "dtn_recorded", route=route,
                         submitted_at=submitted, age_group=rng.choice(derived.AGE_GROUPS),
                         gender=rng.choice((*derived.GENDERS, None)),
                         nationality=rng.choice(("Albanian", "Vietnamese", "Eritrean", derived.OTHER, None)),
                         organisation_type=rng.choice(derived.ORGANISATION_TYPES),
                         police_force=rng.choice(("Kent Police", "West Midlands Police", derived.OTHER, None)),
                         local_authority=rng.choice(("Birmingham City Council", None)),
                         exploitation_groups=rng.randint(1, 63))
        if route == "dtn":
            continue
        for stage in ("rg", "cg")[:rng.randint(0, 2)]:
            decided = submitted + timedelta(days=rng.randint(0, 150), hours=rng.randint(0, 23))
            decision = Decision(case_id=case.id, stage=stage, outcome=rng.choice(("positive", "negative")),
                                decided_by_id=decider.id, decided_at=decided, reasons="Never counted.")
            session.add(decision)
            session.flush()
            if decision.outcome == "negative" and rng.random() < 0.5:
                session.add(Review(case_id=case.id, decision_id=decision.id, reviewer_id=reviewer.id,
                                   outcome=rng.choice(("upheld", "returned")), reasons="Never counted.",
                                   reviewed_at=decided + timedelta(days=rng.randint(1, 40))))
        if rng.random() < 0.2:
            session.add(CaseNote(case_id=case.id, kind="reconsideration", reasons="Never counted.",
                                 requested_by=rng.choice(("first_responder", "support_provider")),
                                 at=submitted + timedelta(days=rng.randint(1, 100))))
    session.flush()


def normalised(figures: list[counting.Figures]) -> list[dict[str, list[str]]]:
    return [{name: sorted(repr(list(row)) for row in rows) for name, rows in quarter.items()} for quarter in figures]


def kept(app: Flask) -> set[int]:
    with db.get_db(app).transaction(readonly=True) as session:
        return set(session.scalars(select(StatisticsQuarter.quarter)))


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block."""
    seen: list[str] = []
    engine = db.get_db(app).engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def keep(app: Flask, quarters) -> None:
    """Keep ``quarters``' figures as the ``statistics`` job does (first use keeps them on PostgreSQL)."""
    cache.fill(db.get_db(app).engine, list(quarters))


def report(app: Flask, code: str) -> dict[str, Any]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return as_json(build(session, parse(code, TODAY), TODAY))


def straight(app: Flask, quarters) -> list[counting.Figures]:
    with db.get_db(app).transaction(readonly=True) as session:
        found = counting.count_quarters(session, list(quarters))
    return [found[quarter.index] for quarter in quarters]


def fast(app: Flask, quarters) -> list[counting.Figures]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return cache.figures(session, list(quarters))


def test_kept_quarters_give_the_figures_counted_straight_from_the_cases(app: Flask) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        seed_random(session, 2017, random.Random(11))
    period = parse("2017", TODAY)
    counted = report(app, "2017")  # nothing kept yet: counted from the cases
    keep(app, period.quarters)
    assert {quarter.index for quarter in period.quarters} <= kept(app)
    with statements(app) as seen:
        assert report(app, "2017") == counted
    assert not [statement for statement in seen if "FROM cases" in statement], "kept quarters recounted the cases"
    assert normalised(fast(app, period.quarters)) == normalised(straight(app, period.quarters))
    assert any(row for quarter in straight(app, period.quarters) for row in quarter["decisions"])


@pytest.mark.postgres
def test_the_first_report_keeps_its_ended_quarters_on_postgres(pg_app: Flask) -> None:
    with pg_app.app_context(), db.get_db(pg_app).transaction() as session:
        seed_random(session, 2016, random.Random(16), cases=30)
    first = report(pg_app, "12m-2016Q4")
    assert {quarter.index for quarter in parse("2016", TODAY).quarters} <= kept(pg_app)
    assert report(pg_app, "12m-2016Q4") == first


def test_an_erasure_forgets_the_quarters_of_the_case_in_its_own_transaction(app: Flask) -> None:
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        seed_random(session, 2015, random.Random(15))
        decider = make_user(session, "caseworker")
        case = make_case(session, "recovery", submitted_at=at(date(2015, 2, 3)))  # Q1, decided in Q2
        session.add(Decision(case_id=case.id, stage="rg", outcome="positive", decided_by_id=decider.id,
                             decided_at=at(date(2015, 5, 6)), reasons="r"))
        reference = case.reference
    quarters = parse("2015", TODAY).quarters
    keep(app, quarters)
    touched = {Quarter.of(2015, 1).index, Quarter.of(2015, 2).index}

    class Undo(Exception):
        pass

    with pytest.raises(Undo), app.app_context(), database.transaction() as session:
        retention.erase(session, reference, SYSTEM)
        left = set(session.scalars(select(StatisticsQuarter.quarter)))
        assert not touched & left and {Quarter.of(2015, 3).index, Quarter.of(2015, 4).index} <= left
        raise Undo  # the erasure rolls back, and the forgetting with it
    assert touched <= kept(app)
    with app.app_context(), database.transaction() as session:
        retention.erase(session, reference, SYSTEM)
    assert not touched & kept(app)
    assert normalised(fast(app, quarters)) == normalised(straight(app, quarters))


def test_retention_deletes_forget_the_kept_quarters_and_the_figures_follow(app: Flask) -> None:
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        seed_random(session, 2010, random.Random(14), cases=40)
        for day in (3, 4):  # closed long ago: past any retention period
            make_case(session, "withdrawn", submitted_at=at(date(2010, 8, day)), status_changed_at=at(date(2010, 9, 1)))
    quarters = parse("2010", TODAY).quarters
    keep(app, quarters)
    before = straight(app, quarters)
    with app.app_context(), database.transaction() as session:
        deleted = retention.apply_retention(session, days=3650, now=at(date(2020, 9, 2)))
    assert len(deleted) >= 2  # the two withdrawn and the DtN reports recorded before 5 September 2010
    assert Quarter.of(2010, 3).index not in kept(app)
    after = straight(app, quarters)
    assert normalised(after) != normalised(before)
    assert normalised(fast(app, quarters)) == normalised(after)


def test_a_late_row_dated_in_a_kept_quarter_forgets_it(app: Flask) -> None:
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        seed_random(session, 2013, random.Random(13), cases=20)
        case = make_case(session, "recovery", submitted_at=at(date(2013, 1, 9)))
    quarters = parse("2013", TODAY).quarters
    keep(app, quarters)
    with app.app_context(), database.transaction() as session:
        session.add(Decision(case_id=case.id, stage="rg", outcome="positive", reasons="r",
                             decided_at=at(date(2013, 7, 1)), decided_by_id=make_user(session, "caseworker").id))
    assert Quarter.of(2013, 3).index not in kept(app) and Quarter.of(2013, 1).index in kept(app)
    assert normalised(fast(app, quarters)) == normalised(straight(app, quarters))


def test_a_changed_statistics_column_forgets_its_quarter(app: Flask) -> None:
    database = db.get_db(app)
    with app.app_context(), database.transaction() as session:
        case = make_case(session, submitted_at=at(date(2012, 5, 5)), nationality="Albanian")
    quarters = parse("2012", TODAY).quarters
    keep(app, quarters)
    with app.app_context(), database.transaction() as session:
        session.get(type(case), case.id).nationality = "Eritrean"
    assert Quarter.of(2012, 2).index not in kept(app)
    assert normalised(fast(app, quarters)) == normalised(straight(app, quarters))


def test_a_quarter_is_kept_only_once_it_has_settled(sqlite_app: Flask) -> None:
    now = db.utcnow()
    current = Quarter.containing(now.date())
    assert not cache.settled(current, now)
    ended = Quarter(current.index).starts_at()
    assert not cache.settled(Quarter(current.index - 1), ended + cache.SETTLED - timedelta(seconds=1))
    assert cache.settled(Quarter(current.index - 1), ended + cache.SETTLED)


def test_the_statistics_job_keeps_the_quarters_the_default_page_shows(sqlite_app: Flask) -> None:
    with sqlite_app.app_context(), db.get_db(sqlite_app).transaction() as session:
        session.execute(delete(StatisticsQuarter))
    line = cache.fill_latest(sqlite_app)
    now = db.utcnow()
    last = latest(uk_date(now))
    shown = [Quarter(last.index - back) for back in range(5)]
    assert {quarter.index for quarter in shown if cache.settled(quarter, now)} <= kept(sqlite_app)
    assert last.code in line or not cache.settled(last, now)
    assert "none needed" in cache.fill_latest(sqlite_app)
    from backend.casework_cli import CASEWORK_JOBS

    assert CASEWORK_JOBS["statistics"] is cache.fill_latest


@pytest.mark.postgres
def test_percentiles_from_day_histograms_equal_postgres_percentile_cont(pg_app: Flask) -> None:
    rng = random.Random(90)
    with db.get_db(pg_app).transaction(readonly=True) as session:
        for size in (1, 2, 3, 5, 10, 37, 200):
            values = [rng.choice((0, 1, 2, 3, 7, 30, 45, 90, 91, 365)) for _ in range(size)]
            histogram: dict[int, int] = {}
            for value in values:
                histogram[value] = histogram.get(value, 0) + 1
            for fraction in (0.5, 0.9, 0.25, 0.0, 1.0):
                expected = session.execute(text("SELECT percentile_cont(:f) WITHIN GROUP (ORDER BY v) "
                                                "FROM unnest(CAST(:values AS int[])) AS v"),
                                           {"f": fraction, "values": values}).scalar_one()
                assert counting.histogram_percentile(histogram, fraction) == pytest.approx(expected, abs=1e-9)


@pytest.mark.postgres
def test_statistics_queries_read_their_indexes_on_postgres(pg_app: Flask) -> None:
    """Each counting query, EXPLAINed with sequential and bitmap scans off (the test tables are too
    small for the planner to prefer an index otherwise), reads the index made for it."""
    database = db.get_db(pg_app)
    with pg_app.app_context(), database.transaction() as session:
        seed_random(session, 2011, random.Random(1), cases=10)
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    engine = database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        with database.transaction(readonly=True) as session:
            counting.count_quarters(session, parse("2011", TODAY).quarters)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(captured) == 6
    plans = []
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET enable_bitmapscan = off")
        for statement, parameters in captured:
            plans.append("\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)))
    cases, decisions, reviews, notes = plans[:3], plans[3], plans[4], plans[5]
    for plan in cases:
        assert "Index Only Scan using ix_cases_submitted_at_statistics on cases" in plan, plan
    assert "Index Only Scan using ix_decisions_decided_at_stage_outcome on decisions" in decisions, decisions
    assert "ix_reviews_reviewed_at_outcome" in reviews, reviews
    assert "ix_case_notes_kind_at" in notes, notes
