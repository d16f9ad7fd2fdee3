"""axe-core (WCAG 2.2 A and AA) over every casework, admin, footer and error page and state these
browser tests reach, as each demo role, in English and in Arabic; a whole decision made with the
keyboard alone; and the screenshots of the case page and the admin area.

``NRM_UPDATE_SCREENSHOTS=1`` writes docs/casework-case-page.png and docs/admin-area.png.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from backend import auth, db, lifecycle, queues
from backend.calendar import uk_date
from backend.db import utcnow
from backend.intake import submit
from tests.browser.accessibility import describe, violations
from tests.browser.conftest import PASSWORD, LiveServer
from tests.flows.conversation import walked_payload

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CASE_SCREENSHOT = ROOT / "docs" / "casework-case-page.png"
ADMIN_SCREENSHOT = ROOT / "docs" / "admin-area.png"
LONG_REASONS = "No indicator of control, coercion or exploitation appears in the account given or the records."
STAFF = {"caseworker": "caseworker", "keyboard": "caseworker", "decider": "caseworker", "panel": "panel",
         "analyst": "analyst", "admin": "admin", "operator": "operator", "leaver": "caseworker"}
CHECKED: list[tuple[str, int]] = []
"""Every page and state axe checked in this module, with its violation count (printed at the end)."""


def email(name: str) -> str:
    return f"{name}@example.org"


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> Iterator[dict[str, str]]:
    """The demo roles, a child's case overdue, an urgent adult's, and a negative decision waiting
    for the panel; the references by name."""
    app = live_server.app
    refs: dict[str, str] = {}
    with app.app_context(), db.get_db(app).transaction() as session:
        users = {name: auth.create_user(session, email(name), role, PASSWORD,
                                        organisation="Independent Review Panel" if role == "panel" else
                                        ("The Salvation Army" if role == "operator" else None))
                 for name, role in STAFF.items()}
        auth.create_token(session, users["analyst"])
        today = uk_date(utcnow())
        for name, kind, due in (("child", "child", -2), ("adult", "adult", 3), ("keyboard", "adult", 4),
                                ("review", "adult", 5)):
            case = submit(session, walked_payload(kind), None, actor=f"user:{users['decider'].id}")
            case.rg_due_date = today + timedelta(days=due)
            refs[name] = case.reference
        queues.claim(session, refs["review"], users["decider"])
        lifecycle.decide(session, refs["review"], users["decider"], "rg", "negative", LONG_REASONS)
        refs["leaver_id"] = str(users["leaver"].id)
    yield refs
    print("\naxe-core (WCAG 2.2 A/AA) pages and states checked:")
    for where, count in CHECKED:
        print(f"  {count} violations  {where}")
    print(f"  {len(CHECKED)} checked, {sum(count for _, count in CHECKED)} violations in all")


def check(page: Any, where: str) -> None:
    """axe on the page as it is now: recorded for the module's summary, and a failure if any."""
    found = violations(page)
    CHECKED.append((where, len(found)))
    assert found == [], f"axe found WCAG 2.2 A/AA violations on {where}:\n{describe(found)}"


def sign_in(page: Any, server: LiveServer, name: str) -> None:
    page.goto(server.url + "/casework/sign-in")
    page.fill("#email", email(name))
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_load_state()
    assert "/casework/sign-in" not in page.url, f"{name} could not sign in"


def screenshot(page: Any, target: Path, tmp_path: Path) -> None:
    shot = tmp_path / target.name
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("NRM_UPDATE_SCREENSHOTS") == "1":
        target.write_bytes(shot.read_bytes())


@pytest.fixture(params=["en", "ar"])
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def context_page(chromium: Any, language: str) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale=language)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_footer_and_error_pages_have_no_wcag_violation(context_page: Any, live_server: LiveServer,
                                                        seeded: dict[str, str], language: str) -> None:
    page = context_page
    for path in ("/accessibility", "/privacy", "/cookies", "/no-such-page"):
        page.goto(live_server.url + path)
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        check(page, f"{path} signed out ({language})")
    sign_in(page, live_server, "operator")
    page.goto(live_server.url + "/casework/")
    assert page.locator("h1").inner_text()  # the 403 page
    check(page, f"403 page as the operator ({language})")
    page.goto(live_server.url + "/privacy")
    check(page, f"/privacy as the operator ({language})")


def test_caseworker_pages_have_no_wcag_violation(context_page: Any, live_server: LiveServer,
                                                  seeded: dict[str, str], language: str, tmp_path: Path) -> None:
    page, url = context_page, live_server.url
    sign_in(page, live_server, "caseworker")
    check(page, f"decision queue ({language})")
    page.goto(f"{url}/casework/?stage=rg&priority=yes&overdue=yes&claimed=no")
    check(page, f"decision queue filtered ({language})")
    page.goto(f"{url}/casework/?stage=bad")
    check(page, f"decision queue with a filter error ({language})")
    page.goto(f"{url}/casework/cases/{seeded['adult']}")
    check(page, f"case page before claiming ({language})")
    page.click("#claim")
    page.wait_for_selector("#decision-form")
    check(page, f"case page with the decision form ({language})")
    if language == "en":
        screenshot(page, CASE_SCREENSHOT, tmp_path)
    page.click("#record-decision")
    page.wait_for_selector(".govuk-error-summary")
    check(page, f"decision form with errors ({language})")
    page.check("#outcome-2")
    page.fill("#reasons", LONG_REASONS)
    page.click("#record-decision")
    page.wait_for_selector("#confirm-negative")
    check(page, f"negative decision confirm step ({language})")
    page.click("#change-decision")
    page.wait_for_selector("#decision-form")
    page.click("#release")
    page.wait_for_load_state()
    page.goto(f"{url}/casework/cases/NO-SUCH-CASE")
    check(page, f"404 case page ({language})")
    page.goto(f"{url}/admin/users")
    check(page, f"403 admin page as a caseworker ({language})")


