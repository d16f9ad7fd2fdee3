"""Published statistics (backend.statistics): the columns derived at intake, quarters/years/rolling
12 months only, every table counted in SQL (NRM and DtN apart, age at exploitation, decisions by
decision date, percentiles), small-number suppression that holds across periods and tables
(checked exhaustively on small columns), and the three ways out (``GET /api/v1/stats``, the page
``/casework/stats`` and ``nrm stats``), none of which may show a reference or personal data.

One migrated app serves the module. Each test's cases are submitted in their own year (one nobody
else uses) and the test reads periods of that year only, so tests do not see each other's cases.
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
from backend.crypto import FieldCipher
from backend.intake import submit
from backend.models import ROLES, CaseNote, Decision, Review
from backend.openapi import document
from backend.statistics import (HIDDEN, SMALL, InvalidPeriod, Quarter, Report, as_json, build, parse, primary,
                                recoverable, suppress_table, suppress_within, text_report)
from backend.statistics import downloads
from backend.statistics.counting import percentile_cont
from backend.statistics.derived import force_regions, organisation_types
from tests.backend.casework_helpers import make_case, make_user, shared_app, token_for
from tests.flows.conversation import walked_payload

TODAY = date(2026, 11, 29)  # 2026 Q3 is the latest ended quarter
PASSWORD = "statistics password 1"
SIGN_IN = "/casework/sign-in"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NAMES = ("Zbigniew", "Quellmalz", "Anna", "Hoxha")  # the names in the test payloads
ORGANISATION = "The Salvation Army"


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


def decide(session, case, stage: str, outcome: str, by, when: datetime) -> Decision:
    decision = Decision(case_id=case.id, stage=stage, outcome=outcome, decided_by_id=by.id, decided_at=when,
                        reasons="Reasons that must never reach the statistics.")
    session.add(decision)
    session.flush()
    return decision


def seed_main(session) -> None:
    """2025: NRM and DtN, ages, exploitation, forces, decisions (some made in a later quarter than the
    referral), reviews and reconsiderations. Every count is 0 or at least 5 in 2025 Q1 unless said."""
    decider, reviewer = make_user(session, "caseworker"), make_user(session, "panel", "Panel")
    labour = {"types-of-exploitation": ["forced-to-work", "wages-taken"], "pv-nationality": "Albanian",
              "pv-gender": "female", "reported-to-police-police-forces": "Kent Police",
              "pv-under-age-at-time-of-exploitation": "no"}
    for offset in range(5):  # adults, RG positive 2..6 days after referral (Q1)
        case = make_case(session, "recovery", submitted_at=at(date(2025, 2, 2 + offset)), answers=labour)
        decide(session, case, "rg", "positive", decider, at(date(2025, 2, 8), 9))
    for _ in range(5):  # adults exploited as children: RG negative in Q2, upheld by the panel in Q2
        case = make_case(session, "rg_negative", submitted_at=at(date(2025, 3, 25)),
                         answers={**labour, "pv-under-age-at-time-of-exploitation": "yes"})
        decision = decide(session, case, "rg", "negative", decider, at(date(2025, 4, 4), 16))
        session.add(Review(case_id=case.id, decision_id=decision.id, outcome="upheld", reviewer_id=reviewer.id,
                           reviewed_at=at(date(2025, 4, 10)), reasons="Upheld."))
        session.add(CaseNote(case_id=case.id, kind="reconsideration", requested_by="support_provider",
                             at=at(date(2025, 5, 1)), reasons="Please look again."))
    for _ in range(6):  # children, criminal and sexual exploitation, in Q1
        make_case(session, age_route="child", submitted_at=at(date(2025, 3, 2)),
                  answers={"types-of-exploitation": ["forced-to-commit-crime", "child-exploitation"],
                           "pv-nationality": "Vietnamese", "pv-gender": "male",
                           "reported-to-police-police-forces": "West Midlands Police",
                           "local-authority-contacted-about-child-local-authority-name": "Birmingham City Council"})
    for _ in range(5):  # Duty to Notify reports in Q1, made by the police
        make_case(session, "dtn_recorded", route="dtn", organisation="Kent Police", submitted_at=at(date(2025, 1, 10)),
                  answers={"types-of-exploitation": ["prostitution"], "pv-nationality": "Albanian",
                           "pv-gender": "female"})


def seed_small(session) -> None:
    """2023 Q2: 6 adults reported to Kent Police, 1 child reported to the Metropolitan Police."""
    for day in range(1, 7):
        make_case(session, submitted_at=at(date(2023, 5, day)),
                  answers={"reported-to-police-police-forces": "Kent Police",
                           "pv-under-age-at-time-of-exploitation": "no"})
    make_case(session, age_route="child", submitted_at=at(date(2023, 5, 9)),
              answers={"reported-to-police-police-forces": "Metropolitan Police Service"})


def seed_october(session) -> None:
    """The issue's scenario, in 2020: DtN reports from 1 to 24 October, and on 25 October one more,
    the only Eritrean."""
    for day in range(1, 25):
        make_case(session, "dtn_recorded", route="dtn", submitted_at=at(date(2020, 10, day)),
                  answers={"pv-nationality": ("Albanian", "Vietnamese", "Sudanese")[day % 3],
                           "types-of-exploitation": ["forced-to-work"]})
    make_case(session, "dtn_recorded", route="dtn", submitted_at=at(date(2020, 10, 25)),
              answers={"pv-nationality": "Eritrean", "types-of-exploitation": ["forced-to-work"]})
    for month in (1, 4, 7):  # the rest of the year has reports too
        for day in range(1, 8):
            make_case(session, "dtn_recorded", route="dtn", submitted_at=at(date(2020, month, day)),
                      answers={"pv-nationality": "Albanian", "types-of-exploitation": ["forced-to-work"]})
    for day in range(1, 8):
        make_case(session, "dtn_recorded", route="dtn", submitted_at=at(date(2021, 2, day)),
                  answers={"pv-nationality": "Albanian", "types-of-exploitation": ["forced-to-work"]})


def seed_boundary(session) -> None:
    """UK dates around the end of 2024 Q1 (31 March 2024, the clocks go forward at 01:00 UTC)."""
    for _ in range(5):  # 23:30 BST on 31 March: Q1
        make_case(session, submitted_at=at(date(2024, 3, 31), 22, 30))
    for _ in range(6):  # 00:30 BST on 1 April: Q2
        make_case(session, submitted_at=at(date(2024, 3, 31), 23, 30))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with shared_app(tmp_path_factory.mktemp("statistics")) as application:
        with application.app_context(), db.get_db(application).transaction() as session:
            for seed in (seed_main, seed_small, seed_october, seed_boundary):
                seed(session)
            for role in ROLES:
                auth.create_user(session, f"{role}@example.org", role, PASSWORD,
                                 organisation=ORGANISATION if role in ("responder", "operator") else None)
        yield application


@pytest.fixture(scope="module")
def tokens(app: Flask) -> dict[str, str]:
    with app.app_context(), db.get_db(app).transaction() as session:
        return {role: token_for(session, make_user(session, role, ORGANISATION
                                                   if role in ("responder", "operator") else None))
                for role in ROLES}


def report_for(app: Flask, code: str, today: date = TODAY) -> Report:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return build(session, parse(code, today), today)


def table(report: Report, table_id: str) -> dict[str, dict[str, Any]]:
    """A table as {row label: {column: cell}}."""
    found = next(t for t in report.tables if t.id == table_id)
    return {row.label: dict(zip(found.columns, row.cells)) for row in found.rows}


def column(report: Report, table_id: str, quarter: str) -> dict[str, Any]:
    return {label: cells[quarter] for label, cells in table(report, table_id).items()}


def no_case_data(text: str) -> None:
    assert "NRM-" not in text and "DTN-" not in text
    for name in (*NAMES, "Martian", "1990-02-03", "must never reach", "Please look again"):
        assert name not in text


# --- suppression --------------------------------------------------------------------------------

def test_primary_suppression_boundaries() -> None:
    assert [primary(value) for value in (0, 1, 4, 5, 12)] == [0, SMALL, SMALL, 5, 12]


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
    return tuple(suppress_table({f"k{index}": value for index, value in enumerate(counts)}).values())


@pytest.mark.parametrize(("cells", "highest"), [(2, 16), (3, 14), (4, 10)])
def test_no_hidden_count_can_be_worked_out_from_the_total(cells: int, highest: int) -> None:
    """Exhaustively: group every column (cells 0..highest) by what is published, total included; among
    the columns published the same way, every "<5" cell takes at least two values, so the total and
    the shown cells never give it away. Only totals up to ``highest`` are judged, so every column an
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


