"""The decision queue, the review queue and caseworkers' claims (aggregate statistics are
``backend.statistics``).

Decision queue: NRM cases awaiting an RG decision, or a CG decision once the recovery period is
over; priority cases first (children and people whose age is not known, and urgent safety cases:
the person is still in the exploitative situation), then by due date (RG: ``RG_WORKING_DAYS`` after
submission or after re-entering the queue; CG: ``CG_WORKING_DAYS`` after the recovery period ends),
oldest first. A case past its due date is *overdue*; a case awaiting information (its decision
clock paused, ``backend.outbound.information``) is marked, and the days it waits do not count. A case the panel returned is marked, with the
panel's reasons, and is not offered to the caseworker whose decision was returned (unless
``RETURNED_TO_ANOTHER_CASEWORKER`` is off).

Claims: a caseworker claims a case (or the next one, atomically) before deciding it. A claim lasts
``CLAIM_MINUTES`` (default 60); an expired claim is free for anyone to take and is cleared by
``nrm jobs run``. On PostgreSQL "claim next" is ``SELECT ... FOR UPDATE SKIP LOCKED``, so
concurrent caseworkers each get a different case without waiting; on SQLite the write transaction
(``BEGIN IMMEDIATE``) serialises them.

Review queue: cases whose negative decision waits for an independent panel member (never the
decision maker, never from the referring organisation), due ``REVIEW_WORKING_DAYS`` after the
decision and overdue after that. A panel member may read only those cases and the ones they
reviewed (:func:`panel_may_read`).

Reading: every queue is read in its index's order (``backend.queue_order``), a page at a time
(:func:`decision_page`, :func:`review_page`: ``limit`` cases after an opaque ``after`` cursor, with
the caseworker's filters), and its counts come from the queue's own columns; no payload is
decrypted, only the panel's reasons of the returned cases shown.

Everything here works in the caller's transaction and commits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Mapping

from sqlalchemy import ColumnElement, Connection, and_, bindparam, exists, func, literal_column, not_, or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from backend import audit, auth, cursor_statements, queue_counts
from backend.calendar import uk_date
from backend.cursor_statements import sql_constant
from backend.db import utcnow
from backend.lifecycle import (AWAITING_CG, DECISION_STATUSES, REVIEW_STATUSES, STAGE_OF,
                               ClaimConflict, NotPermitted, Refused, claim_active, claim_minutes,
                               decided_by, lock_case, release_claim, returned_to,
                               returned_to_another_caseworker, reviewed_by, same_organisation, status_label)
from backend.models import ApiToken, Case, Decision, Review, User
from backend.casework.queue_sort import DEFAULT_SORT, SORTS, InvalidQuery, Sort, encode_cursor, sort_from
from backend.casework.queue_sort import after as after_cursor
from backend.queue_order import DECISION, DUE_COLUMN_OF, NO_DUE_DATE, ORDER_COLUMNS, REVIEW

PAGE_SIZE = 50
"""Cases per page of a queue when the caller does not say."""
MAX_PAGE_SIZE = 200
"""The most cases one page of a queue may hold."""


# --- queue entries ------------------------------------------------------------------------------

@dataclass
class QueueEntry:
    """One line of a queue: no personal data, only what is needed to pick and prioritise."""

    reference: str
    status: str
    status_label: str
    stage: str
    priority: bool
    due_date: date | None
    overdue: bool
    submitted_at: datetime
    age_route: str
    fr_location: str
    claimed: bool
    claimed_by_me: bool
    claim_expires_at: datetime | None
    returned: bool
    """The panel returned the last decision: it waits to be decided again."""
    returned_reasons: str | None
    """The panel's reasons for returning it."""
    returned_to_decider: bool
    """The viewer made the decision the panel returned, so it is not theirs to take."""
    awaiting_information: bool
    """The referrer was asked a question: the decision clock is paused until the answer."""

    def as_json(self) -> dict[str, Any]:
        """The entry as JSON (field by field: ``dataclasses.asdict`` deep-copies every value, a
        third of a queue page's time)."""
        data = {name: getattr(self, name) for name in _ENTRY_FIELDS}
        for key in ("due_date", "submitted_at", "claim_expires_at"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return data


_ENTRY_FIELDS = tuple(entry_field.name for entry_field in fields(QueueEntry))


@dataclass(frozen=True)
class QueueFilters:
    """What a caseworker narrows a queue to; None means either way."""

    stage: str | None = None
    """``rg`` or ``cg``."""
    priority: bool | None = None
    overdue: bool | None = None
    claimed: bool | None = None
    awaiting_information: bool | None = None
    reference: str | None = None
    """Exactly this reference."""
    sort: str = DEFAULT_SORT
    """The order of the page (``backend.casework.queue_sort.SORTS``)."""


@dataclass
class QueuePage:
    """One page of a queue in its order, and how many cases the whole (filtered) queue holds."""

    entries: list[QueueEntry]
    next_cursor: str | None
    """Opaque: pass it back as ``after`` for the next page; None on the last page."""
    count: int
    overdue: int


DUE_COLUMNS = {status: getattr(Case, column) for status, column in DUE_COLUMN_OF.items()}
"""The target date of each waiting status (a suspended case's clocks stand still: none is due)."""


def due_date(case: Case) -> date | None:
    """The target date of what the case waits for: an RG or CG decision, or the panel's review."""
    column = DUE_COLUMNS.get(case.status)
    return getattr(case, column.key) if column is not None else None


def awaiting_information(case: Case) -> bool:
    """Waiting for the referrer's answer to a question: its decision clock stands still."""
    return case.awaiting_information_since is not None and case.status in DECISION_STATUSES


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    """Past the target date of what it waits for (RG or CG decision, panel review), counting no
    day spent awaiting information: while it waits, only a date already past when asked is."""
    due = due_date(case)
    today = uk_date(now or utcnow())
    if awaiting_information(case):
        today = min(today, case.awaiting_information_since)
    return due is not None and due < today


def returned_reasons(case: Case) -> str | None:
    """The panel's reasons for returning the case, while it waits to be decided again."""
    if case.returned_at is None:
        return None
    returned = [review for review in case.reviews if review.outcome == "returned"]
    return returned[-1].reasons if returned else None


# --- the queues in index order ------------------------------------------------------------------

QUEUE_ORDER = tuple(getattr(Case, name) for name in ORDER_COLUMNS)


def in_queue(queue: str, now: datetime) -> list[ColumnElement[bool]]:
    """Membership of ``queue`` today (a CG case only once its recovery period is over)."""
    return _in_queue(queue, uk_date(now))


def _in_queue(queue: str, today: Any, inline: bool = False) -> list[ColumnElement[bool]]:
    """``inline``: the queue's name written into the SQL rather than bound, so that a prepared
    statement's generic plan knows it (see :func:`_next_unclaimed`)."""
    clauses: list[ColumnElement[bool]] = [Case.queue == (sql_constant(queue) if inline else queue)]
    if queue == DECISION:
        clauses.append(Case.queue_available_on <= today)  # AVAILABLE_NOW when it may be decided now
    return clauses


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(Case.claimed_by_id.is_(None), Case.claim_expires_at.is_(None), Case.claim_expires_at <= now)


def _filtered(filters: QueueFilters, now: datetime) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.stage is not None:
        clauses.append(Case.status.in_([s for s, stage in STAGE_OF.items()
                                        if stage == filters.stage and s in DECISION_STATUSES + REVIEW_STATUSES]))
    if filters.priority is not None:
        clauses.append(Case.queue_rank == (0 if filters.priority else 1))
    if filters.overdue is not None:
        clauses.append(overdue_clause(now) if filters.overdue else not_(overdue_clause(now)))
    if filters.claimed is not None:
        clauses.append(not_(_free(now)) if filters.claimed else _free(now))
    if filters.awaiting_information is not None:
        waiting = and_(Case.queue == DECISION, Case.awaiting_information_since.is_not(None))
        clauses.append(waiting if filters.awaiting_information else not_(waiting))
    if filters.reference is not None:
        clauses.append(Case.reference == filters.reference)
    return clauses


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
BOOLEAN_WORDS = (*_YES, *_NO)
"""What a yes/no filter of the query string may say."""


def _yes_no(args: Mapping[str, str], name: str) -> bool | None:
    value = (args.get(name) or "").strip().lower()
    if not value:
        return None
    if value not in BOOLEAN_WORDS:
        raise InvalidQuery(f'"{name}" must be one of {", ".join(BOOLEAN_WORDS)}')
    return value in _YES


def query_from(args: Mapping[str, str]) -> tuple[QueueFilters, str | None, int]:
    """The filters (``sort`` among them), ``after`` cursor and ``limit`` of a queue request (page or API)."""
    stage = (args.get("stage") or "").strip().lower() or None
    if stage is not None and stage not in ("rg", "cg"):
        raise InvalidQuery('"stage" must be rg or cg')
    reference = (args.get("reference") or "").strip().upper() or None
    limit_text = (args.get("limit") or "").strip()
    if limit_text and not limit_text.isdigit():
        raise InvalidQuery(f'"limit" must be a whole number from 1 to {MAX_PAGE_SIZE}')
    limit = int(limit_text) if limit_text else PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidQuery(f'"limit" must be a whole number from 1 to {MAX_PAGE_SIZE}')
    filters = QueueFilters(stage=stage, priority=_yes_no(args, "priority"), overdue=_yes_no(args, "overdue"),
                           claimed=_yes_no(args, "claimed"),
                           awaiting_information=_yes_no(args, "awaiting_information"), reference=reference,
                           sort=sort_from(args.get("sort")).name)
    return filters, (args.get("after") or None), limit


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The SQL form of :func:`is_overdue` for queued cases, on the index's due date."""
    return and_(Case.queue_due_date > NO_DUE_DATE, Case.queue_due_date < uk_date(now),
                or_(Case.awaiting_information_since.is_(None), Case.queue != DECISION,
                    Case.queue_due_date < Case.awaiting_information_since))


ENTRY_COLUMNS = (Case.id, Case.reference, Case.status, Case.priority, Case.submitted_at, Case.age_route,
                 Case.fr_location, Case.claimed_by_id, Case.claim_expires_at, Case.returned_at,
                 Case.returned_decider_id, Case.awaiting_information_since, *dict.fromkeys(DUE_COLUMNS.values()), *QUEUE_ORDER[:-1])
"""What a queue line shows and its place in the queue: rows, not ORM objects (a page of cases
loaded as objects cost more than the query)."""


def _page(session: Session, queue: str, clauses: list[ColumnElement[bool]], now: datetime,
          user: User | None, after: str | None, limit: int, count_key: Any, sort_name: str) -> QueuePage:
    """One page of ``queue`` in index order, and the counts of the (filtered) queue: both read
    the index's columns and the rows shown, never a payload; a large queue's counts may be a few
    seconds old (``backend.queue_counts``, for ``count_key``: what decides them besides now)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidQuery(f'"limit" must be a whole number from 1 to {MAX_PAGE_SIZE}')
    sort = SORTS[sort_name]
    cases = session.execute(page_query(queue, clauses, sort, after, limit)).all()
    more = len(cases) > limit
    cases = cases[:limit]
    count, overdue = queue_counts.counts(count_key, lambda: tuple(session.execute(count_query(clauses, now)).one()))
    reasons = _returned_reasons(session, [case.id for case in cases if case.returned_at is not None])
    return QueuePage([_entry(case, now, user, reasons.get(case.id)) for case in cases],
                     encode_cursor(queue, sort, cases[-1]) if more else None, count, overdue)


def count_query(clauses: list[ColumnElement[bool]], now: datetime) -> Any:
    """How many cases ``clauses`` select, and how many of them are overdue: read along
    ``ix_cases_queue_order``, so saying its condition as a page in the priority order does
    (:attr:`Sort.index_condition`; without it, along another queue index: twice the buffers)."""
    return (select(func.count(), func.count().filter(overdue_clause(now))).select_from(Case)
            .where(*clauses, *SORTS[DEFAULT_SORT].index_condition))


def page_query(queue: str, clauses: list[ColumnElement[bool]], sort: Sort, after: str | None, limit: int) -> Any:
    """The rows of one page (and one more, to know whether another follows) in ``sort``."""
    rows = select(*ENTRY_COLUMNS).where(*clauses, *sort.index_condition)
    if after is not None:
        rows = rows.where(after_cursor(queue, sort, after))
    return rows.order_by(*sort.order_by()).limit(limit + 1)


def _returned_reasons(session: Session, case_ids: list[int]) -> dict[int, str]:
    """The panel's latest "returned" reasons of these cases only (the rows shown)."""
    if not case_ids:
        return {}
    rows = session.execute(select(Review.case_id, Review.reasons).where(
        Review.case_id.in_(case_ids), Review.outcome == "returned").order_by(Review.id)).all()
    return {case_id: reasons for case_id, reasons in rows}


def _entry(case: Case, now: datetime, user: User | None, reasons: str | None) -> QueueEntry:
    active = claim_active(case, now)
    return QueueEntry(
        reference=case.reference, status=case.status, status_label=status_label(case.status),
        stage=STAGE_OF.get(case.status, ""), priority=bool(case.priority), due_date=due_date(case),
        overdue=is_overdue(case, now), submitted_at=case.submitted_at, age_route=case.age_route,
        fr_location=case.fr_location, claimed=active,
        claimed_by_me=active and user is not None and case.claimed_by_id == user.id,
        claim_expires_at=case.claim_expires_at if active else None,
        returned=case.returned_at is not None, returned_reasons=reasons if case.returned_at is not None else None,
        returned_to_decider=returned_to(case, user), awaiting_information=awaiting_information(case))


def _counted(filters: QueueFilters) -> QueueFilters:
    """What decides a queue's counts: the filters, whatever the order."""
    return replace(filters, sort=DEFAULT_SORT)


def decision_page(session: Session, now: datetime | None = None, user: User | None = None, *,
                  filters: QueueFilters = QueueFilters(), after: str | None = None,
                  limit: int = PAGE_SIZE) -> QueuePage:
    """A page of the decision queue in the order cases should be taken (claimed ones included,
    marked), read along ``ix_cases_queue_order``; no payload is read."""
    now = now or utcnow()
    clauses = in_queue(DECISION, now) + _filtered(filters, now)
    return _page(session, DECISION, clauses, now, user, after, limit, (DECISION, _counted(filters), uk_date(now)),
                 filters.sort)


def decision_queue(session: Session, now: datetime | None = None, user: User | None = None,
                   *, overdue_only: bool = False, limit: int = PAGE_SIZE) -> list[QueueEntry]:
    """The first ``limit`` cases of the decision queue (``overdue_only``: overdue ones)."""
    return decision_page(session, now, user, filters=QueueFilters(overdue=True if overdue_only else None),
                         limit=limit).entries


def review_page(session: Session, now: datetime | None = None, user: User | None = None, *,
                filters: QueueFilters = QueueFilters(), after: str | None = None,
                limit: int = PAGE_SIZE) -> QueuePage:
    """A page of the negative decisions waiting for the panel, priority first then due date then
    longest waiting.

    With ``user``, only the cases that user may review (not decided by them, not referred by their
    organisation: the organisations are matched as :func:`same_organisation` does, in SQL)."""
    now = now or utcnow()
    clauses = in_queue(REVIEW, now) + _filtered(filters, now)
    if user is not None:
        clauses.append(~exists().where(Decision.case_id == Case.id, Decision.decided_by_id == user.id))
        own = [name for name in session.scalars(select(Case.organisation).where(Case.queue == REVIEW).distinct())
               if same_organisation(user.organisation, name)]
        if own:
            clauses.append(Case.organisation.not_in(own))
    return _page(session, REVIEW, clauses, now, user, after, limit,
                 (REVIEW, _counted(filters), uk_date(now), user.id if user is not None else None), filters.sort)


def review_queue(session: Session, now: datetime | None = None, user: User | None = None,
                 *, limit: int = PAGE_SIZE) -> list[QueueEntry]:
    """The first ``limit`` cases of the review queue (see :func:`review_page`)."""
    return review_page(session, now, user, limit=limit).entries


def panel_may_read(session: Session, case: Case, user: User) -> bool:
    """Need to know: a panel member reads a case only while it waits in the review queue for a
    review they may give (not decided by them, not referred by their organisation), and any case
    they reviewed themselves; never other negative cases, even of their own organisation."""
    if reviewed_by(session, case, user):
        return True
    return (case.status in REVIEW_STATUSES and not decided_by(session, case, user)
            and not same_organisation(user.organisation, case.organisation))


# --- claims -------------------------------------------------------------------------------------

def _require_caseworker(user: User) -> None:
    if user is None or not user.active or user.role != "caseworker":
        raise NotPermitted("only a caseworker may claim cases")


def _take(session: Session, case: Case, user: User, now: datetime) -> Case:
    renewed = case.claimed_by_id == user.id and claim_active(case, now)
    case.claimed_by_id = user.id
    case.claimed_at = now
    case.claim_expires_at = now + timedelta(minutes=claim_minutes())
    audit.record(session, f"user:{user.id}", "case.claimed", case.reference,
                 {"expires_at": case.claim_expires_at.isoformat(), "renewed": renewed,
                  "stage": STAGE_OF.get(case.status)}, at=now)
    session.flush()
    return case


def claim(session: Session, reference: str, user: User, now: datetime | None = None) -> Case:
    """Claim case ``reference`` for ``user`` (or renew their own claim)."""
    now = now or utcnow()
    _require_caseworker(user)
    case = lock_case(session, reference)
    if case.route != "nrm" or case.status not in DECISION_STATUSES:
        raise Refused(f"case {reference} is not waiting for a decision "
                      f"(its status is {case.status}: {status_label(case.status)})")
    if case.status == AWAITING_CG and (case.cg_not_before is None or uk_date(now) < case.cg_not_before):
        raise Refused(f"case {reference} is in its recovery period until {case.cg_not_before}")
    if reviewed_by(session, case, user):
        raise NotPermitted("you reviewed this case as a panel member, so another caseworker must decide it")
    if returned_to(case, user):
        raise NotPermitted("the panel returned your decision on this case, so another caseworker must decide "
                           "it again")
    if claim_active(case, now) and case.claimed_by_id != user.id:
        raise ClaimConflict(f"case {reference} is claimed by another caseworker until "
                            f"{case.claim_expires_at:%H:%M} UTC")
    return _take(session, case, user, now)


@dataclass(frozen=True)
class Claimed:
    """The case claim-next took, as the caller shows it (no ORM object is loaded to claim it)."""

    id: int
    reference: str
    status: str
    claimed_by_id: int
    claimed_at: datetime
    claim_expires_at: datetime


PICKED = (Case.id, Case.reference, Case.status, Case.claimed_by_id, Case.claim_expires_at, *QUEUE_ORDER[:-1])
"""What claim-next reads of the case it picks: what it answers, and its place in the queue."""


def claim_next(session: Session, user: User, now: datetime | None = None) -> Claimed | None:
    """Atomically claim the first free case of the decision queue; None if there is none.

    Skips cases the user may not decide (ones they reviewed, and by default ones whose decision
    by them the panel returned). Concurrent callers never get the same case: PostgreSQL skips
    rows another transaction has locked, SQLite runs them in turn.

    Two statements and the commit: one picks and locks the first unclaimed case along
    ``ix_cases_queue_unclaimed`` (:func:`next_unclaimed`: one index range, no sort) and, in the
    same round trip, takes its audit chain's lock (without waiting) and reads the chain's head;
    the other writes the claim and its audit event together (``backend.audit.append``). Cases
    whose claim has lapsed (few: ``nrm jobs run`` clears them) are looked for only when the first
    statement says one exists; the earlier of the two in queue order is taken.
    """
    now = now or utcnow()
    _require_caseworker(user)
    session.flush()
    connection = session.connection()
    row = cursor_statements.first(connection, _claim_next_statement(_on_postgres(connection),
                                                                    returned_to_another_caseworker()),
                                  _claim_next_params(user.id, now))
    claimed = _claim_picked(connection, row, user.id, now)
    if claimed is not None:
        loaded = session.identity_map.get(identity_key(Case, claimed.id))
        if loaded is not None:  # a copy this session already holds is stale now
            session.expire(loaded, ["claimed_by_id", "claimed_at", "claim_expires_at"])
    return claimed


def claim_next_by_token(connection: Connection, secret: str, now: datetime | None = None) -> Claimed | None:
    """:func:`claim_next` for the caseworker whose live API token is ``secret``, the token checked
    (``backend.auth.live_token_holder``) in the statement that picks the case: one round trip
    instead of reading the token first, and its use recorded as ``backend.auth.token_user`` does.
    On a Core ``connection`` (the caller commits), not a session: no ORM object is read or written,
    and a session's transaction bookkeeping cost an API claim about 0.3 ms of CPU (issue 14).

    None when that statement finds nothing: the token is not a live caseworker's, or no unclaimed
    case waits for them. The caller then checks the token the ordinary way (401 or 403) and calls
    :func:`claim_next` (lapsed claims, or none at all); nothing has been written.
    """
    now = now or utcnow()
    row = cursor_statements.first(
        connection, _claim_next_statement(_on_postgres(connection), returned_to_another_caseworker(), by_token=True),
        {**_claim_next_params(None, now), "token_hash": auth.token_hash(secret)})
    if row is None:
        return None
    auth.record_use(connection, row.token_id, row.token_last_used_at, now)
    return _claim_picked(connection, row, row.claimer_id, now)


def _on_postgres(connection: Any) -> bool:
    return connection.dialect.name == "postgresql"


def _claim_picked(connection: Connection, row: Any, user_id: int, now: datetime) -> Claimed | None:
    """Claim the case claim-next's first statement picked (``row``, or None), or the first case
    whose claim has lapsed if one comes before it, for user ``user_id``."""
    if row is None or row.lapsed:
        lapsed = _first_lapsed(connection, user_id, now)
        if lapsed is not None and (row is None or _place(lapsed) < _place(row)):
            row = lapsed
    if row is None:
        return None
    if hasattr(row, "head_seq") and getattr(row, "chain_locked", True):
        head = audit.Head.of(row)
    else:  # a lapsed case, or its chain's lock is held: wait for the lock, then read the head
        audit.lock_chain(connection, row.reference)
        head = audit.head_of(connection, row.reference)
    return _write_claim(connection, row, head, user_id, now)


def _place(row: Any) -> tuple[Any, ...]:
    return (*(getattr(row, column.key) for column in QUEUE_ORDER[:-1]), row.id)


def _write_claim(connection: Connection, row: Any, head: audit.Head, user_id: int, now: datetime) -> Claimed:
    """Claim the locked case ``row`` for user ``user_id`` and audit it, in one statement on PostgreSQL."""
    expires = now + timedelta(minutes=claim_minutes())
    claim = {"claim_case": row.id, "claim_user": user_id, "claim_at": now, "claim_until": expires}
    postgres = _on_postgres(connection)
    if not postgres:
        cursor_statements.run(connection, _CLAIM_UPDATE, claim)
    renewed = row.claimed_by_id == user_id and row.claim_expires_at is not None and row.claim_expires_at > now
    audit.append(connection, audit.bound_key(connection), head, f"user:{user_id}", "case.claimed",
                 row.reference, {"expires_at": expires.isoformat(), "renewed": renewed,
                                 "stage": STAGE_OF.get(row.status)}, now,
                 _claim_and_audit() if postgres else None, claim if postgres else None)
    return Claimed(row.id, row.reference, row.status, user_id, now, expires)


_CASES, _TOKENS = Case.__table__, ApiToken.__table__
_CLAIM_UPDATE = (update(_CASES).where(_CASES.c.id == bindparam("claim_case"))
                 .values(claimed_by_id=bindparam("claim_user"), claimed_at=bindparam("claim_at", type_=Case.claimed_at.type),
                         claim_expires_at=bindparam("claim_until", type_=Case.claim_expires_at.type)))
"""The claim itself, its values bound by name (built once: statements are built, not just run,
on every claim otherwise, and building costs more than running)."""


@lru_cache(maxsize=1)
def _claim_and_audit() -> Any:
    """PostgreSQL: the claim and its audit event in one statement (``WITH claimed AS (UPDATE)
    INSERT``)."""
    return audit.insert_event("postgresql").add_cte(_CLAIM_UPDATE.cte("claimed"))


def next_unclaimed(user: User, now: datetime) -> Any:
    """The first unclaimed case ``user`` may take, locked, skipping locked rows (values bound)."""
    return _next_unclaimed(returned_to_another_caseworker()).params(_claim_next_params(user.id, now))


def claim_next_query(user: User, now: datetime, postgres: bool = True) -> Any:
    """Claim-next's first statement with its values bound (for EXPLAIN)."""
    return _claim_next_statement(postgres, returned_to_another_caseworker()).params(_claim_next_params(user.id, now))


def claim_next_by_token_query(secret: str, now: datetime, postgres: bool = True) -> Any:
    """:func:`claim_next_by_token`'s first statement with its values bound (for EXPLAIN)."""
    return (_claim_next_statement(postgres, returned_to_another_caseworker(), by_token=True)
            .params({**_claim_next_params(None, now), "token_hash": auth.token_hash(secret)}))


def _claim_next_params(user_id: int | None, now: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"now": now, "today": uk_date(now)}
    if user_id is not None:
        params["claimer"] = user_id
    return params


@lru_cache(maxsize=8)
def _next_unclaimed(skip_returned: bool, by_token: bool = False) -> Any:
    """The LIMIT and the queue's name are written into the SQL, not bound: psycopg prepares the
    statement after a few runs, and PostgreSQL keeps one generic plan for it only if that plan
    looks as cheap as a custom one; with ``LIMIT $n`` it looked dear, so every claim was planned
    again (planning cost several times the query on a million cases). ``by_token``: the claimer
    is the holder of the live caseworker's token ``token_hash``, and nobody's case is picked
    without one (checked once, before the index is read)."""
    claimer = auth.live_token_holder("caseworker") if by_token else bindparam("claimer")
    clauses = [*_claimable(claimer, bindparam("today", type_=Case.queue_available_on.type), skip_returned, inline=True),
               Case.claimed_by_id.is_(None)]
    if by_token:
        clauses.insert(0, claimer.is_not(None))
    return (select(*PICKED).where(*clauses).order_by(*QUEUE_ORDER).limit(literal_column("1"))
            .with_for_update(skip_locked=True, of=Case))


@lru_cache(maxsize=8)
def _claim_next_statement(postgres: bool, skip_returned: bool, by_token: bool = False) -> Any:
    """Claim-next's first statement: :func:`next_unclaimed`, its audit chain's head, whether any
    claim has lapsed, and (PostgreSQL) its chain's lock taken without waiting and the claim's
    commit made asynchronous (:data:`ASYNC_COMMIT`); built once per setting, its values
    (``claimer``, ``now``, ``today``; ``by_token``: ``token_hash`` instead of ``claimer``, and the
    claimer and the token's use read too) bound when it runs."""
    picked = _next_unclaimed(skip_returned, by_token).subquery("picked")
    lapsed = [select(Case.id).where(Case.claimed_by_id.is_not(None), expiry)  # any lapsed claim: a few at most
              for expiry in (Case.claim_expires_at <= bindparam("now", type_=Case.claim_expires_at.type),
                             Case.claim_expires_at.is_(None))]  # each one range of ix_cases_claim_expires_at
    columns = [*picked.c, *audit.head_columns(picked.c.reference), or_(*map(exists, lapsed)).label("lapsed")]
    if postgres:
        columns += [audit.try_lock_chain_sql(picked.c.reference).label("chain_locked"), ASYNC_COMMIT]
    if not by_token:
        return select(*columns)
    token = _TOKENS.c
    return (select(*columns, token.user_id.label("claimer_id"), token.id.label("token_id"),
                   token.last_used_at.label("token_last_used_at"))
            .select_from(picked.join(_TOKENS, token.token_hash == bindparam("token_hash"))))


ASYNC_COMMIT = func.set_config(sql_constant("synchronous_commit"), sql_constant("off"), true()).label("async_commit")
"""PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk (the flush
took 4 ms here, twice the whole claim's budget). Only the claim's transaction (``set_config``'s
``is_local``: the connection's next transaction is durable again). The claim and its audit
event still commit together or not at all; a server crash within a fraction of a second of the
commit may lose both (never one without the other), leaving the case in the queue unclaimed:
the caseworker claims again, and a decision still needs a live claim (``backend.lifecycle``)."""


def _first_lapsed(connection: Any, user_id: int, now: datetime) -> Any:
    """The first case in queue order whose claim has lapsed that user ``user_id`` may take, locked;
    read along ``ix_cases_claim_expires_at`` (the few lapsed claims, sorted here) rather than the queue."""
    lapsed = connection.execute(select(*PICKED).where(
        *_claimable(user_id, uk_date(now), returned_to_another_caseworker()), Case.claimed_by_id.is_not(None),
        or_(Case.claim_expires_at.is_(None), Case.claim_expires_at <= now))).all()
    for candidate in sorted(lapsed, key=_place):
        row = connection.execute(select(*PICKED).where(
            Case.id == candidate.id, Case.claimed_by_id.is_not(None),
            or_(Case.claim_expires_at.is_(None), Case.claim_expires_at <= now))
            .with_for_update(skip_locked=True, of=Case)).first()
        if row is not None:
            return row
    return None


def _claimable(user_id: Any, today: Any, skip_returned: bool, inline: bool = False) -> list[ColumnElement[bool]]:
    """The decision queue today, less the cases ``user_id`` reviewed (and, ``skip_returned``, the
    ones whose decision by them the panel returned); values or bound parameters."""
    clauses = [*_in_queue(DECISION, today, inline), ~exists().where(Review.case_id == Case.id, Review.reviewer_id == user_id)]
    if skip_returned:
        clauses.append(or_(Case.returned_decider_id.is_(None), Case.returned_decider_id != user_id))
    return clauses


def release(session: Session, reference: str, user: User, now: datetime | None = None) -> Case:
    """Give back a claim the user holds."""
    now = now or utcnow()
    _require_caseworker(user)
    case = lock_case(session, reference)
    if case.claimed_by_id != user.id or not claim_active(case, now):
        raise ClaimConflict(f"you do not hold a claim on case {reference}")
    release_claim(case)
    audit.record(session, f"user:{user.id}", "case.released", case.reference, {}, at=now)
    session.flush()
    return case


def expire_claims(session: Session, now: datetime | None = None) -> list[str]:
    """Clear every claim past its expiry (audited as the system); the references."""
    now = now or utcnow()
    stale = session.scalars(
        select(Case).where(Case.claimed_by_id.is_not(None),
                           or_(Case.claim_expires_at.is_(None), Case.claim_expires_at <= now))
        .order_by(Case.id).with_for_update(skip_locked=True)).all()
    for case in stale:
        holder = case.claimed_by_id
        release_claim(case)
        audit.record(session, "system", "case.claim_expired", case.reference, {"claimed_by": f"user:{holder}"},
                     at=now)
    session.flush()
    return [case.reference for case in stale]
