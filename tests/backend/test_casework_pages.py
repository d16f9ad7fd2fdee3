"""The casework web pages (backend.casework_pages) through the Flask test client: who may see
which page, CSRF on every form, GOV.UK error summaries, and a whole decide -> review round.

One migrated app serves the module (users sign in with real passwords through the sign-in page);
each test makes its own referrals with ``backend.intake.submit`` from real dialogue payloads, so
the queues hold other tests' cases too and the tests look only at their own.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from backend import auth, db
from backend.calendar import uk_date
from backend.casework_pages import answer_sections, format_answer, humanise
from backend.db import utcnow
from backend.intake import submit
from backend.models import AuditEvent, Case, User
from tests.backend.casework_helpers import shared_app
from tests.flows.conversation import ROUTES, walked_payload

PASSWORD = "casework pages password 1"
REFERRING_ORG = "The Salvation Army"  # user-organisation of the walked payloads
USERS = {
    "caseworker": ("caseworker", None),
    "caseworker2": ("caseworker", None),
    "panel": ("panel", "Independent Review Panel"),
    "panel-same-org": ("panel", REFERRING_ORG),
    "analyst": ("analyst", None),
    "admin": ("admin", None),
    "operator": ("operator", REFERRING_ORG),
    "responder": ("responder", REFERRING_ORG),
}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_IN = "/casework/sign-in"


def email(name: str) -> str:
    return f"{name}@example.org"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with shared_app(tmp_path_factory.mktemp("casework-pages")) as application:
        with application.app_context(), db.get_db(application).transaction() as session:
            for name, (role, organisation) in USERS.items():
                auth.create_user(session, email(name), role, PASSWORD, organisation=organisation)
        yield application


def csrf_token(client: FlaskClient, path: str) -> str:
    found = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def signed_in(app: Flask, name: str | None) -> FlaskClient:
    """A client signed in as user ``name`` (None: anonymous)."""
    client = app.test_client()
    if name is not None:
        response = client.post(SIGN_IN, data={"csrf_token": csrf_token(client, SIGN_IN),
                                              "email": email(name), "password": PASSWORD})
        assert response.status_code == 302, f"{name} could not sign in"
    return client


@pytest.fixture
def clients(app: Flask) -> Any:
    made: dict[str, FlaskClient] = {}

    def get(name: str) -> FlaskClient:
        if name not in made:
            made[name] = signed_in(app, name)
        return made[name]

    return get


def new_case(app: Flask, kind: str = "adult", *, overdue: bool = False, status: str | None = None,
             negative_by: str | None = None) -> str:
    """A referral made through the intake (``kind``: adult, child or dtn); optionally overdue, or
    already decided negative at RG by ``negative_by`` (so it waits for review)."""
    from backend import lifecycle, queues

    with app.app_context(), db.get_db(app).transaction() as session:
        case = submit(session, walked_payload(kind), None, actor="user:1")
        if overdue:
            case.rg_due_date = uk_date(utcnow()) - timedelta(days=3)
        if status is not None:
            case.status = status
        reference = case.reference
        if negative_by is not None:
            decider = user(session, negative_by)
            queues.claim(session, reference, decider)
            lifecycle.decide(session, reference, decider, "rg", "negative", "No indicators of control.")
    return reference


def user(session: Any, name: str) -> User:
    return session.scalars(select(User).where(User.email == email(name))).one()


def case_row(app: Flask, reference: str) -> Case:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.scalars(select(Case).where(Case.reference == reference)).one()


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None, *, token_from: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, token_from), **(data or {})})


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --- who may see what ---------------------------------------------------------------------------

SIGN_IN_REDIRECT = "sign-in"
ROLES = ("caseworker", "panel", "analyst", "admin", "operator", "responder", None)
EXPECTED = {
    # page: {user: status, or the path it redirects to}
    "/casework/": {"caseworker": 200, "panel": "/casework/review", "analyst": "/casework/stats",
                   "admin": "/admin/users", "operator": 403, "responder": 403, None: SIGN_IN_REDIRECT},
    "/casework/review": {"caseworker": 403, "panel": 200, "analyst": 403, "admin": 403, "operator": 403,
                         "responder": 403, None: SIGN_IN_REDIRECT},
    "/casework/stats": {"caseworker": 403, "panel": 403, "analyst": 200, "admin": 200, "operator": 403,
                        "responder": 403, None: SIGN_IN_REDIRECT},
    "case": {"caseworker": 200, "panel": 200, "analyst": 403, "admin": 403, "operator": 403,
             "responder": 403, None: SIGN_IN_REDIRECT},
    # the admin area (backend.accounts): administrators only
    **{page: {"caseworker": 403, "panel": 403, "analyst": 403, "admin": 200, "operator": 403, "responder": 403,
              None: SIGN_IN_REDIRECT}
       for page in ("/admin/users", "/admin/users/new", "/admin/responders", "/admin/tokens", "/admin/audit")},
    # the footer's pages: everyone, signed in or not
    **{page: {who: 200 for who in ROLES} for page in ("/accessibility", "/privacy", "/cookies")},
}


@pytest.fixture(scope="module")
def reviewed_case(app: Flask) -> str:
    return new_case(app, negative_by="caseworker2")


@pytest.mark.parametrize("page", list(EXPECTED))
@pytest.mark.parametrize("who", ROLES, ids=lambda who: who or "anonymous")
def test_each_page_answers_each_role(app: Flask, clients: Any, reviewed_case: str, page: str,
                                     who: str | None) -> None:
    client = clients(who) if who else app.test_client()
    path = f"/casework/cases/{reviewed_case}" if page == "case" else page
    response = client.get(path)
    expected = EXPECTED[page][who]
    if expected == SIGN_IN_REDIRECT:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/casework/sign-in?next=")
    elif isinstance(expected, str):
        assert response.status_code == 302
        assert response.headers["Location"] == expected
    else:
        assert response.status_code == expected
        if expected == 403:
            assert "You cannot use this page" in text(response)
            assert reviewed_case not in text(response)


def test_case_content_is_never_shown_to_analysts_admins_or_operators(app: Flask, clients: Any) -> None:
    reference = new_case(app, "child")
    for who in ("analyst", "admin", "operator", "responder"):
        page = text(clients(who).get(f"/casework/cases/{reference}"))
        assert "Quellmalz" not in page and reference not in page
        assert clients(who).post(f"/casework/cases/{reference}/claim",
                                 data={"csrf_token": csrf_token(clients(who), "/casework/sign-out")}
                                 ).status_code == 403
    stats = text(clients("analyst").get("/casework/stats"))
    assert reference not in stats


def test_the_panel_sees_only_cases_that_reached_review(app: Flask, clients: Any) -> None:
    waiting = new_case(app)
    assert clients("panel").get(f"/casework/cases/{waiting}").status_code == 404
    assert clients("panel").get("/casework/cases/NRM-1999-999999").status_code == 404
    assert clients("caseworker").get("/casework/cases/NRM-1999-999999").status_code == 404


# --- the pages ----------------------------------------------------------------------------------

def test_the_decision_queue_is_an_accessible_table_with_tags(app: Flask, clients: Any) -> None:
    child = new_case(app, "child", overdue=True)
    adult = new_case(app, "adult")
    claimed = new_case(app, "adult")
    dtn = new_case(app, "dtn")
    with app.app_context(), db.get_db(app).transaction() as session:
        from backend import queues

        queues.claim(session, claimed, user(session, "caseworker2"))
    response = clients("caseworker").get("/casework/")
    html = text(response)
    assert response.status_code == 200
    assert "<title>Decision queue - NRM Referral Assistant</title>" in html
    assert '<caption class="govuk-table__caption govuk-table__caption--m">' in html
    assert html.count('scope="col"') >= 6 and 'scope="row"' in html
    assert 'class="govuk-skip-link"' in html and 'id="main-content"' in html
    row = re.search(rf'<tr class="govuk-table__row">(?:(?!</tr>).)*{child}(?:(?!</tr>).)*</tr>', html).group(0)
    assert "govuk-tag--red" in row and "Overdue" in row and "Child" in row
    assert 'class="govuk-visually-hidden"> case ' + child in row  # the Claim button says which case
    assert re.search(rf"{adult}(?:(?!</tr>).)*Not claimed", html)
    assert re.search(rf"{claimed}(?:(?!</tr>).)*{email('caseworker2')}", html)
    assert dtn not in html  # a Duty to Notify report is never decided
    assert html.index(child) < html.index(adult)  # children first
    assert 'action="/casework/claim-next"' in html and "Claim next case" in html


def test_claim_next_claims_the_first_unclaimed_case_and_opens_it(app: Flask, clients: Any) -> None:
    new_case(app, "child", overdue=True)
    client = clients("caseworker")
    queue = text(client.get("/casework/"))
    first_unclaimed = re.search(r'action="/casework/cases/([A-Z]+-\d+-\d+)/claim"', queue).group(1)
    response = post(client, "/casework/claim-next", token_from="/casework/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/casework/cases/{first_unclaimed}"
    page = text(client.get(response.headers["Location"]))
    assert f"You have claimed case {first_unclaimed} until" in page
    assert "govuk-notification-banner--success" in page
    assert 'id="decision-form"' in page and 'id="release"' in page
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        case = session.scalars(select(Case).where(Case.reference == first_unclaimed)).one()
        assert case.claimed_by_id == user(session, "caseworker").id
    # release it again so other tests' queues are not blocked by this claim
    assert post(client, f"/casework/cases/{first_unclaimed}/release",
                token_from=f"/casework/cases/{first_unclaimed}").status_code == 302
    assert case_row(app, first_unclaimed).claimed_by_id is None


def test_claim_next_on_an_empty_queue_says_so(tmp_path: Path) -> None:
    with shared_app(tmp_path) as fresh:
        with fresh.app_context(), db.get_db(fresh).transaction() as session:
            auth.create_user(session, email("caseworker"), "caseworker", PASSWORD)
        client = signed_in(fresh, "caseworker")
        assert "No cases are waiting for a decision." in text(client.get("/casework/"))
        response = post(client, "/casework/claim-next", token_from="/casework/")
        assert response.headers["Location"] == "/casework/"
        assert "There is no unclaimed case waiting for a decision." in text(client.get("/casework/"))


@pytest.mark.parametrize("action", ["claim-next", "claim", "release", "decision", "review"])
def test_every_form_needs_its_csrf_token(app: Flask, clients: Any, action: str) -> None:
    reference = new_case(app, negative_by="caseworker2") if action == "review" else new_case(app)
    who = "panel" if action == "review" else "caseworker"
    path = "/casework/claim-next" if action == "claim-next" else f"/casework/cases/{reference}/{action}"
    data = {"stage": "rg", "outcome": "negative" if action == "decision" else "upheld", "reasons": "Reasons."}
    before = case_row(app, reference)
    response = clients(who).post(path, data=data)
    assert response.status_code == 400
    assert "Sorry, there is a problem" in text(response)
    after = case_row(app, reference)
    assert (after.status, after.claimed_by_id) == (before.status, before.claimed_by_id)


def test_an_empty_decision_form_shows_the_error_summary(app: Flask, clients: Any) -> None:
    reference = new_case(app)
    client = clients("caseworker")
    case_path = f"/casework/cases/{reference}"
    assert post(client, f"{case_path}/claim", token_from=case_path).status_code == 302
    response = post(client, f"{case_path}/decision", {"stage": "rg", "reasons": "   "}, token_from=case_path)
    html = text(response)
    assert response.status_code == 400
    assert "<title>Error: Case " + reference in html
    assert "govuk-error-summary" in html and "There is a problem" in html
    assert '<a href="#outcome">Select whether the decision is positive or negative</a>' in html
    assert '<a href="#reasons">Enter the reasons for the decision</a>' in html
    assert "govuk-textarea--error" in html and "govuk-radios__input" in html
    # the outcome chosen is kept when only the reasons are missing
    response = post(client, f"{case_path}/decision", {"stage": "rg", "outcome": "negative"}, token_from=case_path)
    html = text(response)
    assert 'value="negative" checked' in html
    assert "Select whether" not in html and "Enter the reasons for the decision" in html
    assert case_row(app, reference).status == "awaiting_rg"
    post(client, f"{case_path}/release", token_from=case_path)


def test_a_refused_decision_shows_the_lifecycle_message(app: Flask, clients: Any) -> None:
    reference = new_case(app)
    case_path = f"/casework/cases/{reference}"
    client = clients("caseworker")
    decision = {"stage": "rg", "outcome": "positive", "reasons": "Credible account, consistent with the indicators of forced labour."}
    # not claimed: the lifecycle says to claim it first
    response = post(client, f"{case_path}/decision", decision, token_from=case_path)
    assert response.status_code == 409
    html = text(response)
    assert "govuk-error-summary" in html
    assert f'<a href="#actions">claim case {reference} before deciding it (claims last 60 minutes)</a>' in html
    # claimed by someone else
    post(clients("caseworker2"), f"{case_path}/claim", token_from=case_path)
    response = post(client, f"{case_path}/decision", decision, token_from=case_path)
    assert response.status_code == 409
    assert f"case {reference} is claimed by another caseworker until" in text(response)
    response = post(client, f"{case_path}/claim", token_from=case_path)
    assert response.status_code == 409 and "claimed by another caseworker" in text(response)
    post(clients("caseworker2"), f"{case_path}/release", token_from=case_path)
    # a stale page offering the wrong stage is refused, not decided at another stage
    post(client, f"{case_path}/claim", token_from=case_path)
    response = post(client, f"{case_path}/decision", {**decision, "stage": "cg"}, token_from=case_path)
    assert response.status_code == 409
    assert (f"cannot make a positive Conclusive Grounds decision on case {reference}: "
            "its status is awaiting_rg (Awaiting RG decision)") in text(response)
    assert 'Credible account, consistent with the indicators of forced labour.</textarea>' in text(response)  # nothing lost
    assert case_row(app, reference).status == "awaiting_rg"
    post(client, f"{case_path}/release", token_from=case_path)


def test_a_positive_rg_decision_starts_the_recovery_period(app: Flask, clients: Any) -> None:
    reference = new_case(app)
    case_path = f"/casework/cases/{reference}"
    client = clients("caseworker")
    post(client, f"{case_path}/claim", token_from=case_path)
    response = post(client, f"{case_path}/decision",
                    {"stage": "rg", "outcome": "positive", "reasons": "Consistent, detailed account of forced labour on a farm."},
                    token_from=case_path)
    assert response.status_code == 302 and response.headers["Location"] == "/casework/"
    assert (f"Positive Reasonable Grounds decision recorded on case {reference}: the recovery period "
            "runs until") in text(client.get("/casework/"))
    case = case_row(app, reference)
    assert case.status == "recovery" and case.claimed_by_id is None
    page = text(client.get(case_path))
    assert "Recovery period" in page and "CG decision not before" in page
    assert 'id="decision-form"' not in page


def test_decide_negative_then_the_panel_returns_it(app: Flask, clients: Any) -> None:
    reference = new_case(app, "adult")
    case_path = f"/casework/cases/{reference}"
    caseworker = clients("caseworker")
    # the caseworker claims the case from its page and decides it negative
    assert post(caseworker, f"{case_path}/claim", token_from="/casework/").status_code == 302
    reasons = "No indicators of exploitation in the account given.\nEmployer records checked."
    decision = {"stage": "rg", "outcome": "negative", "reasons": reasons}
    response = post(caseworker, f"{case_path}/decision", decision, token_from=case_path)
    assert response.status_code == 200  # the confirm step: nothing recorded yet
    assert "You are about to record a negative Reasonable Grounds decision on case" in text(response)
    assert case_row(app, reference).status == "awaiting_rg"
    response = post(caseworker, f"{case_path}/decision", {**decision, "confirmed": "yes"}, token_from=case_path)
    assert response.status_code == 302
    assert "it is now in the review queue of the independent panel" in text(caseworker.get("/casework/"))
    assert case_row(app, reference).status == "rg_review"
    assert reference not in text(caseworker.get("/casework/"))  # out of the decision queue

    # only an independent panel member is offered it
    assert reference in text(clients("panel").get("/casework/review"))
    assert reference not in text(clients("panel-same-org").get("/casework/review"))
    panel = clients("panel")
    page = text(panel.get(case_path))
    assert "RG negative, awaiting panel review" in page
    assert "No indicators of exploitation in the account given." in page  # the decision's reasons
    assert 'id="review-form"' in page and 'id="decision-form"' not in page
    assert "Review the negative Reasonable Grounds decision" in page

    # an empty review is refused with the error summary
    response = post(panel, f"{case_path}/review", {}, token_from=case_path)
    assert response.status_code == 400
    assert '<a href="#outcome">Select whether to uphold the decision or return it</a>' in text(response)
    assert '<a href="#reasons">Enter the reasons for the review</a>' in text(response)
    # a panel member of the referring organisation may neither read nor review it (need to know)
    same_org = clients("panel-same-org")
    assert same_org.get(case_path).status_code == 404
    response = post(same_org, f"{case_path}/review", {"outcome": "upheld", "reasons": "Agree."},
                    token_from="/casework/review")
    assert response.status_code == 404

    # reasons too short to act on are refused, as by the API, and nothing is recorded
    response = post(panel, f"{case_path}/review", {"outcome": "returned", "reasons": "Not considered."},
                    token_from=case_path)
    assert response.status_code == 400
    assert ('<a href="#reasons">Reasons must be at least 50 characters: say what the decision is based on</a>'
            in text(response))
    assert case_row(app, reference).status != "awaiting_rg"

    response = post(panel, f"{case_path}/review",
                    {"outcome": "returned", "reasons": "The account of debt bondage was not considered at all."},
                    token_from=case_path)
    assert response.status_code == 302 and response.headers["Location"] == "/casework/review"
    assert (f"Case {reference} is returned to the decision queue for reconsideration."
            in text(panel.get("/casework/review")))
    assert case_row(app, reference).status == "awaiting_rg"
    assert reference in text(caseworker.get("/casework/"))  # back in the decision queue

    page = text(caseworker.get(case_path))
    timeline = page[page.index('id="timeline"'):page.index("</ol>", page.index('id="timeline"'))]
    assert "Reasonable Grounds decision" in timeline and "Negative" in timeline
    assert "Returned for reconsideration" in timeline
    assert "The account of debt bondage was not considered at all." in timeline
    ltr = '<bdi dir="ltr">{}</bdi>'  # emails keep their own direction in a right-to-left sentence
    assert f"by {ltr.format(email('caseworker'))}" in timeline and f"by {ltr.format(email('panel'))}" in timeline
    audit = page[page.index('id="audit-trail"'):]
    for action in ("Referral submitted", "Claimed", "Negative RG decision", "Returned for reconsideration"):
        assert action in audit
    assert "Awaiting RG decision to RG negative, awaiting panel review" in audit
    assert email("panel") in audit
    assert "debt bondage" not in audit  # reasons are kept out of the audit trail
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.case_reference == reference,
                                                                  AuditEvent.action != "case.read")
                                  .order_by(AuditEvent.id)).all()
    assert actions == ["referral.submitted", "case.claimed", "case.decide_rg_negative",
                       "case.return_for_reconsideration"]
    assert "Case-read" not in audit  # reads are audited, but not listed on the case page


def test_a_returned_case_shows_returned_with_the_panels_reasons_on_its_page_and_in_the_queue(
        app: Flask, clients: Any) -> None:
    from backend import lifecycle

    reference = new_case(app, "adult", negative_by="caseworker")
    reasons = "The account of debt bondage was not weighed."
    with app.app_context(), db.get_db(app).transaction() as session:
        lifecycle.review(session, reference, user(session, "panel"), "returned", reasons)
    case_path = f"/casework/cases/{reference}"

    page = text(clients("caseworker2").get(case_path))
    assert 'id="returned-tag"' in page and "> Returned <" in page
    returned = page[page.index('id="returned"'):]
    assert "The panel returned the last decision on" in returned and reasons in returned[:600]
    assert f'{case_path}/claim' in page  # another caseworker may take it

    queue = text(clients("caseworker2").get("/casework/"))
    row = queue[queue.index(f">{reference}<"):]
    row = row[:row.index("</tr>")]
    assert "> Returned <" in row and re.search("Panel(&#39;|')s reasons", row) and reasons in row
    assert f'{case_path}/claim' in row
    # the caseworker whose decision was returned is not offered it, nor may claim it
    mine = text(clients("caseworker").get("/casework/"))
    my_row = mine[mine.index(f">{reference}<"):]
    assert f'{case_path}/claim' not in my_row[:my_row.index("</tr>")]
    response = post(clients("caseworker"), f"{case_path}/claim", token_from="/casework/")
    assert response.status_code == 403 and "the panel returned your decision on this case" in text(response)


def test_the_case_page_shows_the_answers_by_section_with_labels(app: Flask, clients: Any) -> None:
    reference = new_case(app, "child")
    page = text(clients("caseworker").get(f"/casework/cases/{reference}"))
    cards = re.findall(r'class="govuk-summary-card__title"> ([^<]+?) </h3>', page)
    assert cards[:4] == ["About the referrer", "Age", "Background", "What happened"]  # the sections, in order
    assert re.search(r"Where the referrer is </dt> <dd[^>]*> <span[^>]*>England</span>", page)  # a choice label
    assert re.search(r"Under 18 </dt> <dd[^>]*> <span[^>]*>Yes</span>", page)
    assert "pv-under-age" not in page  # labels, not field ids
    assert "Child" in page and "govuk-tag--orange" in page  # the priority tag


def test_answers_the_schema_does_not_describe_are_still_shown() -> None:
    sections = answer_sections({"answers": {"fr-location": "wales", "pv-favourite-colour": "green"}})
    assert [(s.title, s.rows) for s in sections] == [
        ("About the referrer", [("Where the referrer is", "Wales", False)]),
        ("Other answers", [("Pv favourite colour", "green", False)]),
    ]
    assert humanise("pv-name-first-name") == "Pv name first name"
    assert format_answer({"date": "1990-02", "approximate": True}) == "February 1990 (approximate)"
    assert format_answer({"date": "1990-02-03", "approximate": False}) == "3 February 1990"
    assert format_answer(["a", "b"]) == "a, b"


def test_the_statistics_page_suppresses_small_numbers(app: Flask, clients: Any) -> None:
    response = clients("analyst").get("/casework/stats")
    html = text(response)
    assert response.status_code == 200
    assert "<title>Statistics - NRM Referral Assistant</title>" in html
    for caption in ("NRM referrals by age group at exploitation, by quarter",
                    "Duty to Notify reports by nationality, by quarter",
                    "Reasonable Grounds decisions by outcome, by quarter of decision"):
        assert f"{caption} </caption>" in html or f">{caption}</caption>" in html
    assert "shown as &#34;&lt;5&#34;" in html or "shown as &quot;&lt;5&quot;" in html  # the rule, explained
    assert 'scope="row"' in html and "govuk-table__cell--numeric" in html
    assert "NRM-" not in html and "DTN-" not in html


# --- languages (backend.i18n: Accept-Language) ---------------------------------------------------

@pytest.mark.usefixtures("compiled_catalogues")
def test_the_casework_pages_follow_accept_language(app: Flask, clients: Any) -> None:
    reference = new_case(app)
    client = clients("caseworker")
    welsh = {"Accept-Language": "cy"}
    queue = text(client.get("/casework/", headers=welsh))
    assert '<html lang="cy" dir="ltr"' in queue
    assert "Ciw penderfyniadau" in queue and "yn aros am benderfyniad" in queue  # heading, ngettext caption
    assert "Hawlio'r achos nesaf" in queue or "Hawlio&#39;r achos nesaf" in queue
    case_path = f"/casework/cases/{reference}"
    token = CSRF_FIELD.search(client.get(case_path).get_data(as_text=True)).group(1)
    assert client.post(f"{case_path}/claim", data={"csrf_token": token}).status_code == 302
    response = client.post(f"{case_path}/decision", headers=welsh,
                           data={"csrf_token": token, "stage": "rg", "reasons": " "})
    html = text(response)
    assert response.status_code == 400
    assert f"<title>Gwall: Achos {reference}" in html
    assert "Dewiswch a yw&#39;r penderfyniad yn gadarnhaol neu&#39;n negyddol" in html  # lazy_gettext
    assert "Rhowch y rhesymau dros y penderfyniad" in html
    assert "Yn aros am benderfyniad RG" in html  # the status (lifecycle.status_label, translated)
    arabic = text(client.get(case_path, headers={"Accept-Language": "ar"}))
    assert '<html lang="ar" dir="rtl"' in arabic and "سجل التدقيق" in arabic
    # the flash message is translated in the language of the request that makes it
    released = client.post(f"{case_path}/release", headers=welsh, data={"csrf_token": token},
                           follow_redirects=True)
    assert f"Rydych wedi rhyddhau achos {reference}" in text(released)
    assert case_row(app, reference).status == "awaiting_rg"


# --- the responder's own reference stays theirs; what the person was told is on the case --------


def case_json(app: Flask, reference: str) -> Any:
    with app.app_context(), db.get_db(app).transaction() as session:
        token = auth.create_token(session, user(session, "caseworker"))
    response = app.test_client().get(f"/api/v1/cases/{reference}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("kind", ["adult", "dtn", "child"])
def test_the_case_page_and_case_json_never_show_the_responders_reference(app: Flask, clients: Any,
                                                                          kind: str) -> None:
    reference = new_case(app, kind)

    page = text(clients("caseworker").get(f"/casework/cases/{reference}"))
    detail = case_json(app, reference)

    own = ROUTES[kind]["reference"]
    assert own not in page and "Your reference" not in page
    assert own not in detail.get_data(as_text=True)
    payload = detail.get_json()["payload"]
    assert "reference" not in payload["answers"]
    assert payload["consent_question_version"] == (None if kind == "child" else "consent-question-v2")
    assert payload["consent_explanations"] == []


def test_a_case_stored_with_the_responders_reference_never_shows_it(app: Flask, clients: Any) -> None:
    reference = new_case(app, "dtn")
    with app.app_context(), db.get_db(app).transaction() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        stored = case.payload
        case.payload = {**stored, "answers": {"reference": "Ayesha K Leeds", **stored["answers"]}}

    page = text(clients("caseworker").get(f"/casework/cases/{reference}"))
    detail = case_json(app, reference)

    assert "Ayesha K Leeds" in str(case_row(app, reference).payload)  # stored before schema 2.0
    assert "Ayesha K Leeds" not in page and "Ayesha K Leeds" not in detail.get_data(as_text=True)
    keys = re.findall(r'govuk-summary-list__key"> ([^<]+?) </dt>', page)
    assert "Under 18" in keys and "Reference" not in keys


def test_the_queue_page_shows_one_page_at_a_time_with_filters(app, clients):
    references = [new_case(app) for _ in range(3)]
    client = clients("caseworker")
    first = client.get("/casework/?limit=1")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and html.count('href="/casework/cases/') == 1
    following = re.search(r'href="([^"]+after=[^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert 'id="first-page"' in second and re.search(r'/casework/cases/[^"]+', html).group(0) not in second

    only = client.get(f"/casework/?reference={references[1]}").get_data(as_text=True)
    assert set(re.findall(r'href="/casework/cases/([^"]+)"', only)) == {references[1]}
    assert "1 case waiting for a decision" in only and "Clear filters" in only
    assert "No case waiting for a decision matches these filters." in client.get(
        "/casework/?reference=NRM-1999-000001").get_data(as_text=True)

    refused = client.get("/casework/?stage=zz&limit=1")
    assert refused.status_code == 400 and "the first page of the whole queue is shown" in refused.get_data(as_text=True)


QUEUE_ROW = r'<th scope="row"[^>]*><a [^>]*href="/casework/cases/([^"]+)"'
"""The reference heading each row of a queue page (a claimed case also links from its action cell)."""


def test_the_queue_page_sorts_by_the_chosen_order_and_says_when_the_sort_is_wrong(app, clients):
    """The filter form's "Sort by" select orders the page and keeps its choice on the next page;
    an unknown, empty or huge sort, or a next-page link of another order, is an error message on
    the page (400) over the first page in the default order, never a 500."""
    for _ in range(3):
        new_case(app)
    client = clients("caseworker")
    page = client.get("/casework/?sort=newest&limit=2")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="filter-sort"' in html and "Sort by" in html
    assert re.search(r'<option value="newest" selected>\s*Most recently added first', html)
    assert "Clear filters" not in html  # an order is not a filter
    shown = re.findall(QUEUE_ROW, html)
    oldest = re.findall(QUEUE_ROW, client.get("/casework/?sort=oldest&limit=200")
                        .get_data(as_text=True))
    assert shown == oldest[::-1][:2]
    following = re.search(r'href="([^"]+after=[^"]+)"[^>]*rel="next"', html).group(1).replace("&amp;", "&")
    assert "sort=newest" in following
    assert re.findall(QUEUE_ROW, client.get(following).get_data(as_text=True)) == \
        oldest[::-1][2:4]

    other = client.get(following.replace("sort=newest", "sort=due"))
    assert other.status_code == 400 and "belongs to another sort order" in other.get_data(as_text=True)
    for value in ("sideways", "", "x" * 5000, "%E2%80%AEdue"):
        refused = client.get(f"/casework/?sort={value}")
        body = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "Sort by must be one of: priority, due, oldest, newest" in body
        assert 'href="#filter-sort"' in body
    welsh = client.get("/casework/?sort=sideways", headers={"Accept-Language": "cy"}).get_data(as_text=True)
    assert "Sort by must be one of" not in welsh and "priority, due, oldest, newest" in welsh