def test_a_hidden_region_hides_all_its_police_forces() -> None:
    assert suppress_within(HIDDEN, {"Kent Police": 0, "Sussex Police": 9}) == {"Kent Police": HIDDEN,
                                                                              "Sussex Police": HIDDEN}
    assert suppress_within(SMALL, {"Kent Police": 3}) == {"Kent Police": HIDDEN}
    assert suppress_within(12, {"Kent Police": 3, "Sussex Police": 9}) == {"Kent Police": SMALL,
                                                                          "Sussex Police": HIDDEN}


# --- periods ------------------------------------------------------------------------------------

def test_periods_are_whole_quarters_years_or_rolling_12_months() -> None:
    quarter = parse("2026Q3", TODAY)
    assert [q.code for q in quarter.quarters] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert quarter.title == "July to September 2026"
    assert [q.code for q in parse("2025", TODAY).quarters] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    rolling = parse("12m-2026Q2", TODAY)
    assert [q.code for q in rolling.quarters] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert rolling.title == "July 2025 to June 2026"
    assert parse("", TODAY).code == "2026Q3" and parse(None, date(2027, 1, 1)).code == "2026Q4"
    assert Quarter.of(2024, 2).starts_at() == datetime(2024, 3, 31, 23, 0, tzinfo=timezone.utc)  # BST


