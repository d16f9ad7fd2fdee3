"""A case awaiting information shows it: a tag and "Clock paused since" on the case page, a tag and
a filter on the decision queue, ``awaiting_information`` in the JSON API; and the days it waits
never make it overdue."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from backend import auth, db, lifecycle, queues
from backend.calendar import uk_date
from backend.db import utcnow
from backend.models import User
from backend.outbound.models import InformationRequest
from tests.bot.sms_support import SmsPhone
from tests.outbound.casework import ask
from tests.outbound.conftest import make_staff, submit_referral
from tests.outbound.pages import signed_in_client

QUESTION = "Which town was the last address the person lived at before they left?"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _api(app: Flask) -> dict[str, str]:
    with app.app_context(), db.get_db(app).transaction() as session:
        user = auth.create_user(session, f"api-{utcnow().timestamp()}@example.org", "caseworker",
                                "correct horse battery staple")
        return {"Authorization": f"Bearer {auth.create_token(session, user)}"}


def _set_clock(app: Flask, reference: str, *, due: date, asked: date) -> None:
    """The case's RG due date and the day its open request was asked (through the ORM, so its
    queue columns follow)."""
    with app.app_context(), db.get_db(app).transaction() as session:
        case = lifecycle.lock_case(session, reference)
        case.rg_due_date, case.awaiting_information_since = due, asked
        session.flush()


def test_the_case_page_header_shows_awaiting_information_and_the_clock_paused_until_the_answer(
        outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    ask(outbound_app, reference, make_staff(outbound_app, "caseworker"), QUESTION)
    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        lapses = session.scalars(select(InformationRequest.lapses_on)).one()
    client, _ = signed_in_client(outbound_app, "caseworker")
    page = client.get(f"/casework/cases/{reference}").get_data(as_text=True)
    header = page.split('id="case-header"', 1)[1].split('id="information"', 1)[0]
    assert 'id="tag-awaiting-information"' in header and "Awaiting information" in header
    assert (f"Clock paused since {_day(uk_date(utcnow()))}: the referrer has until "
            f"{_day(lapses)} to answer") in header

    SmsPhone(outbound_app).send(f"INFO {reference} Leeds")
    page = client.get(f"/casework/cases/{reference}").get_data(as_text=True)
    assert 'id="tag-awaiting-information"' not in page and "Clock paused since" not in page


def test_the_decision_queue_tags_cases_awaiting_information_and_filters_on_it(outbound_app: Flask) -> None:
    asked, other = submit_referral(outbound_app), submit_referral(outbound_app)
    ask(outbound_app, asked, make_staff(outbound_app, "caseworker"), QUESTION)
    client, _ = signed_in_client(outbound_app, "caseworker")

    def rows(query: str = "") -> dict[str, str]:
        page = client.get(f"/casework/{query}").get_data(as_text=True)
        body = page.split('id="decision-queue"', 1)[1] if 'id="decision-queue"' in page else ""
        return {row.split("</bdi>", 1)[0].rsplit(">", 1)[1]: row for row in body.split("<tr")[2:]}

    everything = rows()
    assert "app-awaiting-information" in everything[asked] and "Awaiting information" in everything[asked]
    assert "app-awaiting-information" not in everything[other]
    assert list(rows("?awaiting_information=yes")) == [asked]
    assert list(rows("?awaiting_information=no")) == [other]
    assert 'id="filter-awaiting_information"' in client.get("/casework/").get_data(as_text=True)

    headers = _api(outbound_app)
    api = outbound_app.test_client()
    entries = {entry["reference"]: entry for entry in
               api.get("/api/v1/queues/decision", headers=headers).get_json()["cases"]}
    assert (entries[asked]["awaiting_information"], entries[other]["awaiting_information"]) == (True, False)
    only = api.get("/api/v1/queues/decision?awaiting_information=yes", headers=headers).get_json()
    assert [entry["reference"] for entry in only["cases"]] == [asked] and only["count"] == 1
    assert api.get("/api/v1/queues/decision?awaiting_information=maybe", headers=headers).status_code == 400
    detail = api.get(f"/api/v1/cases/{asked}", headers=headers).get_json()
    assert detail["awaiting_information"] is True
    assert detail["awaiting_information_since"] == uk_date(utcnow()).isoformat()
    assert api.get(f"/api/v1/cases/{other}", headers=headers).get_json()["awaiting_information"] is False


def test_a_due_date_that_passed_while_the_case_awaited_information_does_not_make_it_overdue(
        outbound_app: Flask) -> None:
    waited, late_before = submit_referral(outbound_app), submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")
    ask(outbound_app, waited, caseworker, QUESTION)
    ask(outbound_app, late_before, caseworker, QUESTION)
    today = uk_date(utcnow())
    _set_clock(outbound_app, waited, due=today - timedelta(days=5), asked=today - timedelta(days=10))
    _set_clock(outbound_app, late_before, due=today - timedelta(days=12), asked=today - timedelta(days=10))

    with outbound_app.app_context(), db.get_db(outbound_app).transaction(readonly=True) as session:
        page = queues.decision_page(session)
        flags = {entry.reference: entry.overdue for entry in page.entries}
        assert flags == {waited: False, late_before: True}  # overdue before it was asked: still overdue
        assert page.overdue == 1
        overdue_only = queues.decision_page(session, filters=queues.QueueFilters(overdue=True))
        assert [entry.reference for entry in overdue_only.entries] == [late_before]

    client, _ = signed_in_client(outbound_app, "caseworker")
    page = client.get(f"/casework/cases/{waited}").get_data(as_text=True)
    assert 'id="tag-overdue"' not in page and "(overdue)" not in page
    assert 'id="tag-overdue"' in client.get(f"/casework/cases/{late_before}").get_data(as_text=True)
    headers = _api(outbound_app)
    assert outbound_app.test_client().get(f"/api/v1/cases/{waited}", headers=headers).get_json()["overdue"] is False


def test_a_decided_case_with_its_question_still_open_is_not_awaiting_information(outbound_app: Flask) -> None:
    reference = submit_referral(outbound_app)
    caseworker = make_staff(outbound_app, "caseworker")
    ask(outbound_app, reference, caseworker, QUESTION)
    with outbound_app.app_context(), db.get_db(outbound_app).transaction() as session:
        lifecycle.decide(session, reference, session.get(User, caseworker), "rg", "negative", "rg negative: reasons")
        case = lifecycle.lock_case(session, reference)
        assert case.status == "rg_review" and not queues.awaiting_information(case)
