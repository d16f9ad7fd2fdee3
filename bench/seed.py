"""Realistic cases in bulk: PostgreSQL by COPY, SQLite by executemany, never through the ORM.

Each case has the columns ``backend.intake.submit`` writes (with the statistics columns and the
queues' place), plus the casework columns its status
implies (clocks, decisions, panel reviews). Payloads are real ones (the dialogue walked to CONFIRM,
``tests.flows.conversation``) varied over the answers the statistics count; each distinct shape is
encrypted once with the bench's field key and its ciphertext reused, so seeding a million cases
costs no million Fernet encryptions. About 11% of cases wait for a decision, as in the live queue.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, create_engine, insert, text

from backend import queue_order
from backend.config import normalise_database_url
from backend.crypto import EncryptedJSON, FieldCipher
from backend.models import FR_LOCATIONS, Case, Decision, ReferenceCounter, Review, User
from backend.priority import is_priority
from backend.references import format_reference
from backend.statistics import derived

ORGANISATIONS = ("The Salvation Army", "Barnardo's", "Metropolitan Police Service")
NATIONALITIES = ("Albanian", "Vietnamese", "British", "Eritrean", "Sudanese", "Romanian")
STATUS_SHARES = (
    ("dtn_recorded", 15), ("awaiting_rg", 8), ("awaiting_cg", 3), ("recovery", 10), ("cg_positive", 45),
    ("rg_review", 1), ("cg_review", 1), ("rg_negative", 8), ("cg_negative", 5), ("withdrawn", 2),
    ("suspended", 2),
)
"""Per cent of cases in each status: awaiting_rg + awaiting_cg (recovery over) = 11% waiting."""
WAITING = ("awaiting_rg", "awaiting_cg")
RG_DECIDED = ("recovery", "awaiting_cg", "cg_positive", "cg_review", "cg_negative", "rg_review", "rg_negative")
CASEWORKERS = 20
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Shape:
    """One distinct payload: its columns and its ciphertext."""

    route: str
    age_route: str
    fr_location: str
    organisation: str
    schema_version: str
    priority: bool
    ciphertext: str
    statistics: dict[str, Any]
    """The columns ``backend.statistics.derived`` sets at intake."""


def payload_shapes(cipher: FieldCipher) -> list[Shape]:
    """Real payloads on each route, varied over nation, organisation, nationality, gender and
    exploitation type (what the statistics tally), each encrypted once."""
    from tests.flows.conversation import walked_payload  # the answer sets a responder types
    from flows.referral_questions import QUESTIONS

    choices = {q.id: [c.value for c in q.choices] for q in QUESTIONS if q.id in ("pv-gender", "types-of-exploitation")}
    shapes = []
    for walk in ("adult", "child", "dtn"):
        base = walked_payload(walk)
        for location, organisation, nationality, gender, kind in itertools.product(
                FR_LOCATIONS, ORGANISATIONS, NATIONALITIES,
                choices["pv-gender"][:2], choices["types-of-exploitation"][:4]):
            payload = copy.deepcopy(base)
            payload["answers"].update({"fr-location": location, "user-organisation": organisation,
                                       "pv-nationality": nationality, "pv-gender": gender,
                                       "types-of-exploitation": [kind]})
            shapes.append(Shape(payload["route"], payload["age_route"], location, organisation,
                                str(payload["schema_version"]),
                                is_priority(payload["route"], payload["age_route"], payload),
                                cipher.encrypt_json(payload), derived.columns(payload, organisation)))
    return shapes


def _statuses(rng: random.Random, count: int) -> list[str]:
    names = [name for name, _ in STATUS_SHARES]
    return rng.choices(names, weights=[share for _, share in STATUS_SHARES], k=count)


def case_rows(count: int, cipher: FieldCipher, caseworker_ids: list[int], now: datetime, seed: int = 14,
              chunk: int = 50_000) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """``count`` case rows (ids 1..count, references in order of submission) with their decisions
    and reviews, as column dicts, ``chunk`` cases at a time (a million dicts at once would not fit)."""
    rng = random.Random(seed)
    shapes = payload_shapes(cipher)
    by_route = {route: [s for s in shapes if s.route == route] for route in ("nrm", "dtn")}
    reasons = cipher.encrypt_json("The account is consistent and detailed.")
    drafted = []
    for status in _statuses(rng, count):
        recent = status in WAITING or status in ("recovery", "rg_review", "cg_review", "suspended")
        age = rng.uniform(0, (60 if recent else 3 * 365) * 86400) + (40 * 86400 if status == "awaiting_cg" else 0)
        drafted.append((now.timestamp() - age, status))
    drafted.sort()
    numbers: dict[tuple[str, int], int] = {}
    decision_ids = itertools.count(1)
    review_ids = itertools.count(1)
    for start in range(0, count, chunk):
        rows: dict[str, list[dict[str, Any]]] = {"cases": [], "decisions": [], "reviews": []}
        for case_id, (stamp, status) in enumerate(drafted[start:start + chunk], start=start + 1):
            submitted_at = datetime.fromtimestamp(stamp, timezone.utc)
            shape = rng.choice(by_route["dtn" if status == "dtn_recorded" else "nrm"])
            rows["cases"].append(_case(case_id, submitted_at, status, shape, numbers, rng, now.date()))
            decided_at = rows["cases"][-1]["status_changed_at"]
            decider = rng.choice(caseworker_ids)
            decision_id = None
            for stage, outcome, at in _decisions(status, decided_at):
                decision_id = next(decision_ids)
                rows["decisions"].append({"id": decision_id, "case_id": case_id, "stage": stage, "outcome": outcome,
                                          "decided_by_id": decider, "decided_at": at, "reasons": reasons})
            if status in ("rg_negative", "cg_negative"):
                rows["reviews"].append({"id": next(review_ids), "case_id": case_id, "decision_id": decision_id,
                                        "outcome": "upheld", "reviewer_id": rng.choice(
                                            [i for i in caseworker_ids if i != decider]),
                                        "reviewed_at": decided_at + 55 * DAY, "reasons": reasons})
        yield rows


def _case(case_id: int, submitted_at: datetime, status: str, shape: Shape, numbers: dict[tuple[str, int], int],
          rng: random.Random, today: date) -> dict[str, Any]:
    """The row ``backend.intake.submit`` writes, then what casework to ``status`` would have set."""
    series = "NRM" if shape.route == "nrm" else "DTN"
    key = (series, submitted_at.year)
    numbers[key] = numbers.get(key, 0) + 1
    decided_at = submitted_at + timedelta(days=rng.randint(2, 9))
    row = {
        "id": case_id, "reference": format_reference(series, submitted_at.year, numbers[key]),
        "series": series, "conversation_id": None, "payload": shape.ciphertext,
        "schema_version": shape.schema_version, "route": shape.route, "age_route": shape.age_route,
        "fr_location": shape.fr_location, "organisation": shape.organisation,
        "submitted_by": f"user:{rng.randint(1, 500)}" if rng.random() < 0.5 else f"responder:{rng.randint(1, 2000)}",
        "status": status, "priority": shape.priority, "submitted_at": submitted_at,
        "rg_due_date": submitted_at.date() + 7 * DAY if shape.route == "nrm" else None,
        "status_changed_at": decided_at if status in RG_DECIDED else submitted_at,
        "cg_not_before": None, "suspended_from": "awaiting_rg" if status == "suspended" else None,
        "cg_due_date": None, "review_due_date": None,
        "suspended_on": today - 3 * DAY if status == "suspended" else None,
        **shape.statistics,
    }
    if status in RG_DECIDED:
        row["cg_not_before"] = (today - DAY if status == "awaiting_cg" else today + 20 * DAY if status == "recovery"
                                else decided_at.date() + 30 * DAY)
        row["cg_due_date"] = row["cg_not_before"] + 28 * DAY
    if status in ("rg_review", "cg_review"):
        row["review_due_date"] = today + 10 * DAY
    return row


def _decisions(status: str, rg_at: datetime) -> list[tuple[str, str, datetime]]:
    """(stage, outcome, when) of the decisions a case in ``status`` has had."""
    made = []
    if status in RG_DECIDED:
        made.append(("rg", "negative" if status in ("rg_review", "rg_negative") else "positive", rg_at))
    if status in ("cg_positive", "cg_review", "cg_negative"):
        made.append(("cg", "positive" if status == "cg_positive" else "negative", rg_at + 45 * DAY))
    return made


def counters(last: dict[tuple[str, int], int], cases: list[dict[str, Any]]) -> None:
    """Track the last number of each series and year, so a new referral gets the next one."""
    for row in cases:
        series, year, number = row["reference"].split("-")
        last[(series, int(year))] = max(last.get((series, int(year)), 0), int(number))


def _caseworkers(connection: Any) -> list[int]:
    """The seeded deciders and reviewers (no password: nobody signs in as them)."""
    users = [{"email": f"seeded-caseworker-{i}@example.org", "role": "caseworker", "password_hash": "x",
              "organisation": "Single Competent Authority", "active": True,
              "created_at": datetime.now(timezone.utc)} for i in range(CASEWORKERS)]
    connection.execute(insert(User.__table__), users)
    return list(connection.execute(text("SELECT id FROM users WHERE email LIKE 'seeded-caseworker-%'")).scalars())


def _raw(table: Table) -> Table:
    """``table`` with its encrypted columns as plain text, to insert ciphertext as it is."""
    columns = [Column(c.name, Text if isinstance(c.type, EncryptedJSON) else c.type) for c in table.columns]
    return Table(table.name, MetaData(), *columns)


TABLES: tuple[Table, ...] = (Case.__table__, Decision.__table__, Review.__table__)


def seed(database_url: str, count: int, cipher: FieldCipher) -> dict[str, int]:
    """Insert ``count`` cases (and their history) into the migrated, empty database at ``database_url``."""
    engine = create_engine(normalise_database_url(database_url), hide_parameters=True)
    postgres = engine.dialect.name == "postgresql"
    seeded = {"cases": 0, "waiting": 0}
    last: dict[tuple[str, int], int] = {}
    try:
        with engine.begin() as connection:
            caseworkers = _caseworkers(connection)
        with engine.begin() as connection:
            for rows in case_rows(count, cipher, caseworkers, datetime.now(timezone.utc)):
                for table in TABLES:
                    if rows[table.name]:
                        (_copy if postgres else _executemany)(connection, table, rows[table.name])
                counters(last, rows["cases"])
                seeded["cases"] += len(rows["cases"])
                seeded["waiting"] += sum(row["status"] in WAITING for row in rows["cases"])
            if postgres:
                for table in TABLES:
                    connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                               f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)")
            connection.exec_driver_sql(queue_order.BACKFILL_SQL)  # the queues' place, as intake keeps it
            connection.execute(insert(ReferenceCounter.__table__),
                               [{"series": s, "year": y, "last": n} for (s, y), n in sorted(last.items())])
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # What autovacuum does to a live table: statistics for the planner and, on PostgreSQL,
            # the visibility map that lets counts be answered from the indexes alone.
            connection.exec_driver_sql("VACUUM ANALYZE" if postgres else "ANALYZE")
    finally:
        engine.dispose()
    return seeded


def _executemany(connection: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    connection.execute(insert(_raw(table)), rows)


def _copy(connection: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    """psycopg COPY FROM STDIN of the columns the rows give (a column added later keeps its default)."""
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy_in:
        for row in rows:
            copy_in.write_row([row[c] for c in columns])