@pytest.mark.parametrize("text", ["2026-10-01", "2026Q5", "Q3 2026", "12m-2026", "2026-01-01..2026-10-24",
                                  "1999Q4", "12m-2026Q3x"])
def test_only_quarters_years_and_rolling_12_months_are_accepted(text: str) -> None:
    with pytest.raises(InvalidPeriod) as raised:
        parse(text, TODAY)
    assert raised.value.problem == "format" and "2026Q3" in str(raised.value)


@pytest.mark.parametrize("text", ["2026Q4", "2026", "12m-2026Q4", "2027Q1"])
def test_a_quarter_that_has_not_ended_is_not_published(text: str) -> None:
    with pytest.raises(InvalidPeriod) as raised:
        parse(text, TODAY)
    assert raised.value.problem == "not-ended" and "2026Q3" in str(raised.value)


# --- derived at intake --------------------------------------------------------------------------

def test_every_listed_organisation_has_a_published_type_and_every_force_a_region() -> None:
    from flows.schema import payload_schema

    questions = payload_schema()["properties"]["answers"]["properties"]

    def listed(question_id: str) -> set[str]:
        return set(questions[question_id].get("enum") or questions[question_id]["x-entries"])

    assert listed("user-organisation") == set(organisation_types())
    assert listed("reported-to-police-police-forces") == set(force_regions())
    assert organisation_types()["Kent Police"] == "police"
    assert organisation_types()["Birmingham City Council"] == "local-authority"
    assert organisation_types()["Home Office - UK Border Force UKBF"] == "border-force"


