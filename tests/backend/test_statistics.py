"""Aggregate statistics (backend.statistics): every table counted from the case columns and the
decrypted payloads, small-number suppression (primary and secondary, checked exhaustively on small
tables), the ``from``/``to`` period, and the three ways out (``GET /api/v1/stats``, the page
``/casework/stats`` and ``nrm stats``), none of which may show a reference or any personal data.

One migrated app serves the module. Each test's cases are submitted in their own period (a year
nobody else uses) and the test reads that period only, so tests do not see each other's cases.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from datetime import date, datetime, time, timezone
from typing import Any, Iterator

import pytest
from flask import Flask
from jsonschema import Draft202012Validator

from backend import auth, db
from backend.intake import submit
from backend.models import ROLES, Decision, Review
from backend.openapi import STATS_TABLES, document
from backend.statistics import (HIDDEN, SMALL, TABLES, InvalidPeriod, Period, parse_period, recoverable,
                                statistics, suppress, suppress_table, text_report)
from tests.backend.casework_helpers import make_case, make_user, shared_app, token_for
from tests.flows.conversation import walked_payload

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=timezone.utc)
MAIN = Period(date(2025, 1, 1), date(2026, 3, 31))
SMALL_WORLD = Period(date(2021, 1, 1), date(2021, 12, 31))
BOUNDARY = Period(date(2024, 3, 1), date(2024, 4, 30))
NATIONS = Period(date(2022, 1, 1), date(2022, 12, 31))
INTAKE = Period(date(2023, 1, 1), date(2023, 12, 31))
PASSWORD = "statistics password 1"
SIGN_IN = "/casework/sign-in"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NAMES = ("Zbigniew", "Quellmalz", "Anna", "Hoxha")  # the names in the test payloads
ORGANISATION = "Salvation Army"


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


def answers(types: list[str], where: str, nationality: str, gender: str) -> dict[str, Any]:
    return {"types-of-exploitation": types, "where-exploitation-happened": where, "pv-nationality": nationality,
            "pv-gender": gender}


def decide(session, case, stage: str, outcome: str, by, when: datetime) -> Decision:
    decision = Decision(case_id=case.id, stage=stage, outcome=outcome, decided_by_id=by.id, decided_at=when,
                        reasons="Reasons that must never reach the statistics.")
    session.add(decision)
    session.flush()
    return decision


def seed_main(session) -> None:
    """21 cases, every count 0 or at least 5, so nothing is suppressed (period MAIN, now NOW)."""
    decider, reviewer = make_user(session, "caseworker"), make_user(session, "panel", "Panel")
    england = answers(["forced-to-work", "wages-taken"], "uk", "Albanian", "female")
    for offset in range(5):  # RG positive 2..6 days after submission
        case = make_case(session, "recovery", submitted_at=at(date(2026, 2, 2 + offset)), answers=england)
        decide(session, case, "rg", "positive", decider, at(date(2026, 2, 8), 9))
    for _ in range(5):  # RG negative after 10 days, upheld by the panel
        case = make_case(session, "rg_negative", submitted_at=at(date(2026, 2, 10)), answers=england)
        decision = decide(session, case, "rg", "negative", decider, at(date(2026, 2, 20), 16))
        session.add(Review(case_id=case.id, decision_id=decision.id, outcome="upheld", reviewer_id=reviewer.id,
                           reviewed_at=at(date(2026, 2, 25)), reasons="Upheld."))
    for _ in range(6):  # children in Wales, past their RG target date
        case = make_case(session, "awaiting_rg", age_route="child", fr_location="wales",
                         submitted_at=at(date(2026, 3, 2)),
                         answers=answers(["forced-to-commit-crime"], "uk-and-overseas", "Vietnamese", "male"))
        case.rg_due_date = date(2026, 3, 9)
    for _ in range(5):  # Duty to Notify reports, more than 12 months before the end of the period
        make_case(session, "dtn_recorded", route="dtn", fr_location="scotland", submitted_at=at(date(2025, 1, 10)),
                  answers=answers(["prostitution"], "overseas", "Unknown", "female"))


def seed_small_world(session) -> None:
    """9 cases: 6 adults in England, 2 children in Wales, 1 DtN report in Scotland (2021)."""
    for day in range(1, 7):
        make_case(session, submitted_at=at(date(2021, 5, day)))
    for day in (7, 8):
        make_case(session, age_route="child", fr_location="wales", submitted_at=at(date(2021, 5, day)))
    make_case(session, "dtn_recorded", route="dtn", fr_location="scotland", submitted_at=at(date(2021, 5, 9)))


def nationality_names() -> list[str]:
    from backend.statistics import nationalities

    return sorted(nationalities() - {"Unknown"})[:12]


def seed_nationalities(session) -> None:
    """The i-th of 12 nationalities (alphabetically) 1 + i times, and one value not on the list."""
    for index, name in enumerate(nationality_names()):
        for _ in range(index + 1):
            make_case(session, submitted_at=at(date(2022, 6, 1)), answers={"pv-nationality": name})
    make_case(session, submitted_at=at(date(2022, 6, 1)), answers={"pv-nationality": "Martian"})


def seed_boundary(session) -> None:
    """UK dates around the clocks going forward (31 March 2024, 01:00 UTC)."""
    for _ in range(5):  # 23:30 BST on 31 March
        make_case(session, submitted_at=at(date(2024, 3, 31), 22, 30))
    for _ in range(6):  # 00:30 BST on 1 April
        make_case(session, submitted_at=at(date(2024, 3, 31), 23, 30))
    for _ in range(7):
        make_case(session, submitted_at=at(date(2024, 4, 15)))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with shared_app(tmp_path_factory.mktemp("statistics")) as application:
        with application.app_context(), db.get_db(application).transaction() as session:
            for seed in (seed_main, seed_small_world, seed_nationalities, seed_boundary):
                seed(session)
            for role in ROLES:
                auth.create_user(session, f"{role}@example.org", role, PASSWORD,
                                 organisation="The Salvation Army" if role in ("responder", "operator") else None)
        yield application


@pytest.fixture(scope="module")
def tokens(app: Flask) -> dict[str, str]:
    with app.app_context(), db.get_db(app).transaction() as session:
        return {role: token_for(session, make_user(session, role, "The Salvation Army"
                                                   if role in ("responder", "operator") else None))
                for role in ROLES}


def stats_for(app: Flask, period: Period, now: datetime = NOW) -> dict[str, Any]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return statistics(session, now, period)


def no_case_data(text: str) -> None:
    assert "NRM-" not in text and "DTN-" not in text
    for name in (*NAMES, ORGANISATION, "Martian", "1990-02-03", "must never reach"):
        assert name not in text


# --- suppression --------------------------------------------------------------------------------

def test_primary_suppression_boundaries() -> None:
    assert suppress({"a": 0, "b": 1, "c": 4, "d": 5, "e": 12}) == {"a": 0, "b": SMALL, "c": SMALL, "d": 5, "e": 12}


@pytest.mark.parametrize(("counts", "expected"), [
    ({"a": 6, "b": 7, "c": 0}, {"a": 6, "b": 7, "c": 0}),  # nothing small: nothing hidden
    ({"nrm": 8, "dtn": 1}, {"nrm": HIDDEN, "dtn": SMALL}),  # one small cell: the next smallest goes too
    ({"a": 2, "b": 9, "c": 9, "d": 30}, {"a": SMALL, "b": HIDDEN, "c": 9, "d": 30}),  # first of a tie
    ({"a": 1, "b": 2, "c": 9, "d": 0}, {"a": SMALL, "b": SMALL, "c": HIDDEN, "d": 0}),  # always one more
    ({"a": 4, "b": 4, "c": 10}, {"a": SMALL, "b": SMALL, "c": HIDDEN}),  # 4+4=8 alone would give both away
    ({"a": 1, "b": 6, "c": 40}, {"a": SMALL, "b": HIDDEN, "c": 40}),  # 7 = 1+6 or 2+5
    ({"a": 1, "b": 5, "c": 0}, {"a": HIDDEN, "b": HIDDEN, "c": HIDDEN}),  # 6 is only 1+5: withheld
    ({"a": 4, "b": 5, "c": 5}, {"a": HIDDEN, "b": HIDDEN, "c": HIDDEN}),  # the hidden 5 is at most 5: 4 = 9-5
    ({"a": 3, "b": 5, "c": 5, "d": 20}, {"a": HIDDEN, "b": HIDDEN, "c": HIDDEN, "d": HIDDEN}),
    ({"a": 1, "b": 1, "c": 0}, {"a": HIDDEN, "b": HIDDEN, "c": HIDDEN}),  # 2 is only 1+1
    ({"a": 1, "b": 2, "c": 0}, {"a": SMALL, "b": SMALL, "c": 0}),  # 3 = 1+2 or 2+1
])
def test_secondary_suppression(counts: dict[str, int], expected: dict[str, Any]) -> None:
    assert suppress_table(counts) == expected
    assert list(suppress_table(counts)) == list(counts)  # same keys, same order


def test_recoverable_is_the_arithmetic_of_the_rule() -> None:
    assert recoverable(1, 3)  # a hidden cell alone is the total minus the rest
    assert not recoverable(2, 5) and recoverable(2, 8) and recoverable(2, 2)
    assert recoverable(1, 6, 1) and not recoverable(1, 7, 1)
    assert recoverable(1, 9, 1, other_max=5) and not recoverable(1, 9, 1, other_max=6)
    assert not recoverable(0, 0)


def published(counts: tuple[int, ...]) -> tuple[Any, ...]:
    table = suppress_table({f"k{index}": value for index, value in enumerate(counts)})
    return tuple(table.values())


@pytest.mark.parametrize(("cells", "highest"), [(2, 16), (3, 14), (4, 10)])
def test_no_hidden_count_can_be_worked_out_from_the_total(cells: int, highest: int) -> None:
    """Exhaustively: group every table (cells 0..highest) by what is published, total included; among
    the tables published the same way, every "<5" cell takes at least two values, so the total and
    the shown cells never give it away. Only totals up to ``highest`` are judged, so every table an
    attacker would have to consider is in the enumeration."""
    seen: dict[tuple[Any, ...], list[tuple[int, ...]]] = defaultdict(list)
    for counts in itertools.product(range(highest + 1), repeat=cells):
        seen[(sum(counts), published(counts))].append(counts)
    checked = 0
    for (total, shown), tables in seen.items():
        if total > highest:
            continue
        for index, cell in enumerate(shown):
            if cell == SMALL:
                checked += 1
                assert len({table[index] for table in tables}) >= 2, (total, shown, tables)
            elif isinstance(cell, int):
                assert all(table[index] == cell for table in tables)
    assert checked >= 20  # the check did run


def test_totals_stay_exact_when_cells_are_hidden(app: Flask) -> None:
    stats = stats_for(app, SMALL_WORLD)
    assert stats["total"] == 9  # exact: by_age_route below hides cells, the total stays
    assert stats["by_route"] == {"nrm": HIDDEN, "dtn": SMALL}
    assert stats["by_fr_location"] == {"england": HIDDEN, "wales": SMALL, "scotland": SMALL, "northern-ireland": 0}
    assert stats["by_age_route"] == {"adult": HIDDEN, "child": SMALL, "unknown": 0}
    assert stats["by_status"]["awaiting_rg"] == HIDDEN and stats["by_status"]["dtn_recorded"] == SMALL
    assert stats["by_gender"] == {"female": 0, "male": 0, "unknown": 0, "not-recorded": 9}
    for key, _, _ in TABLES:
        assert all(value in (SMALL, HIDDEN) or value == 0 or value >= 5 for value in stats[key].values()), key
    tiny = stats_for(app, Period(date(2021, 5, 9), date(2021, 5, 9)))
    assert tiny["total"] == SMALL and tiny["by_route"] == {"nrm": HIDDEN, "dtn": HIDDEN}  # withheld


# --- every table --------------------------------------------------------------------------------

def test_every_table_is_counted(app: Flask) -> None:
    stats = stats_for(app, MAIN)
    assert stats["as_of"] == "2026-03-16" and stats["period"] == {"from": "2025-01-01", "to": "2026-03-31"}
    assert stats["total"] == 21
    assert stats["overdue_rg"] == 6
    assert stats["rg_decided_cases"] == 10
    assert stats["median_days_to_rg_decision"] == 8.0  # 2, 3, 4, 5, 6 and five tens
    assert stats["by_route"] == {"nrm": 16, "dtn": 5}
    months = {f"2025-{month:02d}": 0 for month in range(4, 13)} | {"2026-01": 0, "2026-02": 10, "2026-03": 6}
    assert stats["by_month"] == {"earlier": 5, **months}
    assert list(stats["by_month"]) == ["earlier", *sorted(months)]
    assert stats["by_status"] == {"awaiting_rg": 6, "recovery": 5, "awaiting_cg": 0, "cg_positive": 0,
                                  "rg_review": 0, "cg_review": 0, "rg_negative": 5, "cg_negative": 0,
                                  "suspended": 0, "withdrawn": 0, "dtn_recorded": 5}
    assert stats["by_age_route"] == {"adult": 15, "child": 6, "unknown": 0}
    assert stats["by_fr_location"] == {"england": 10, "wales": 6, "scotland": 5, "northern-ireland": 0}
    types = stats["by_exploitation_type"]
    assert {key: value for key, value in types.items() if value} == {
        "forced-to-work": 10, "wages-taken": 10, "forced-to-commit-crime": 6, "prostitution": 5}
    assert list(types)[0] == "forced-to-work" and list(types)[-1] == "not-recorded"
    assert stats["by_exploitation_location"] == {"uk": 10, "overseas": 5, "uk-and-overseas": 6, "not-recorded": 0}
    assert stats["by_nationality"] == {"Albanian": 10, "Vietnamese": 6, "other": 0, "not-known": 5,
                                       "not-recorded": 0}
    assert stats["by_gender"] == {"female": 15, "male": 6, "unknown": 0, "not-recorded": 0}
    assert stats["decisions"] == {"rg-positive": 5, "rg-negative": 5, "cg-positive": 0, "cg-negative": 0}
    assert stats["panel_reviews"] == {"upheld": 5, "returned": 0}


def test_labels_come_from_the_published_schema(app: Flask) -> None:
    labels = stats_for(app, MAIN)["labels"]
    assert set(labels) == {key for key, _, _ in TABLES}
    assert labels["by_exploitation_type"]["forced-to-work"] == "Forced to work for little or no pay"
    assert labels["by_exploitation_type"]["not-recorded"] == "Not recorded"
    assert labels["by_exploitation_location"]["uk-and-overseas"] == "Both UK and overseas"
    assert labels["by_gender"]["unknown"] == "They do not identify as male or female"
    assert labels["by_fr_location"]["northern-ireland"] == "Northern Ireland"
    assert labels["by_nationality"] == {"Albanian": "Albanian", "Vietnamese": "Vietnamese",
                                        "other": "Other nationalities", "not-known": "Not known",
                                        "not-recorded": "Not recorded"}
    assert labels["by_month"]["earlier"] == "Before April 2025" and labels["by_month"]["2026-02"] == "February 2026"
    assert labels["decisions"]["rg-negative"] == "Reasonable Grounds: negative"
    assert labels["by_status"]["dtn_recorded"] == "Duty to Notify report recorded"


def test_the_ten_most_common_nationalities_then_other(app: Flask) -> None:
    names = nationality_names()  # names[i] was given i + 1 times
    stats = stats_for(app, NATIONS)
    expected = {name: 1 + index for index, name in enumerate(names) if index >= 5}  # 6 or more: shown
    assert stats["by_nationality"] == {
        **dict(sorted(expected.items(), key=lambda item: -item[1])),  # largest first
        names[2]: SMALL, names[3]: SMALL,  # 3 and 4: in the top 10, hidden
        names[4]: HIDDEN,  # 5: the smallest count shown otherwise (rule 2)
        "other": SMALL,  # names[0] and names[1] (1 + 2) and the one not on the list
        "not-known": 0, "not-recorded": 0,
    }
    assert list(stats["by_nationality"])[:10] == [*(names[index] for index in range(11, 4, -1)),
                                                  names[2], names[3], names[4]]  # hidden: alphabetical
    assert names[0] not in stats["by_nationality"] and names[1] not in stats["by_nationality"]
    no_case_data(json.dumps(stats))  # "Martian" is never named


def test_real_referrals_from_the_dialogue_are_counted(app: Flask) -> None:
    """Payloads walked through the dialogue and accepted by the intake (full schema validation)."""
    with app.app_context(), db.get_db(app).transaction() as session:
        for index in range(5):
            payload = walked_payload("adult")
            payload["answers"]["pv-nationality"] = "Eritrean"
            payload["answers"]["pv-gender"] = "male"
            payload["answers"]["types-of-exploitation"] = ["forced-to-commit-crime", "wages-taken"]
            submit(session, payload, None, actor="user:1", now=at(date(2023, 6, 1 + index)))
        for index in range(5):
            submit(session, walked_payload("dtn"), None, actor="user:1", now=at(date(2023, 7, 1 + index)))
    stats = stats_for(app, INTAKE)
    assert stats["total"] == 10 and stats["by_route"] == {"nrm": 5, "dtn": 5}
    assert stats["by_status"]["awaiting_rg"] == 5 and stats["by_status"]["dtn_recorded"] == 5
    assert stats["by_nationality"] == {"Albanian": 5, "Eritrean": 5, "other": 0, "not-known": 0, "not-recorded": 0}
    assert stats["by_gender"] == {"female": 5, "male": 5, "unknown": 0, "not-recorded": 0}
    assert {k: v for k, v in stats["by_exploitation_type"].items() if v} == {
        "forced-to-work": 5, "forced-to-commit-crime": 5, "wages-taken": 5}
    assert stats["by_exploitation_location"]["uk"] == 10
    assert stats["by_month"]["2023-06"] == 5 and stats["by_month"]["2023-07"] == 5


# --- the period ---------------------------------------------------------------------------------

def test_the_period_is_by_uk_date_of_submission(app: Flask) -> None:
    assert stats_for(app, Period(date(2024, 3, 1), date(2024, 3, 31)))["total"] == 5  # 23:30 BST on 31 March
    assert stats_for(app, Period(date(2024, 4, 1), date(2024, 4, 30)))["total"] == 13  # 00:30 BST is 1 April
    assert stats_for(app, Period(date(2024, 3, 31), date(2024, 4, 1)))["total"] == 11
    assert stats_for(app, Period(date(2024, 4, 2), date(2024, 4, 14)))["total"] == 0
    both = stats_for(app, BOUNDARY)
    assert both["by_month"] == {"2024-03": 5, "2024-04": 13}  # no "earlier": the period starts in March
    assert stats_for(app, Period(date(2024, 3, 1), None))["total"] >= 18
    everything = stats_for(app, Period())
    assert everything["period"] == {"from": None, "to": None} and "earlier" in everything["by_month"]
    assert len(everything["by_month"]) == 13 and list(everything["by_month"])[-1] == "2026-03"
    future = stats_for(app, Period(date(2027, 5, 3), None))
    assert future["total"] == 0 and future["by_month"] == {"2027-05": 0}


def test_parse_period() -> None:
    assert parse_period(None, None) == Period() == parse_period("", " ")
    assert parse_period("2026-01-01", "2026-01-01") == Period(date(2026, 1, 1), date(2026, 1, 1))
    assert parse_period(" 2026-02-28 ", None) == Period(date(2026, 2, 28), None)
    for bad in ("2026-02-30", "2026/01/01", "1/2/2026", "yesterday", "2026-1-1", "20260101"):
        with pytest.raises(InvalidPeriod) as raised:
            parse_period(bad, None)
        assert raised.value.field == "from" and raised.value.problem == "date"
        assert "YYYY-MM-DD" in str(raised.value)
    with pytest.raises(InvalidPeriod) as raised:
        parse_period(None, "2026-13-01")
    assert raised.value.field == "to"
    with pytest.raises(InvalidPeriod) as raised:
        parse_period("2026-03-02", "2026-03-01")
    assert raised.value.problem == "order" and "before" in str(raised.value)


# --- the JSON API -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [*ROLES, None])
def test_api_roles(app: Flask, tokens: dict[str, str], role: str | None) -> None:
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
    response = app.test_client().get("/api/v1/stats", headers=headers)
    expected = 200 if role in ("analyst", "admin") else 401 if role is None else 403
    assert response.status_code == expected, response.get_data(as_text=True)


def test_api_filters_and_shape(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['analyst']}"}
    response = client.get("/api/v1/stats?from=2024-03-01&to=2024-03-31", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 5 and body["period"] == {"from": "2024-03-01", "to": "2024-03-31"}
    spec = document()
    validator = Draft202012Validator({"components": spec["components"], "$ref": "#/components/schemas/Stats"})
    everything = client.get("/api/v1/stats", headers=headers).get_json()
    for result in (body, everything, stats_for(app, MAIN)):
        assert not list(validator.iter_errors(result))
    assert set(STATS_TABLES) == {key for key, _, _ in TABLES}
    no_case_data(client.get("/api/v1/stats", headers=headers).get_data(as_text=True))


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-02-30", "from"), ("to=31/03/2026", "to"), ("from=2026-03-02&to=2026-03-01", "from"),
])
def test_api_rejects_a_bad_period(app: Flask, tokens: dict[str, str], query: str, field: str) -> None:
    response = app.test_client().get(f"/api/v1/stats?{query}",
                                     headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_period" and f'"{field}"' in body["error"]
    unauthenticated = app.test_client().get(f"/api/v1/stats?{query}")
    assert unauthenticated.status_code == 401  # the token is checked before the query


# --- the page -----------------------------------------------------------------------------------

def signed_in(app: Flask, role: str):
    client = app.test_client()
    token = CSRF_FIELD.search(client.get(SIGN_IN).get_data(as_text=True)).group(1)
    response = client.post(SIGN_IN, data={"csrf_token": token, "email": f"{role}@example.org",
                                          "password": PASSWORD})
    assert response.status_code == 302
    return client


def page_text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_page_shows_every_table_accessibly(app: Flask) -> None:
    client = signed_in(app, "analyst")
    html = page_text(client.get("/casework/stats?from=2025-01-01&to=2026-03-31"))
    for caption in ("Totals", *(caption for _, caption, _ in TABLES)):
        pattern = rf'<caption class="govuk-table__caption[^"]*">\s*{re.escape(caption)}\s*</caption>'
        assert re.search(pattern, html), caption
    assert html.count("<table") == len(TABLES) + 1
    assert html.count('scope="col"') == 2 * (len(TABLES) + 1) and 'scope="row"' in html
    assert "govuk-table__cell--numeric" in html
    assert "Forced to work for little or no pay" in html and "Both UK and overseas" in html
    assert "submitted from 1 January 2025 to 31 March 2026" in html
    assert 'id="from"' in html and 'value="2025-01-01"' in html and '<label class="govuk-label" for="from">' in html
    no_case_data(html)
    small = page_text(client.get("/casework/stats?from=2021-01-01&to=2021-12-31"))
    assert "&lt;5" in small and "[c]" in small
    assert page_text(signed_in(app, "admin").get("/casework/stats")).count("<table") == len(TABLES) + 1
    assert signed_in(app, "caseworker").get("/casework/stats").status_code == 403


def test_the_page_explains_a_bad_period(app: Flask) -> None:
    response = signed_in(app, "analyst").get("/casework/stats?from=2026-03-02&to=2026-02-30")
    html = page_text(response)
    assert response.status_code == 400
    assert "<title>Error: Statistics - NRM Referral Assistant</title>" in html
    assert "govuk-error-summary" in html and 'href="#to"' in html
    assert "Submitted to must be a real date in the format YYYY-MM-DD" in html
    assert "govuk-error-message" in html and "<table" not in html
    assert 'value="2026-02-30"' in html  # what they typed stays in the box


# --- nrm stats ----------------------------------------------------------------------------------

def test_cli_prints_text_tables_and_json(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["stats", "--from", "2021-01-01", "--to", "2021-12-31"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "submitted from 1 January 2021 to 31 December 2021" in output
    for caption in ("Totals", *(caption for _, caption, _ in TABLES)):
        assert f"\n{caption}\n" in output
    assert re.search(r"^  All cases \(NRM referrals and Duty to Notify reports\) +9$", output, re.M)
    assert re.search(r"^  NRM referral +\[c\]$", output, re.M)
    assert re.search(r"^  Duty to Notify report +<5$", output, re.M)
    assert re.search(r"^  England +\[c\]$", output, re.M)
    no_case_data(output)

    as_json = runner.invoke(args=["stats", "--json", "--from", "2021-01-01", "--to", "2021-12-31"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        assert data == statistics(session, period=SMALL_WORLD)
    assert text_report(data) + "\n" == output


def test_cli_rejects_a_bad_period(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["stats", "--to", "2026-02-30"])
    assert result.exit_code == 2
    assert "--to" in result.output and "YYYY-MM-DD" in result.output
    result = app.test_cli_runner().invoke(args=["stats", "--from", "2026-03-02", "--to", "2026-03-01"])
    assert result.exit_code == 2 and "before" in result.output
