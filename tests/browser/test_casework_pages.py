"""The casework pages in a real Chromium: a caseworker claims the next case from the decision queue
and decides it negative; an independent panel member returns it for reconsideration.

``NRM_UPDATE_SCREENSHOTS=1`` (see ``scripts/screenshot-casework.sh``) also writes
docs/decision-queue.png and docs/case-page.png.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend import auth, db, lifecycle, queues
from backend.calendar import uk_date
from backend.db import utcnow
from backend.intake import submit
from backend.models import Case, User
from tests.browser.conftest import PASSWORD, LiveServer
from tests.flows.conversation import walked_payload

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
QUEUE_SCREENSHOT = ROOT / "docs" / "decision-queue.png"
CASE_SCREENSHOT = ROOT / "docs" / "case-page.png"
CASEWORKER = "caseworker@example.org"
CASEWORKER2 = "caseworker2@example.org"
PANEL = "panel@example.org"


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> dict[str, str]:
    """Staff, and a decision queue with a child overdue, an urgent adult, an adult, a case claimed by
    another caseworker and a CG decision; returns their references by name."""
    app = live_server.app
    references: dict[str, str] = {}
    with app.app_context(), db.get_db(app).transaction() as session:
        caseworker = auth.create_user(session, CASEWORKER, "caseworker", PASSWORD)
        other = auth.create_user(session, CASEWORKER2, "caseworker", PASSWORD)
        auth.create_user(session, PANEL, "panel", PASSWORD, organisation="Independent Review Panel")
        today = uk_date(utcnow())

        def referral(name: str, kind: str, due_in_days: int, still_exploited: bool = False) -> Case:
            payload = walked_payload(kind)
            if still_exploited:  # an urgent case (backend.priority)
                answers = payload["answers"]
                answers["still-in-exploitative-situation"] = "yes"
                answers.pop("how-why-did-they-leave-the-situation")
                answers["what-is-keeping-them-in-situation"] = "Debt to the gang master"
            case = submit(session, payload, None, actor=f"user:{caseworker.id}")
            case.rg_due_date = today + timedelta(days=due_in_days)
            references[name] = case.reference
            return case

        referral("child", "child", -2)
        referral("urgent", "adult", -1, still_exploited=True)
        referral("adult", "adult", 4)
        referral("claimed", "adult", 5)
        queues.claim(session, references["claimed"], other)
        cg = referral("cg", "adult", -30)
        queues.claim(session, cg.reference, other)
        lifecycle.decide(session, cg.reference, other, "rg", "positive", "Consistent account.")
        cg.cg_not_before = today  # the recovery period is over: the CG decision is due
        lifecycle.end_recovery(session, cg.reference)
    return references


def sign_in(page: Any, server: LiveServer, email: str, lands_on: str) -> None:
    page.goto(server.url + "/casework/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(server.url + lands_on)


def screenshot(page: Any, target: Path, tmp_path: Path) -> None:
    """Always take it (a PNG must come out); copy it into docs/ only when asked to."""
    shot = tmp_path / target.name
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("NRM_UPDATE_SCREENSHOTS") == "1":
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(shot.read_bytes())


def status_of(server: LiveServer, reference: str) -> str:
    with server.app.app_context(), db.get_db(server.app).transaction(readonly=True) as session:
        return session.scalars(select(Case.status).where(Case.reference == reference)).one()


def test_a_caseworker_decides_negative_and_the_panel_returns_it(page: Any, live_server: LiveServer,
                                                                 seeded: dict[str, str], tmp_path: Path) -> None:
    url = live_server.url
    sign_in(page, live_server, CASEWORKER, "/casework/")

    # the queue: priority first, the overdue tag in red, the other caseworker's claim
    queue = page.locator("#decision-queue")
    assert "5 cases waiting for a decision, 2 overdue" in queue.locator("caption").inner_text()
    first = queue.locator("tbody tr").first
    assert first.locator("th").inner_text() == seeded["child"]
    overdue = first.locator(".govuk-tag--red")
    assert overdue.inner_text().strip() == "Overdue"
    assert overdue.evaluate("el => getComputedStyle(el).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert CASEWORKER2 in queue.locator("tr", has_text=seeded["claimed"]).inner_text()
    assert "CG" in queue.locator("tr", has_text=seeded["cg"]).inner_text()
    page.set_viewport_size({"width": 1280, "height": 760})
    screenshot(page, QUEUE_SCREENSHOT, tmp_path)

    # claim next opens the child's case, claimed
    page.click("#claim-next")
    page.wait_for_url(f"{url}/casework/cases/{seeded['child']}")
    assert "You have claimed case" in page.inner_text(".govuk-notification-banner--success")

    # nothing chosen: the GOV.UK error summary, linking to the fields
    page.click("#record-decision")
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()  # the answer to the POST may still be loading (is_visible() does not wait)
    assert summary.is_visible()
    assert "Select whether the decision is positive or negative" in summary.inner_text()
    assert "Enter the reasons for the decision" in summary.inner_text()
    assert page.title().startswith("Error: ")
    summary.locator("a[href='#reasons']").click()
    assert page.evaluate("document.activeElement.id") == "reasons"

    page.check("#outcome-2")  # negative
    page.fill("#reasons", "No indicators of control or exploitation in the account given.")
    page.click("#record-decision")
    assert "You are about to record a negative" in page.inner_text("#confirm-warning")  # the confirm step
    page.click("#confirm-negative")
    page.wait_for_url(f"{url}/casework/")
    assert "now in the review queue" in page.inner_text(".govuk-notification-banner--success")
    assert seeded["child"] not in page.inner_text("#decision-queue")
    assert status_of(live_server, seeded["child"]) == "rg_review"

    # the panel member signs in, finds it in the review queue and returns it
    page.click("[data-testid='sign-out']")
    page.wait_for_url(f"{url}/casework/sign-in?signed-out=1")
    sign_in(page, live_server, PANEL, "/casework/review")
    page.click(f"#review-queue a:has-text('{seeded['child']}')")
    page.wait_for_url(f"{url}/casework/cases/{seeded['child']}")
    assert "RG negative, awaiting panel review" in page.inner_text("#case-status")
    assert "No indicators of control" in page.inner_text("#timeline")
    page.check("#outcome-2")  # returned
    page.fill("#reasons", "The account of debt bondage was not weighed: decide again.")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, CASE_SCREENSHOT, tmp_path)
    page.click("#record-review")
    page.wait_for_url(f"{url}/casework/review")
    assert "returned to the decision queue" in page.inner_text(".govuk-notification-banner--success")
    assert status_of(live_server, seeded["child"]) == "awaiting_rg"


def test_the_queue_works_from_the_keyboard(page: Any, live_server: LiveServer, seeded: dict[str, str]) -> None:
    sign_in(page, live_server, CASEWORKER2, "/casework/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className").startswith("govuk-skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    page.keyboard.press("Tab")  # the first thing in the page: Claim next case
    focused = page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el);
        return {id: el.id, outline: style.outlineStyle, shadow: style.boxShadow, background: style.backgroundColor};
    }""")
    assert focused["id"] == "claim-next"
    assert focused["outline"] != "none" or focused["shadow"] != "none"  # the GOV.UK focus state
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/casework/cases/**")
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        me = session.scalars(select(User.id).where(User.email == CASEWORKER2)).one()
        reference = page.url.rsplit("/", 1)[1]
        assert session.scalars(select(Case.claimed_by_id).where(Case.reference == reference)).one() == me