def test_intake_derives_the_statistics_columns_from_a_real_referral(app: Flask) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        for route in ("adult", "child", "dtn"):
            payload = walked_payload(route)
            payload["answers"]["user-organisation"] = ORGANISATION
            case = submit(session, payload, None, "user:1", now=at(date(2019, 5, 1)))
            answers = payload["answers"]
            assert case.gender == answers["pv-gender"] and case.nationality == answers["pv-nationality"]
            assert case.organisation_type == "ngo"
            assert case.age_group in ("adult", "child", "not-specified")
            assert case.exploitation_groups > 0
        session.rollback()


@pytest.mark.parametrize(("age_route", "at_exploitation", "expected"), [
    ("child", None, "child"), ("unknown", None, "not-specified"), ("adult", "yes", "child"),
    ("adult", "no", "adult"), ("adult", "not-sure", "not-specified"), ("adult", None, "not-specified"),
])
def test_age_group_is_the_age_at_exploitation(app: Flask, age_route: str, at_exploitation: str | None,
                                              expected: str) -> None:
    with app.app_context(), db.get_db(app).transaction() as session:
        answers = {"pv-under-age-at-time-of-exploitation": at_exploitation} if at_exploitation else {}
        assert make_case(session, age_route=age_route, answers=answers).age_group == expected
        session.rollback()


# --- every table --------------------------------------------------------------------------------

def test_nrm_referrals_and_dtn_reports_are_counted_apart(app: Flask) -> None:
    report = report_for(app, "2025")
    assert column(report, "nrm-referrals-by-age-group", "2025 Q1") == {
        "Adult": 5, "Child": 11, "Not specified or unknown": 0, "Total": 16}  # 5 exploited as children + 6
    assert column(report, "dtn-reports-by-first-responder-type", "2025 Q1")["Police"] == 5
    assert column(report, "dtn-reports-by-first-responder-type", "2025 Q1")["Total"] == 5
    assert column(report, "nrm-referrals-by-first-responder-type", "2025 Q1")["Non-governmental organisation"] == 16
    assert column(report, "nrm-referrals-by-nationality", "2025 Q1") == {"Albanian": 10, "Vietnamese": 6,
                                                                          "Total": 16}
    assert column(report, "dtn-reports-by-nationality", "2025 Q1") == {"Albanian": 5, "Total": 5}
    assert {row.label for row in next(t for t in report.tables if t.id == "nrm-referrals-by-age-group").rows} == {
        "Adult", "Child", "Not specified or unknown", "Total"}
    assert column(report, "nrm-referrals-by-gender", "2025 Q1") == {
        "Female": 10, "Male": 6, "Does not identify as male or female": 0, "Not recorded": 0, "Total": 16}


def test_exploitation_types_are_grouped_as_published_and_split_by_age(app: Flask) -> None:
    report = report_for(app, "2025")
    child = column(report, "nrm-referrals-by-exploitation-type-child", "2025 Q1")
    assert child == {"Labour": 5, "Sexual": 6, "Criminal": 6, "Domestic servitude": 0, "Organ harvesting": 0,
                     "Not specified or unknown": 0, "Total": 11}  # the total is the age table's cell
    assert column(report, "nrm-referrals-by-exploitation-type-adult", "2025 Q1")["Labour"] == 5
    assert column(report, "dtn-reports-by-exploitation-type", "2025 Q1")["Sexual"] == 5
    charts = {t.id for t in report.tables if t.chart == "stacked-bar"}
    assert {"nrm-referrals-by-age-group", "nrm-referrals-by-exploitation-type-adult"} <= charts


def test_police_force_area_region_and_local_authority(app: Flask) -> None:
    report = report_for(app, "2025")
    regions = column(report, "nrm-referrals-by-region", "2025 Q1")
    assert regions["South East"] == 10 and regions["West Midlands"] == 6
    assert regions["Not reported to the police"] == 0 and regions["Total"] == 16
    forces = column(report, "nrm-referrals-by-police-force-area", "2025 Q1")
    assert forces["Kent Police"] == 10 and forces["West Midlands Police"] == 6
    assert column(report, "nrm-referrals-by-local-authority", "2025 Q1")["Birmingham City Council"] == 6


