"""The casework JSON API: a role x endpoint matrix over every role (and anonymous) and every
/api/v1 endpoint, the error codes (401/403/404/409/422), a journey through the queues, and the
OpenAPI document covering every registered route."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import pytest
from flask import g
from sqlalchemy import select

from backend import db
from backend.calendar import uk_date
from backend.db import utcnow
from backend.models import ROLES, AuditEvent
from backend.openapi import document
from tests.backend.casework_helpers import (ORG, OTHER_ORG, PANEL_ORG, case_in, give_claim, make_case,
                                            make_user, shared_app, token_for)

ANONYMOUS = "anonymous"
ROLE_ORGS = {"responder": ORG, "operator": "Unseen", "panel": PANEL_ORG}
REASONS = {"reasons": "Written reasons."}
DECIDED = "No indicators of exploitation in the account, the evidence or the first responder's report."
"""Reasons of a decision or review long enough for ``DECISION_REASONS_MIN_CHARS`` (50)."""
RETURNED = "Weigh the account of force and the debt described in the referral again."


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """An app, one user + token per role, and the people behind the scenes."""
    with shared_app(tmp_path_factory.mktemp("api")) as app:
        with app.app_context():
            session = db.get_db(app).new_session()
            users = {role: make_user(session, role, ROLE_ORGS.get(role)) for role in ROLES}
            tokens = {role: token_for(session, user) for role, user in users.items()}
            extra = {"decider": make_user(session, "caseworker"), "reviewer": make_user(session, "panel", PANEL_ORG),
                     "caseworker2": make_user(session, "caseworker"),
                     "responder_other": make_user(session, "responder", OTHER_ORG)}
            tokens["caseworker2"] = token_for(session, extra["caseworker2"])
            tokens["responder_other"] = token_for(session, extra["responder_other"])
            session.commit()
            yield app, session, users, tokens, extra
            session.close()


@dataclass
class Endpoint:
    method: str
    rule: str
    allowed: tuple[str, ...]
    ok: int
    setup: Callable[[Any, dict, dict], str | None] = lambda session, users, extra: None
    body: dict[str, Any] | None = None


def _fresh(session, users, extra):
    return make_case(session).reference


def _claimed(session, users, extra):
    case = make_case(session)
    give_claim(case, users["caseworker"])
    return case.reference


def _state(status):
    def setup(session, users, extra):
        return case_in(session, status, extra["decider"], extra["reviewer"]).reference
    return setup


ENDPOINTS = [
    Endpoint("POST", "/api/v1/referrals", ("responder", "operator"), 400, body={}),
    Endpoint("GET", "/api/v1/queues/decision", ("caseworker",), 200),
    Endpoint("POST", "/api/v1/queues/decision/claim", ("caseworker",), 200, _fresh),
    Endpoint("GET", "/api/v1/queues/review", ("panel",), 200),
    Endpoint("POST", "/api/v1/cases/{ref}/claim", ("caseworker",), 200, _fresh),
    Endpoint("POST", "/api/v1/cases/{ref}/release", ("caseworker",), 200, _claimed),
    Endpoint("POST", "/api/v1/cases/{ref}/decisions", ("caseworker",), 201, _claimed,
             {"stage": "rg", "outcome": "negative", "reasons": DECIDED}),
    Endpoint("POST", "/api/v1/cases/{ref}/reviews", ("panel",), 201, _state("rg_review"),
             {"outcome": "returned", "reasons": RETURNED}),
    Endpoint("POST", "/api/v1/cases/{ref}/reconsideration", ("responder",), 201, _state("rg_negative"),
             {"reasons": "New evidence.", "requested_by": "first_responder"}),
    Endpoint("POST", "/api/v1/cases/{ref}/withdrawal", ("responder",), 200, _fresh, REASONS),
    Endpoint("POST", "/api/v1/cases/{ref}/suspension", ("caseworker",), 200, _fresh, REASONS),
    Endpoint("POST", "/api/v1/cases/{ref}/resumption", ("caseworker",), 200, _state("suspended"), REASONS),
    Endpoint("GET", "/api/v1/cases/{ref}", ("caseworker", "panel", "responder"), 200, _state("rg_review")),
    Endpoint("GET", "/api/v1/stats", ("analyst", "admin"), 200),
    Endpoint("GET", "/api/v1/openapi.json", (ANONYMOUS, *ROLES), 200),
]
WHO = (ANONYMOUS, *ROLES)
MATRIX = [(who, endpoint) for endpoint in ENDPOINTS for who in WHO]


def _call(client, method: str, path: str, token: str | None, body: Any = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, headers=headers, json=body)


def test_matrix_covers_every_api_route_and_role(api):
    app = api[0]
    routes = {(method, rule.rule.replace("<reference>", "{ref}")) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == {(e.method, e.rule) for e in ENDPOINTS}
    assert set(WHO) == {ANONYMOUS, "responder", "operator", "caseworker", "panel", "analyst", "admin"}
    assert "immigration" not in ROLES
    assert len(MATRIX) == 7 * 15 == 105


@pytest.mark.parametrize("who, endpoint", MATRIX, ids=[f"{w}-{e.method}-{e.rule}" for w, e in MATRIX])
def test_role_endpoint_matrix(api, who, endpoint):
    app, session, users, tokens, extra = api
    reference = endpoint.setup(session, users, extra)
    session.commit()
    path = endpoint.rule.replace("{ref}", reference or "NRM-2026-000000")
    response = _call(app.test_client(), endpoint.method, path, tokens.get(who), endpoint.body)
    if who in endpoint.allowed:
        expected = endpoint.ok
    else:
        expected = 401 if who == ANONYMOUS else 403
    assert response.status_code == expected, response.get_json()
    assert response.is_json
    if expected >= 400:
        assert response.get_json()["error"]


def test_error_codes(api):
    app, session, users, tokens, extra = api
    client = app.test_client()
    worker, other = tokens["caseworker"], tokens["caseworker2"]
    case = make_case(session)
    review = case_in(session, "rg_review", extra["decider"], extra["reviewer"])
    recovering = case_in(session, "recovery", extra["decider"], extra["reviewer"])
    recovering.cg_not_before = uk_date(utcnow()) + timedelta(days=10)
    fresh = make_case(session)
    session.commit()
    ref = case.reference

    assert _call(client, "GET", "/api/v1/cases/NRM-2026-999999", worker).status_code == 404
    assert _call(client, "POST", "/api/v1/cases/NRM-2026-999999/claim", worker).status_code == 404
    assert _call(client, "GET", f"/api/v1/cases/{ref}", "nrm_not-a-token").status_code == 401

    assert _call(client, "POST", f"/api/v1/cases/{ref}/claim", worker).status_code == 200
    taken = _call(client, "POST", f"/api/v1/cases/{ref}/claim", other)
    assert taken.status_code == 409 and taken.get_json()["code"] == "claim_conflict"
    not_mine = _call(client, "POST", f"/api/v1/cases/{ref}/decisions", other,
                     {"stage": "rg", "outcome": "positive", "reasons": DECIDED})
    assert not_mine.status_code == 409
    for body in ({"stage": "rg", "outcome": "positive"}, {"stage": "rg", "outcome": "positive", "reasons": "  "}):
        missing = _call(client, "POST", f"/api/v1/cases/{ref}/decisions", worker, body)
        assert missing.status_code == 422 and missing.get_json()["code"] == "reasons_required"
    for body in ({"stage": "xx", "outcome": "positive", "reasons": "r"}, ["not", "an", "object"],
                 {"stage": "rg", "outcome": "positive", "reasons": 12}):
        assert _call(client, "POST", f"/api/v1/cases/{ref}/decisions", worker, body).status_code == 422
    wrong_stage = _call(client, "POST", f"/api/v1/cases/{ref}/decisions", worker,
                        {"stage": "cg", "outcome": "positive", "reasons": DECIDED})
    assert wrong_stage.status_code == 409 and wrong_stage.get_json()["code"] == "refused"
    assert _call(client, "POST", f"/api/v1/cases/{ref}/reviews", tokens["panel"],
                 {"outcome": "upheld", "reasons": DECIDED}).status_code == 409  # not in review
    same_org_panel = make_user(session, "panel", ORG)
    same_org_token = token_for(session, same_org_panel)
    session.commit()
    independence = _call(client, "POST", f"/api/v1/cases/{review.reference}/reviews", same_org_token,
                         {"outcome": "upheld", "reasons": DECIDED})
    assert independence.status_code == 403 and independence.get_json()["code"] == "forbidden"
    assert _call(client, "POST", f"/api/v1/cases/{recovering.reference}/claim", worker).status_code == 409

    # responders: status of their own organisation's cases only; other organisations' cases do not exist
    own = _call(client, "GET", f"/api/v1/cases/{ref}", tokens["responder"]).get_json()
    assert set(own) == {"reference", "route", "status", "status_label", "submitted_at"}
    assert _call(client, "GET", f"/api/v1/cases/{ref}", tokens["responder_other"]).status_code == 404
    assert _call(client, "POST", f"/api/v1/cases/{ref}/withdrawal", tokens["responder_other"],
                 REASONS).status_code == 404
    # panel: only cases that reached review
    assert _call(client, "GET", f"/api/v1/cases/{fresh.reference}", tokens["panel"]).status_code == 404
    detail = _call(client, "GET", f"/api/v1/cases/{review.reference}", tokens["panel"]).get_json()
    assert detail["decisions"][0]["outcome"] == "negative" and "payload" in detail

    # nothing changed by any refusal: only the one claim and the responder's read are in the trail
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.case_reference == ref)
                              .order_by(AuditEvent.id)).all()
    session.rollback()  # end the read (a shared SQLite session must not keep the write lock)
    assert actions == ["case.claimed", "case.read"]


def test_journey_through_the_queues(api):
    app, session, users, tokens, extra = api
    client = app.test_client()
    worker, panel = tokens["caseworker2"], tokens["panel"]
    case = make_case(session, age_route="child")  # priority: first in the queue
    holder = f"user:{extra['caseworker2'].id}"
    session.commit()  # the shared session must hold no transaction while the API writes

    queue = _call(client, "GET", "/api/v1/queues/decision", worker).get_json()
    assert queue["cases"][0]["reference"] == case.reference and queue["cases"][0]["priority"] is True
    claimed = _call(client, "POST", "/api/v1/queues/decision/claim", worker).get_json()["case"]
    assert claimed["reference"] == case.reference and claimed["claimed_by"] == holder
    decided = _call(client, "POST", f"/api/v1/cases/{case.reference}/decisions", worker,
                    {"stage": "rg", "outcome": "negative", "reasons": DECIDED})
    assert decided.status_code == 201 and decided.get_json()["status"] == "rg_review"

    reviews = _call(client, "GET", "/api/v1/queues/review", panel).get_json()["cases"]
    assert case.reference in [entry["reference"] for entry in reviews]
    returned = _call(client, "POST", f"/api/v1/cases/{case.reference}/reviews", panel,
                     {"outcome": "returned", "reasons": RETURNED})
    assert returned.status_code == 201 and returned.get_json()["status"] == "awaiting_rg"
    detail = _call(client, "GET", f"/api/v1/cases/{case.reference}", worker).get_json()
    assert detail["reviews"][-1]["reasons"] == RETURNED

    assert _call(client, "POST", f"/api/v1/cases/{case.reference}/claim", worker).status_code == 403  # decided it
    other = tokens["caseworker"]
    assert _call(client, "POST", f"/api/v1/cases/{case.reference}/claim", other).status_code == 200
    assert _call(client, "POST", f"/api/v1/cases/{case.reference}/decisions", other,
                 {"stage": "rg", "outcome": "positive", "reasons": DECIDED}).status_code == 201
    status = _call(client, "GET", f"/api/v1/cases/{case.reference}", tokens["responder"]).get_json()
    assert status["status"] == "recovery"

    stats = _call(client, "GET", "/api/v1/stats", tokens["analyst"]).get_json()
    assert stats["tables"] and stats["tables"][0]["id"] == "nrm-referrals-by-age-group" and "payload" not in str(stats)


def test_a_returned_case_shows_returned_with_the_panels_reasons_in_the_api(api):
    app, session, users, tokens, extra = api
    client = app.test_client()
    case = case_in(session, "rg_review", extra["decider"], extra["reviewer"])
    session.commit()
    reasons = "The account of force was not weighed against the indicators in the referral."
    assert _call(client, "POST", f"/api/v1/cases/{case.reference}/reviews", tokens["panel"],
                 {"outcome": "returned", "reasons": reasons}).status_code == 201

    detail = _call(client, "GET", f"/api/v1/cases/{case.reference}", tokens["caseworker"]).get_json()
    assert detail["status"] == "awaiting_rg"
    assert detail["returned"]["reasons"] == reasons
    assert detail["returned"]["decided_by"] == f"user:{extra['decider'].id}"
    assert detail["due_date"] == detail["rg_due_date"] and detail["overdue"] is False
    queue = _call(client, "GET", "/api/v1/queues/decision", tokens["caseworker"]).get_json()["cases"]
    entry = next(e for e in queue if e["reference"] == case.reference)
    assert (entry["returned"], entry["returned_reasons"], entry["returned_to_decider"]) == (True, reasons, False)


def test_openapi_describes_every_api_route(api):
    app = api[0]
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec == document() and spec["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule.replace("<reference>", "{reference}")
        assert path in spec["paths"], f"{path} is not in the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {path} is not in the OpenAPI document"
    documented = {(m, p) for p, ops in spec["paths"].items() if p.startswith("/api/v1") for m in ops}
    registered = {(m.lower(), r.rule.replace("<reference>", "{reference}")) for r in app.url_map.iter_rules()
                  if r.rule.startswith("/api/v1") for m in r.methods - {"HEAD", "OPTIONS"}}
    assert documented == registered
    refs = {value for value in _walk(spec) if isinstance(value, str) and value.startswith("#/components/")}
    assert all(ref.split("/")[-1] in spec["components"]["schemas"] for ref in refs)


def _walk(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
    else:
        yield node


def test_the_queue_api_pages_with_a_cursor_and_filters_by_reference(api):
    app, session, users, tokens, extra = api
    client = app.test_client()
    mine = {make_case(session).reference for _ in range(5)}
    session.commit()
    seen: list[str] = []
    url = "/api/v1/queues/decision?limit=2&claimed=no"
    while url:
        body = _call(client, "GET", url, tokens["caseworker"]).get_json()
        assert len(body["cases"]) <= 2 and body["limit"] == 2
        seen += [entry["reference"] for entry in body["cases"]]
        assert (body["next"] is None) == (body["next_url"] is None)
        url = body["next_url"]
    assert len(seen) == len(set(seen)) == body["count"] and mine <= set(seen)

    one = sorted(mine)[0]
    found = _call(client, "GET", f"/api/v1/queues/decision?reference={one}", tokens["caseworker"]).get_json()
    assert [entry["reference"] for entry in found["cases"]] == [one] and found["count"] == 1
    for query in ("limit=0", "limit=1000", "after=garbage", "stage=xx", "overdue=perhaps"):
        refused = _call(client, "GET", f"/api/v1/queues/decision?{query}", tokens["caseworker"])
        assert refused.status_code == 400 and refused.get_json()["code"] == "invalid_query", query


def test_the_api_refuses_decision_and_review_reasons_shorter_than_the_minimum_and_changes_nothing(api):
    """DECISION_REASONS_MIN_CHARS (50) holds in the API as on the decision page: shorter reasons
    (spaces at either end not counted) are a 422 ``reasons_too_short`` in the caller's language,
    and the case stays as it was; reasons of exactly the minimum are recorded."""
    app, session, users, tokens, extra = api
    client = app.test_client()
    claimed = make_case(session)
    give_claim(claimed, users["caseworker"])
    review = case_in(session, "rg_review", extra["decider"], extra["reviewer"])
    session.commit()
    short = "  " + "x" * 49 + "   "
    for path, token, body in ((f"/api/v1/cases/{claimed.reference}/decisions", tokens["caseworker"],
                               {"stage": "rg", "outcome": "positive", "reasons": short}),
                              (f"/api/v1/cases/{review.reference}/reviews", tokens["panel"],
                               {"outcome": "upheld", "reasons": short})):
        g.pop("_page_language", None)  # this module's app context outlives a request: forget its language
        refused = _call(client, "POST", path, token, body)
        assert refused.status_code == 422 and refused.get_json() == {
            "error": "Reasons must be at least 50 characters: say what the decision is based on",
            "code": "reasons_too_short"}
        g.pop("_page_language", None)  # this module's app context outlives a request: forget its language
        welsh = client.post(path, json=body, headers={"Authorization": f"Bearer {token}", "Accept-Language": "cy"})
        assert welsh.status_code == 422 and welsh.get_json()["error"].startswith("Rhaid i'r rhesymau fod o leiaf 50")
    for reference, status in ((claimed.reference, "awaiting_rg"), (review.reference, "rg_review")):
        assert _call(client, "GET", f"/api/v1/cases/{reference}", tokens["caseworker"]).get_json()["status"] == status
    enough = _call(client, "POST", f"/api/v1/cases/{claimed.reference}/decisions", tokens["caseworker"],
                   {"stage": "rg", "outcome": "positive", "reasons": "x" * 50})
    assert enough.status_code == 201