def test_panel_and_analyst_pages_have_no_wcag_violation(context_page: Any, live_server: LiveServer,
                                                         seeded: dict[str, str], language: str) -> None:
    page, url = context_page, live_server.url
    sign_in(page, live_server, "panel")
    check(page, f"review queue ({language})")
    page.goto(f"{url}/casework/review?overdue=no&claimed=no")
    check(page, f"review queue filtered ({language})")
    page.goto(f"{url}/casework/cases/{seeded['review']}")
    check(page, f"case page for the panel ({language})")
    page.click("#claim-review")
    page.wait_for_selector("#release-review")
    check(page, f"case page with the review claimed ({language})")
    page.click("#record-review")
    page.wait_for_selector(".govuk-error-summary")
    check(page, f"review form with errors ({language})")
    page.click("#release-review")
    page.wait_for_load_state()
    check(page, f"review queue after releasing ({language})")
    page.click("[data-testid='sign-out']")
    page.wait_for_url(f"{url}/casework/sign-in?signed-out=1")
    sign_in(page, live_server, "analyst")
    check(page, f"statistics page ({language})")


def test_admin_pages_have_no_wcag_violation(context_page: Any, live_server: LiveServer, seeded: dict[str, str],
                                            language: str, tmp_path: Path) -> None:
    page, url = context_page, live_server.url
    sign_in(page, live_server, "admin")
    check(page, f"admin: users ({language})")
    if language == "en":
        page.set_viewport_size({"width": 1280, "height": 760})
        screenshot(page, ADMIN_SCREENSHOT, tmp_path)
        page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{url}/admin/users/new")
    check(page, f"admin: add a user ({language})")
    page.click("#save-user")
    page.wait_for_selector(".govuk-error-summary")
    check(page, f"admin: add a user with errors ({language})")
    page.goto(f"{url}/admin/users/{seeded['leaver_id']}")
    check(page, f"admin: a user's account ({language})")
    page.click("#reset-password")
    page.wait_for_selector("#new-password")
    check(page, f"admin: password shown once ({language})")
    page.goto(f"{url}/admin/tokens")
    check(page, f"admin: API tokens ({language})")
    page.goto(f"{url}/admin/responders")
    check(page, f"admin: responder numbers ({language})")
    page.click("#add-responder")
    page.wait_for_selector(".govuk-error-summary")
    check(page, f"admin: responder numbers with errors ({language})")
    page.goto(f"{url}/admin/audit")
    page.click("#verify-audit")
    page.wait_for_selector("#audit-result")
    assert "intact" in page.inner_text("#audit-result") or language == "ar"
    check(page, f"admin: audit verification result ({language})")


def tab_to(page: Any, selector: str, presses: int = 80) -> None:
    """Press Tab (only the keyboard) until ``selector`` has the focus."""
    for _ in range(presses):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} was never reached with the Tab key")


def test_a_whole_negative_decision_with_the_keyboard_alone(page: Any, live_server: LiveServer,
                                                           seeded: dict[str, str]) -> None:
    url = live_server.url
    page.goto(url + "/casework/sign-in")
    tab_to(page, "#email")
    page.keyboard.type(email("keyboard"))
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/casework/")
    tab_to(page, "#claim-next")
    page.keyboard.press("Enter")  # claims the first case of the queue and opens it
    page.wait_for_selector("#decision-form")
    reference = page.inner_text("#case-reference").strip()
    tab_to(page, "#outcome")  # the radio group is one Tab stop; the arrow keys choose within it
    page.keyboard.press("ArrowDown")  # negative
    assert page.is_checked("#outcome-2")
    tab_to(page, "#reasons")
    page.keyboard.type("Too short.")
    tab_to(page, "#record-decision")
    page.keyboard.press("Enter")
    page.wait_for_selector(".govuk-error-summary")
    assert "Reasons must be at least 50 characters" in page.inner_text(".govuk-error-summary")
    # GOV.UK Frontend's module script moves the focus there once it has run, after the page is shown
    page.wait_for_function("() => document.activeElement.classList.contains('govuk-error-summary')")
    tab_to(page, ".govuk-error-summary a[href='#reasons']")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "reasons"
    page.keyboard.press("End")
    page.keyboard.type(" " + LONG_REASONS)
    tab_to(page, "#record-decision")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-negative")
    assert "You are about to record a negative Reasonable Grounds decision" in page.inner_text("#confirm-warning")
    tab_to(page, "#confirm-negative")
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/casework/")
    assert "now in the review queue" in page.inner_text(".govuk-notification-banner--success")
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        from sqlalchemy import select

        from backend.models import Case

        assert session.scalars(select(Case.status).where(Case.reference == reference)).one() == "rg_review"