def test_the_forces_of_a_hidden_region_never_give_it_away(app: Flask) -> None:
    """2023 Q2: 6 in the South East (Kent), 1 in London (the Met): London is "<5", the South East
    hidden with it, and so are all their forces, Kent's 6 included."""
    report = report_for(app, "2023")
    regions = column(report, "nrm-referrals-by-region", "2023 Q2")
    assert regions["London"] == SMALL and regions["South East"] == HIDDEN and regions["Total"] == 7
    forces = column(report, "nrm-referrals-by-police-force-area", "2023 Q2")
    assert forces["Kent Police"] == HIDDEN and forces["Metropolitan Police Service"] == HIDDEN
    notes = next(t for t in report.tables if t.id == "nrm-referrals-by-region").notes
    assert any(note.startswith("2023 Q2: 1 count(s) of 1 to 4") for note in notes)


def test_decisions_reviews_and_reconsiderations_are_counted_by_the_date_they_were_made(app: Flask) -> None:
    report = report_for(app, "2025")
    rg = table(report, "rg-decisions-by-outcome")
    assert rg["Positive"]["2025 Q1"] == 5 and rg["Negative"]["2025 Q1"] == 0
    assert rg["Negative"]["2025 Q2"] == 5  # referred in Q1, decided in Q2: counted in Q2
    assert table(report, "panel-reviews-by-outcome")["Negative decision upheld"]["2025 Q2"] == 5
    assert table(report, "reconsiderations")["Asked by the support provider"]["2025 Q2"] == 5
    days = table(report, "days-to-decision")
    assert days["Median days to Reasonable Grounds decision"]["2025 Q1"] == 4.0  # 2, 3, 4, 5, 6
    assert days["90th percentile days to Reasonable Grounds decision"]["2025 Q1"] == 5.6
    assert days["Median days to Reasonable Grounds decision"]["2025 Q2"] == 10.0
    assert days["Median days to Conclusive Grounds decision"]["2025 Q1"] is None  # fewer than 5


def test_percentile_cont_interpolates_like_postgresql() -> None:
    assert percentile_cont([2, 3, 4, 5, 6], 0.9) == pytest.approx(5.6)
    assert percentile_cont([1, 10], 0.5) == 5.5 and percentile_cont([7], 0.9) == 7


def test_quarters_are_uk_dates(app: Flask) -> None:
    rows = table(report_for(app, "2024"), "nrm-referrals-by-age-group")
    assert rows["Total"]["2024 Q1"] == 5 and rows["Total"]["2024 Q2"] == 6


