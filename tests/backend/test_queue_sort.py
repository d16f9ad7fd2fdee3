"""Sorting the decision and review queues (issue 12): every order pages through the whole queue,
each case exactly once and in that order, on SQLite and PostgreSQL; a cursor belongs to its order;
hostile ``sort`` values are a clear 400 (API) or an error message (page), never a 500."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from backend import db, queues
from backend.db import utcnow
from backend.models import Case
from tests.backend.casework_helpers import case_in, give_claim, make_case, make_user, shared_app, token_for
from tests.conftest import fresh_postgres_url

SORTS = ("priority", "due", "oldest", "newest")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def queue_app(request, tmp_path_factory):
    """An app with both queues full of ties (same due dates, same submission times), per database."""
    if request.param == "postgres":
        with fresh_postgres_url() as url, shared_app(tmp_path_factory.mktemp("pg"), DATABASE_URL=url) as app:
            _seed(app)
            yield app
    else:
        with shared_app(tmp_path_factory.mktemp("sqlite")) as app:
            _seed(app)
            yield app


def _seed(app):
    now = utcnow()
    with app.app_context(), db.get_db(app).transaction() as session:
        decider, reviewer, holder = make_user(session, "caseworker"), make_user(session, "panel"), \
            make_user(session, "caseworker")
        same_moment = now - timedelta(days=3)
        for number in range(23):
            case = make_case(session, age_route="child" if number % 5 == 0 else "adult",
                             rg_due_offset_days=(number % 4) - 1,  # many share a due date, some overdue
                             submitted_at=same_moment if number % 3 == 0 else now - timedelta(hours=number * 7))
            if number % 6 == 0:
                give_claim(case, holder)
            if number == 7:
                case.rg_due_date = None  # no due date: first in the due order, as in the priority order
        for number in range(9):
            case_in(session, "rg_review", decider, reviewer if number == 0 else make_user(session, "panel"))
        session.commit()


def _expected(session, queue: str, sort: str, **where) -> list[str]:
    """The queue's references in ``sort``, from what a caseworker sees of each case."""
    cases = session.scalars(select(Case).where(Case.queue == queue, *(getattr(Case, k) == v for k, v in where.items())))
    rows = [(case, queues.due_date(case) or date.min, case.queue_since) for case in cases]
    keys = {"priority": lambda r: (not r[0].priority, r[1], r[2], r[0].id),
            "due": lambda r: (r[1], r[0].reference),
            "oldest": lambda r: (r[2], r[0].id),
            "newest": lambda r: (r[2], r[0].id)}
    ordered = sorted(rows, key=keys[sort], reverse=sort == "newest")
    return [row[0].reference for row in ordered]


def _walk(session, read, sort: str, limit: int, **filters) -> list[str]:
    seen, after, pages = [], None, 0
    while True:
        page = read(session, filters=queues.QueueFilters(sort=sort, **filters), after=after, limit=limit)
        seen += [entry.reference for entry in page.entries]
        pages += 1
        assert pages < 100
        if page.next_cursor is None:
            return seen
        after = page.next_cursor


@pytest.mark.parametrize("limit", [1, 4, 200])
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_through_the_whole_queue_each_case_once_in_its_order(queue_app, sort, limit):
    with queue_app.app_context(), db.get_db(queue_app).transaction() as session:
        decision = _walk(session, queues.decision_page, sort, limit)
        assert decision == _expected(session, "decision", sort) and len(decision) == 23
        review = _walk(session, queues.review_page, sort, limit)
        assert review == _expected(session, "review", sort) and len(review) == 9
        # with a filter: the same order over the filtered cases
        adults = _walk(session, queues.decision_page, sort, 3, priority=False)
        assert adults == _expected(session, "decision", sort, priority=False) and 0 < len(adults) < 23


def test_the_orders_differ_where_a_caseworker_would_notice(queue_app):
    """Due: the case with no due date first, then soonest; oldest and newest are each other's reverse."""
    with queue_app.app_context(), db.get_db(queue_app).transaction() as session:
        walked = {sort: _walk(session, queues.decision_page, sort, 50) for sort in SORTS}
        assert len({tuple(order) for order in walked.values()}) == 4
        assert walked["oldest"] == walked["newest"][::-1]
        entries = queues.decision_page(session, filters=queues.QueueFilters(sort="due"), limit=50).entries
        assert entries[0].due_date is None
        dates = [entry.due_date for entry in entries[1:]]
        assert dates == sorted(dates)


