"""The outbound parts of the casework pages in a real Chromium, checked with axe-core (WCAG 2.2
A/AA) in English and Arabic: a caseworker asks the referrer a question on the case page (the
messages table then lists it), and the print queue of letters to the person."""

from __future__ import annotations

from typing import Any

import pytest

from backend import auth, db, lifecycle, queues
from backend.intake import submit
from backend.models import User
from backend.outbound import information
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import PASSWORD, LiveServer
from tests.flows.conversation import walked_payload

pytestmark = pytest.mark.browser

CASEWORKER = "outbound-caseworker@example.org"
ADDRESS = {"pv-contact-details": ["post"], "pv-contact-details-street": "12 Hidden Lane",
           "pv-contact-details-town": "Wakefield", "pv-contact-details-postcode": "WF1 2AB",
           "pv-contact-details-post-check": "yes"}


@pytest.fixture(scope="module")
def cases(live_server: LiveServer) -> dict[str, str]:
    """Cases claimed by the caseworker: one to ask about on the page (English), one already asked
    about (Arabic: each language's case stands alone), and one decided (its letter to print)."""
    app = live_server.app
    with app.app_context(), db.get_db(app).transaction() as session:
        caseworker = auth.create_user(session, CASEWORKER, "caseworker", PASSWORD)
        asked = submit(session, walked_payload("adult"), None, actor="user:1")
        queues.claim(session, asked.reference, caseworker)
        asked_before = submit(session, walked_payload("adult"), None, actor="user:1")
        queues.claim(session, asked_before.reference, caseworker)
        information.ask(session, asked_before.reference, caseworker, "Which town did the person work in?")
        payload = walked_payload("adult")
        for key in ("pv-contact-details-email-input", "pv-contact-details-email-check"):
            payload["answers"].pop(key)
        payload["answers"].update(ADDRESS)
        decided = submit(session, payload, None, actor="user:1")
        queues.claim(session, decided.reference, caseworker)
        lifecycle.decide(session, decided.reference, session.get(User, caseworker.id), "rg", "positive", "reasons")
        return {"en": asked.reference, "ar": asked_before.reference, "decided": decided.reference}


def _sign_in(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/casework/sign-in")
    page.fill("#email", CASEWORKER)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(server.url + "/casework/")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_asking_the_referrer_on_the_case_page_and_the_print_queue_have_no_wcag_violation(
        chromium: Any, live_server: LiveServer, cases: dict[str, str], language: str) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale=language)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        _sign_in(page, live_server)
        page.goto(f"{live_server.url}/casework/cases/{cases['decided']}")
        assert page.locator("#outbox").is_visible()
        assert_accessible(page, f"the case page with its messages ({language})")
        reference = cases[language]
        page.goto(f"{live_server.url}/casework/cases/{reference}")
        if language == "en":
            assert page.locator("#information-form").is_visible()
            assert_accessible(page, "the case page with the question form (en)")
            page.fill("#question", "Which town did the person live in before they left?")
            page.click("#send-question")
            page.wait_for_selector("#awaiting-information")  # the page after the POST, not the form
        assert page.locator("#awaiting-information").is_visible()
        assert page.locator("#tag-awaiting-information").is_visible()
        assert page.locator(".app-clock-paused").is_visible()
        assert_accessible(page, f"the case page awaiting information ({language})")
        page.goto(f"{live_server.url}/casework/?awaiting_information=yes")
        rows = page.locator("#decision-queue tbody tr")
        assert rows.count() >= 1 and rows.locator(".app-awaiting-information").count() == rows.count()
        assert rows.filter(has_text=reference).locator(".app-awaiting-information").count() == 1
        assert_accessible(page, f"the decision queue of cases awaiting information ({language})")
        page.goto(f"{live_server.url}/casework/letters")
        assert page.locator(".govuk-summary-card").count() >= 1 and "12 Hidden Lane" in page.content()
        assert_accessible(page, f"the print queue ({language})")
    finally:
        context.close()