def test_statistics_never_decrypt_a_payload(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("a payload was decrypted")

    monkeypatch.setattr(FieldCipher, "decrypt_json", refuse)
    assert column(report_for(app, "2025"), "nrm-referrals-by-age-group", "2025 Q1")["Total"] == 16


# --- across periods and tables ------------------------------------------------------------------

def published_cells(report: Report) -> dict[tuple[str, str, str], Any]:
    return {(t.id, row.label, quarter): cell for t in report.tables for row in t.rows
            for quarter, cell in zip(t.columns, row.cells)}


def test_two_overlapping_periods_cannot_single_out_a_case(app: Flask, tokens: dict[str, str]) -> None:
    """The issue's attack: 1-24 October against 1-25 October showed a "<5" Eritrean DtN report made
    on 25 October. Now (1) dates cannot be asked for; (2) on 25 October the quarter has not ended, so
    it is not shown at all, and nothing shown changes from the 24th to the 25th; (3) once it has
    ended, every period that includes 2020 Q4 shows exactly the same 2020 Q4 cells, no period shows a
    figure over several quarters for a breakdown, so no two periods can be subtracted to isolate
    anything smaller than a quarter, and the Eritrean report is hidden in all of them."""
    headers = {"Authorization": f"Bearer {tokens['analyst']}"}
    for query in ("from=2020-10-01&to=2020-10-24", "from=2020-10-01&to=2020-10-25", "period=2020-10-25"):
        response = app.test_client().get(f"/api/v1/stats?{query}", headers=headers)
        assert response.status_code == 400 and response.get_json()["code"] == "invalid_period"

    with pytest.raises(InvalidPeriod):
        parse("2020Q4", date(2020, 10, 25))
    before, after = (published_cells(report_for(app, "2020Q3", date(2020, 10, day))) for day in (24, 25))
    assert before == after  # the 25th's report changes nothing that can be shown

    later = date(2021, 12, 1)
    codes = ["2020Q4", "2021Q1", "2021Q2", "2021Q3", "2020", "12m-2020Q4", "12m-2021Q1", "12m-2021Q2",
             "12m-2021Q3"]
    pages = {code: published_cells(report_for(app, code, later)) for code in codes}
    october = [(key, cell) for page in pages.values() for key, cell in page.items() if key[2] == "2020 Q4"]
    assert len({key for key, _ in october}) < len(october)  # 2020 Q4 is on many pages ...
    merged: dict[tuple[str, str, str], Any] = {}
    for key, cell in october:
        assert merged.setdefault(key, cell) == cell, key  # ... and reads the same on every one
    eritrean = {cell for (table_id, label, _), cell in merged.items() if label == "Eritrean"}
    assert eritrean == {SMALL}
    nationality = {label: cell for (table_id, label, _), cell in merged.items()
                   if table_id == "dtn-reports-by-nationality"}
    assert nationality["Total"] == 25 and list(nationality.values()).count(HIDDEN) >= 1  # secondary suppression
    for page in pages.values():  # every column is one quarter: nothing over several quarters to subtract
        assert all(re.fullmatch(r"\d{4} Q[1-4]", quarter) for _, _, quarter in page)


def test_a_quarter_reads_the_same_in_every_period_and_table(app: Flask) -> None:
    """Each quarter is suppressed on its own counts: 2025 Q1 in the year, the rolling 12 months to
    2025 Q1, 2025 Q4 (its earlier columns) and 2025 Q1's own page is cell for cell the same."""
    pages = [published_cells(report_for(app, code)) for code in ("2025", "12m-2025Q1", "2025Q1", "2025Q4")]
    q1 = [{key: cell for key, cell in page.items() if key[2] == "2025 Q1"} for page in pages]
    assert len(q1[0]) > 50
    for one, other in itertools.combinations(q1, 2):
        for key in one.keys() | other.keys():  # a long list leaves out rows with nothing to show
            assert one.get(key, 0) == other.get(key, 0), key


# --- the JSON API -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [*ROLES, None])
def test_api_roles(app: Flask, tokens: dict[str, str], role: str | None) -> None:
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
    response = app.test_client().get("/api/v1/stats?period=2025", headers=headers)
    expected = 200 if role in ("analyst", "admin") else 401 if role is None else 403
    assert response.status_code == expected, response.get_data(as_text=True)


def test_api_returns_the_report_as_documented(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['analyst']}"}
    body = client.get("/api/v1/stats?period=2025", headers=headers).get_json()
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        today = datetime.now(timezone.utc).date()
        assert body == json.loads(json.dumps(as_json(build(session, parse("2025", today), today))))
    spec = document()
    validator = Draft202012Validator({"components": spec["components"], "$ref": "#/components/schemas/Report"})
    latest = client.get("/api/v1/stats", headers=headers).get_json()
    for result in (body, latest):
        assert not list(validator.iter_errors(result))
    assert body["period_code"] == "2025" and body["tables"][0]["columns"] == ["2025 Q1", "2025 Q2", "2025 Q3",
                                                                               "2025 Q4"]
    no_case_data(json.dumps(body))


@pytest.mark.parametrize(("query", "says"), [
    ("from=2026-01-01", "period=2026Q3"), ("to=2026-03-31", "period=2026Q3"), ("period=2026-03", "2026Q3"),
    ("period=2999Q1", "has not ended"),
])
def test_api_rejects_dates_and_bad_periods(app: Flask, tokens: dict[str, str], query: str, says: str) -> None:
    response = app.test_client().get(f"/api/v1/stats?{query}", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_period" and says in body["error"]
    assert app.test_client().get(f"/api/v1/stats?{query}").status_code == 401  # the token is checked first


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


def test_the_page_shows_every_table_with_its_notes_and_the_suppression_explained(app: Flask) -> None:
    client = signed_in(app, "analyst")
    html = page_text(client.get("/casework/stats?period=2023"))
    report = report_for(app, "2023")
    for stat in report.tables:
        pattern = rf'<caption class="govuk-table__caption[^"]*">\s*{re.escape(stat.title)}\s*</caption>'
        assert re.search(pattern, html), stat.title
        assert f'id="{stat.id}"' in html
    assert html.count("<table") == len(report.tables)
    assert 'scope="col"' in html and 'scope="row"' in html and "govuk-table__cell--numeric" in html
    assert 'id="suppression-explained"' in html and "&lt;5" in html and "[c]" in html
    assert "2023 Q2: withheld" in html or "2023 Q2: 1 count(s) of 1 to 4" in html  # what was suppressed
    assert "Modern Slavery: NRM and Duty to Notify statistics, January to December 2023" in html
    no_case_data(html)
    assert signed_in(app, "admin").get("/casework/stats").status_code == 200  # the latest quarter
    assert signed_in(app, "caseworker").get("/casework/stats").status_code == 403


def test_the_page_chrome_is_translated(app: Flask) -> None:
    html = page_text(signed_in(app, "analyst").get("/casework/stats?period=2023", headers={"Accept-Language": "cy"}))
    assert "Ystadegau" in html and 'lang="en"' in html  # Welsh chrome, the English release marked as such


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-03-02&to=2026-03-30", "Enter a whole quarter such as 2026Q3"),
    ("period=2026-10-24", "Enter a whole quarter such as 2026Q3"),
    ("period=2999Q1", "2999Q1 has not ended yet"),
])
def test_the_page_explains_a_bad_period(app: Flask, query: str, message: str) -> None:
    response = signed_in(app, "analyst").get(f"/casework/stats?{query}")
    html = page_text(response)
    assert response.status_code == 400
    assert "<title>Error: Statistics - NRM Referral Assistant</title>" in html
    assert "govuk-error-summary" in html and 'href="#period"' in html and message in html
    assert "govuk-error-message" in html and "<table" not in html