@pytest.mark.parametrize("sort", SORTS)
def test_a_cursor_of_another_sort_is_refused_with_a_clear_error(queue_app, sort):
    with queue_app.app_context(), db.get_db(queue_app).transaction() as session:
        cursor = queues.decision_page(session, filters=queues.QueueFilters(sort=sort), limit=2).next_cursor
        for other in SORTS:
            if other != sort:
                with pytest.raises(queues.InvalidQuery) as refused:
                    queues.decision_page(session, filters=queues.QueueFilters(sort=other), after=cursor, limit=2)
                assert refused.value.code == "cursor_of_another_sort"
                assert "another sort order" in refused.value.message


def _forged(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


HOSTILE_CURSORS = [
    "", "x" * 5000, "%%%", _forged("decision", "due", ["9999-12-31", "NRM\u0000"]),
    _forged("decision", "due", ["2026-01-01", 12]), _forged("decision", "oldest", ["2026-01-01T00:00:00", 1]),
    _forged("decision", "oldest", ["2026-01-01T00:00:00+00:00", 2**70]),
    _forged("decision", "priority", [True, "2026-01-01", "2026-01-01T00:00:00+00:00", 1]),
    _forged("decision", "sideways", [1]), _forged("decision", "due", ["2026-01-01"]),
    _forged("decision", "due", {"a": 1}), base64.urlsafe_b64encode(b"[" * 300).decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


def _api_get(app, token, query):
    return app.test_client().get("/api/v1/queues/decision", query_string=query,
                                 headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def caseworker_token(queue_app):
    with queue_app.app_context(), db.get_db(queue_app).transaction() as session:
        token = token_for(session, make_user(session, "caseworker"))
        session.commit()
    return token


@pytest.mark.parametrize("value", ["", " ", "x" * 10_000, "due\u200b", "sideways", "PRIORITY; DROP TABLE cases",
                                   "дата", "\u202edue"])
def test_the_api_refuses_a_sort_it_does_not_know_with_a_clear_400(queue_app, caseworker_token, value):
    response = _api_get(queue_app, caseworker_token, {"sort": value})
    assert response.status_code == 400 and response.is_json
    body = response.get_json()
    assert body["code"] in ("invalid_sort", "invalid_text")
    if body["code"] == "invalid_sort":
        assert body["error"] == "Sort by must be one of: priority, due, oldest, newest"


def test_the_api_refuses_a_nul_in_sort_with_a_400(queue_app, caseworker_token):
    response = _api_get(queue_app, caseworker_token, "sort=due%00")
    assert response.status_code == 400 and response.is_json


def test_the_api_says_a_wrong_sort_in_the_callers_language(queue_app, caseworker_token):
    response = queue_app.test_client().get("/api/v1/queues/decision?sort=sideways", headers={
        "Authorization": f"Bearer {caseworker_token}", "Accept-Language": "cy"})
    assert response.status_code == 400 and "priority, due, oldest, newest" in response.get_json()["error"]
    assert not response.get_json()["error"].startswith("Sort by must")


@pytest.mark.parametrize("cursor", HOSTILE_CURSORS)
@pytest.mark.parametrize("sort", ["due", "oldest"])
def test_the_api_refuses_a_forged_or_broken_cursor_with_a_400_never_a_500(queue_app, caseworker_token, cursor, sort):
    response = _api_get(queue_app, caseworker_token, {"sort": sort, "after": cursor})
    if cursor == "":  # no cursor: the first page
        assert response.status_code == 200
    else:
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["code"] in ("invalid_query", "cursor_of_another_sort")


def test_the_api_pages_each_sort_by_its_next_links_and_refuses_a_next_link_of_another_sort(queue_app,
                                                                                         caseworker_token):
    with queue_app.app_context(), db.get_db(queue_app).transaction() as session:
        expected = _expected(session, "decision", "due")
    seen, response = [], _api_get(queue_app, caseworker_token, {"sort": "due", "limit": "5"})
    while True:
        body = response.get_json()
        seen += [case["reference"] for case in body["cases"]]
        if body["next_url"] is None:
            break
        next_url = body["next_url"]
        response = queue_app.test_client().get(next_url, headers={"Authorization": f"Bearer {caseworker_token}"})
    assert seen == expected
    cursor = parse_qs(urlsplit(next_url).query)["after"][0]
    mixed = _api_get(queue_app, caseworker_token, {"sort": "oldest", "after": cursor})
    assert mixed.status_code == 400 and mixed.get_json()["code"] == "cursor_of_another_sort"
