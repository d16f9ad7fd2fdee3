"""The case page and decisions as a decision maker needs them (issue 12): the case's header, the
referral labelled for the decision maker before the decision form, a minimum length for reasons,
the confirm step before a negative decision, panel claims of reviews, and dates in the page
language with left-to-right values isolated."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from backend import auth, db
from backend.casework.labels import FIELD_LABELS, SECTION_LABELS
from backend.casework_pages import _answer_properties
from tests.backend.test_casework_pages import (PASSWORD, app, case_row, clients, email, new_case,  # noqa: F401
                                               post, signed_in, text)

SECOND_PERSON = re.compile(r"\b(you|your|yours)\b", re.IGNORECASE)
LONG_REASONS = "The account is detailed and consistent with the indicators of forced labour."


def test_the_case_header_shows_age_group_exploitation_types_stage_due_date_and_tags(app: Flask,
                                                                                    clients: Any) -> None:
    reference = new_case(app, "child", overdue=True)
    page = text(clients("caseworker").get(f"/casework/cases/{reference}"))
    header = page[page.index('id="case-header"'):page.index('id="referral"')]
    assert f'<bdi dir="ltr">{reference}</bdi>' in header
    assert re.search(r"Age group </dt> <dd[^>]*> Child </dd>", header)
    assert re.search(r"Types of exploitation </dt> <dd[^>]*> Forced to work for little or no pay </dd>", header)
    assert re.search(r"Stage </dt> <dd[^>]*> Reasonable Grounds </dd>", header)
    assert re.search(r"RG decision due </dt> <dd[^>]*> \d+ \w+ \d{4} \(overdue\) </dd>", header)
    assert 'id="tag-child"' in header and 'id="tag-overdue"' in header and 'id="returned-tag"' not in header


def test_the_referral_is_labelled_for_the_decision_maker_and_comes_before_the_decision_form(
        app: Flask, clients: Any) -> None:
    reference = new_case(app, "adult")
    client = clients("caseworker")
    path = f"/casework/cases/{reference}"
    post(client, f"{path}/claim", token_from=path)
    page = text(client.get(path))
    assert page.index('id="referral"') < page.index('id="decision-form"') < page.index('id="history"')
    assert re.search(r"Referrer&#39;s email </dt> <dd[^>]*> <span[^>]*dir=\"ltr\">sam.jones@example.org</span>", page)
    assert "Your email" not in page and "About you" not in page
    post(client, f"{path}/release", token_from=path)


def test_every_title_written_to_the_referrer_has_a_decision_makers_label() -> None:
    properties = _answer_properties()
    unmapped = [field for field, schema in properties.items()
                if SECOND_PERSON.search(str(schema.get("title"))) and field not in FIELD_LABELS]
    assert unmapped == []
    sections = {str(schema.get("x-section")) for schema in properties.values()}
    assert [s for s in sections if SECOND_PERSON.search(s) and s not in SECTION_LABELS] == []
    assert not [label for label in [*FIELD_LABELS.values(), *SECTION_LABELS.values()] if SECOND_PERSON.search(label)]


def test_decision_reasons_shorter_than_the_configured_minimum_are_refused(app: Flask, clients: Any) -> None:
    reference = new_case(app)
    client = clients("caseworker")
    path = f"/casework/cases/{reference}"
    post(client, f"{path}/claim", token_from=path)
    page = text(client.get(path))
    assert "govuk-character-count" in page and "At least 50 characters." in page
    short = "x" * 49 + "   "  # spaces at either end do not count
    response = post(client, f"{path}/decision", {"stage": "rg", "outcome": "positive", "reasons": short},
                    token_from=path)
    assert response.status_code == 400
    assert '<a href="#reasons">Reasons must be at least 50 characters: say what the decision is based on</a>' \
        in text(response)
    assert case_row(app, reference).status == "awaiting_rg"
    app.config["DECISION_REASONS_MIN_CHARS"] = 100
    try:
        response = post(client, f"{path}/decision", {"stage": "rg", "outcome": "positive", "reasons": LONG_REASONS},
                        token_from=path)
        assert response.status_code == 400 and "at least 100 characters" in text(response)
    finally:
        app.config["DECISION_REASONS_MIN_CHARS"] = 50
    response = post(client, f"{path}/decision", {"stage": "rg", "outcome": "positive", "reasons": "y" * 50},
                    token_from=path)
    assert response.status_code == 302 and case_row(app, reference).status == "recovery"


def test_a_negative_decision_is_recorded_only_after_the_confirm_step(app: Flask, clients: Any) -> None:
    reference = new_case(app)
    client = clients("caseworker")
    path = f"/casework/cases/{reference}"
    post(client, f"{path}/claim", token_from=path)
    decision = {"stage": "rg", "outcome": "negative", "reasons": LONG_REASONS + "\nSecond line."}
    response = post(client, f"{path}/decision", decision, token_from=path)
    page = text(response)
    assert response.status_code == 200
    assert (f"You are about to record a negative Reasonable Grounds decision on case {reference}. The case then "
            "goes to an independent panel member, who will review it.") in page
    assert 'name="confirmed" value="yes"' in page and LONG_REASONS in page
    assert case_row(app, reference).status == "awaiting_rg"
    # "Change the decision": the case page with the form as it was, still nothing recorded
    response = post(client, f"{path}/decision", {**decision, "change": "1"}, token_from=path)
    page = text(response)
    assert response.status_code == 200 and 'id="decision-form"' in page
    assert 'value="negative" checked' in page and "Second line.</textarea>" in page
    assert case_row(app, reference).status == "awaiting_rg"
    response = post(client, f"{path}/decision", {**decision, "confirmed": "yes"}, token_from=path)
    assert response.status_code == 302 and case_row(app, reference).status == "rg_review"


def test_a_panel_member_claims_a_review_and_nobody_else_may_record_it(app: Flask, clients: Any) -> None:
    reference = new_case(app, negative_by="caseworker2")
    path = f"/casework/cases/{reference}"
    with app.app_context(), db.get_db(app).transaction() as session:
        other = auth.create_user(session, "panel-other@example.org", "panel", PASSWORD, "Independent Review Panel")
        other_token = auth.create_token(session, other)
    panel, second = clients("panel"), signed_in(app, "panel-other")
    assert post(panel, f"{path}/review-claim", token_from=path).status_code == 302
    assert "You, until" in text(panel.get("/casework/review"))
    queue = text(second.get("/casework/review?claimed=yes"))
    assert reference in queue and email("panel") in queue  # "being reviewed by"
    page = text(second.get(path))
    assert f'<bdi dir="ltr">{email("panel")}</bdi> is reviewing this case until' in page
    assert 'id="review-form"' not in page
    review = {"outcome": "upheld", "reasons": "The decision weighed every indicator the referral gives."}
    response = post(second, f"{path}/review", review, token_from="/casework/review")
    assert response.status_code == 409 and "is being reviewed by another panel member" in text(response)
    api = app.test_client().post(f"/api/v1/cases/{reference}/reviews", json=review,
                                 headers={"Authorization": f"Bearer {other_token}"})
    assert api.status_code == 409
    assert case_row(app, reference).status == "rg_review"
    # the holder records it, and the claim ends with the review
    assert post(panel, f"{path}/review", {**review, "outcome": "returned"}, token_from=path).status_code == 302
    case = case_row(app, reference)
    assert case.status == "awaiting_rg" and case.claimed_by_id is None


def test_a_review_claim_can_be_released(app: Flask, clients: Any) -> None:
    reference = new_case(app, negative_by="caseworker2")
    path = f"/casework/cases/{reference}"
    panel = clients("panel")
    post(panel, f"{path}/review-claim", token_from=path)
    assert post(panel, f"{path}/review-release", token_from=path).status_code == 302
    assert case_row(app, reference).claimed_by_id is None
    # a panel member of the referring organisation may not claim it (need to know: a 404)
    assert post(clients("panel-same-org"), f"{path}/review-claim", token_from="/casework/review").status_code == 404


def test_dates_and_numbers_follow_the_page_language_and_references_stay_left_to_right(app: Flask,
                                                                                      clients: Any) -> None:
    from babel.dates import format_date

    reference = new_case(app, "child")
    client = clients("caseworker")
    submitted = case_row(app, reference).submitted_at
    welsh = text(client.get(f"/casework/cases/{reference}", headers={"Accept-Language": "cy"}))
    assert format_date(submitted.date(), "MMMM", locale="cy") in welsh  # e.g. Tachwedd
    arabic = text(client.get(f"/casework/cases/{reference}", headers={"Accept-Language": "ar"}))
    assert 'dir="rtl"' in arabic and "rtl.css" in arabic
    assert f'<bdi dir="ltr">{reference}</bdi>' in arabic
    submitted_day = str(submitted.day).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert re.search(rf"{submitted_day} {format_date(submitted.date(), 'MMMM', locale='ar')}", arabic)