# --- nrm stats ----------------------------------------------------------------------------------

def test_cli_gives_the_same_figures_as_the_page_in_text_and_json(app: Flask) -> None:
    runner = app.test_cli_runner()
    as_json_output = runner.invoke(args=["stats", "--quarter", "2023Q2", "--format", "json"])
    assert as_json_output.exit_code == 0, as_json_output.output
    today = datetime.now(timezone.utc).date()
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        report = build(session, parse("2023Q2", today), today)
    assert json.loads(as_json_output.output) == json.loads(json.dumps(as_json(report)))
    text = runner.invoke(args=["stats", "--quarter", "2023Q2"])
    assert text.exit_code == 0 and text.output == text_report(report)
    assert "\nNRM referrals by region of exploitation, by quarter\n" in text.output
    assert re.search(r"^  London +0 +0 +0 +0 +<5$", text.output, re.M)
    no_case_data(text.output)


def test_cli_rejects_a_bad_period(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["stats", "--quarter", "2026-02-30"])
    assert result.exit_code == 2 and "2026Q3" in result.output
    assert app.test_cli_runner().invoke(args=["stats", "--from", "2026-01-01"]).exit_code == 2


# --- downloads and charts (backend.statistics.downloads and charts render the same Report) -------

def test_the_page_offers_the_same_report_as_csv_and_ods(app: Flask) -> None:
    client = signed_in(app, "analyst")
    html = page_text(client.get("/casework/stats?period=2023"))
    assert 'href="/casework/stats/download.csv?period=2023"' in html
    assert 'href="/casework/stats/download.ods?period=2023"' in html
    report = report_for(app, "2023", datetime.now(timezone.utc).date())
    csv_response = client.get("/casework/stats/download.csv?period=2023")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert csv_response.get_data() == downloads.to_csv(report).encode(downloads.CSV_ENCODING)
    assert 'attachment; filename="' in csv_response.headers["Content-Disposition"]
    no_case_data(csv_response.get_data().decode("utf-8-sig"))
    ods = client.get("/casework/stats/download.ods?period=2023")
    assert ods.status_code == 200 and ods.mimetype == downloads.ODS_MEDIA_TYPE
    assert ods.get_data()[:2] == b"PK"  # an OpenDocument zip
    bad = client.get("/casework/stats/download.csv?period=2023-05-01")
    assert bad.status_code == 302 and "/casework/stats?period=2023-05-01" in bad.headers["Location"]
    assert client.get("/casework/stats/download.xls?period=2023").status_code == 404
    assert signed_in(app, "caseworker").get("/casework/stats/download.csv?period=2023").status_code == 403


def test_charts_stand_beside_their_tables(app: Flask) -> None:
    html = page_text(signed_in(app, "analyst").get("/casework/stats?period=2025"))
    report = report_for(app, "2025")
    charted = [t.id for t in report.tables if t.chart == "stacked-bar"]
    assert html.count('class="app-chart"') == len(charted) >= 4
    for table_id in charted:  # the chart, then its table, in the same block
        block = html[html.index(f'id="{table_id}"'):]
        assert block.index("<svg") < block.index("<table")


def test_cli_writes_the_same_csv_and_ods(app: Flask, tmp_path) -> None:
    runner = app.test_cli_runner()
    today = datetime.now(timezone.utc).date()
    report = report_for(app, "2023Q2", today)
    as_csv = runner.invoke(args=["stats", "--quarter", "2023Q2", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    assert as_csv.stdout_bytes == downloads.to_csv(report).encode(downloads.CSV_ENCODING)
    target = tmp_path / "stats.ods"
    as_ods = runner.invoke(args=["stats", "--quarter", "2023Q2", "--format", "ods", "--output", str(target)])
    assert as_ods.exit_code == 0 and target.read_bytes()[:2] == b"PK"


HOSTILE = ["", " ", "x" * 100_000, "2026Q3\x00", "2026\x01Q3", "%ED%A0%80", "٢٠٢٦Q3", "2026Q3%0A2026Q2"]
"""Empty, blank, huge, NUL, a control character, a lone surrogate (percent-encoded), Arabic-Indic
digits and a smuggled newline: typed or pasted into a period, a cursor or a reference."""


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_period_cursor_or_reference_is_a_clear_400_never_a_500(app: Flask, tokens: dict[str, str],
                                                                          value: str) -> None:
    client = app.test_client()
    analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
    caseworker = {"Authorization": f"Bearer {tokens['caseworker']}"}
    stats = client.get(f"/api/v1/stats?period={value}", headers=analyst)
    if value == "٢٠٢٦Q3":  # Arabic-Indic digits read as the quarter they spell
        assert stats.status_code == 200 and stats.get_json()["period_code"] == "2026Q3"
    elif value.strip():
        # control characters are refused for every request by the shared guard (invalid_text)
        assert stats.status_code == 400 and stats.get_json()["code"] in ("invalid_period", "invalid_text")
    else:  # no period: the latest ended quarter
        assert stats.status_code == 200
    cursor = client.get(f"/api/v1/queues/decision?after={value}", headers=caseworker)
    assert cursor.status_code in (200, 400) and cursor.is_json
    if value.strip():
        assert cursor.status_code == 400 and cursor.get_json()["code"] in ("invalid_query", "invalid_text")
    reference = client.get(f"/api/v1/queues/decision?reference={value}", headers=caseworker)
    assert reference.status_code in (200, 400) and reference.is_json
    if reference.status_code == 200:  # no case has such a reference
        assert reference.get_json()["cases"] == [] or not value.strip()
