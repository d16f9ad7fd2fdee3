"""Need to know: a panel member reads only the cases they may review (and those they reviewed),
and every read of case data, sign-in and administrative change is in the audit trail: who, what,
when, never the data (the tests grep each event for the personal data they put in)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from backend import audit, auth, db
from backend.models import AuditEvent, User
from tests.backend.casework_helpers import ORG, PANEL_ORG, add_decision, add_review, case_in, make_case, make_user

PASSWORD = "need to know password 1"
PERSON = ("Zbigniew", "Quellmalz-Farrington", "1990-02-03")
"""The personal data of ``tiny_payload``: none of it may appear in an audit event."""
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    """Users who can sign in, and the cases around a panel member of the referring organisation."""
    with app.app_context(), db.get_db(app).transaction() as session:
        users = {
            "decider": auth.create_user(session, "decider@example.org", "caseworker", PASSWORD),
            "panel_same_org": auth.create_user(session, "panel-org@example.org", "panel", PASSWORD, ORG),
            "panel": auth.create_user(session, "panel@example.org", "panel", PASSWORD, PANEL_ORG),
            "other_reviewer": make_user(session, "panel", PANEL_ORG),
            "admin": auth.create_user(session, "admin@example.org", "admin", PASSWORD),
        }
        decider, same_org, other = users["decider"], users["panel_same_org"], users["other_reviewer"]
        cases = {
            # negative cases of the panel member's own organisation that are not theirs to review
            "own_org_upheld": case_in(session, "rg_negative", decider, other),
            "own_org_waiting": case_in(session, "rg_review", decider, other),
            # another organisation's cases: one waiting for review, one reviewed by someone else
            "reviewable": case_in(session, "rg_review", decider, other, organisation="Barnardo's"),
            "reviewed_by_other": case_in(session, "cg_negative", decider, other, organisation="Barnardo's"),
        }
        # one this panel member reviewed (upheld) themselves
        mine = make_case(session, "rg_negative", organisation="Barnardo's")
        add_review(session, mine, add_decision(session, mine, "rg", "negative", decider), "upheld", same_org)
        cases["reviewed_by_me"] = mine
        tokens = {name: auth.create_token(session, user) for name, user in users.items() if name != "other_reviewer"}
        ids = {name: user.id for name, user in users.items()}
        refs = {name: case.reference for name, case in cases.items()}
    return {"ids": ids, "refs": refs, "tokens": tokens}


def _sign_in(app: Flask, email: str, password: str = PASSWORD) -> tuple[FlaskClient, int]:
    client = app.test_client()
    token = CSRF_FIELD.search(client.get("/casework/sign-in").get_data(as_text=True)).group(1)
    response = client.post("/casework/sign-in", data={"csrf_token": token, "email": email, "password": password})
    return client, response.status_code


def _api(app: Flask, token: str, path: str) -> Any:
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _assert_no_personal_data(event: AuditEvent, *personal: str) -> None:
    stored = json.dumps({"actor": event.actor, "action": event.action, "detail": event.detail})
    for value in (*PERSON, *personal):
        assert value.lower() not in stored.lower(), f"{value!r} is in audit event {event.action}: {stored}"
    assert event.actor and event.action and event.at is not None


def test_panel_member_cannot_read_negative_cases_of_their_own_organisation_not_theirs_to_review(
        app: Flask, people: dict[str, Any]) -> None:
    client, status = _sign_in(app, "panel-org@example.org")
    assert status == 302
    token = people["tokens"]["panel_same_org"]
    for name in ("own_org_upheld", "own_org_waiting", "reviewed_by_other"):
        reference = people["refs"][name]
        page = client.get(f"/casework/cases/{reference}")
        assert page.status_code == 404, name
        assert PERSON[1] not in page.get_data(as_text=True)
        response = _api(app, token, f"/api/v1/cases/{reference}")
        assert response.status_code == 404, name
        assert "payload" not in response.get_json()


def test_panel_member_can_read_the_cases_they_may_review_and_those_they_reviewed(
        app: Flask, people: dict[str, Any]) -> None:
    client, _status = _sign_in(app, "panel-org@example.org")
    token = people["tokens"]["panel_same_org"]
    for name in ("reviewable", "reviewed_by_me"):
        reference = people["refs"][name]
        assert client.get(f"/casework/cases/{reference}").status_code == 200, name
        body = _api(app, token, f"/api/v1/cases/{reference}").get_json()
        assert body["reference"] == reference and body["payload"]["answers"]["pv-name-last-name"] == PERSON[1]
    queue = client.get("/casework/review").get_data(as_text=True)
    assert people["refs"]["reviewable"] in queue and people["refs"]["own_org_waiting"] not in queue


def test_case_page_read_is_audited_with_actor_and_no_personal_data(app: Flask, people: dict[str, Any]) -> None:
    client, _status = _sign_in(app, "panel@example.org")
    reference = people["refs"]["reviewable"]
    assert client.get(f"/casework/cases/{reference}").status_code == 200
    reads = [event for event in _events(app, "case.read") if event.case_reference == reference]
    assert len(reads) == 1
    assert reads[0].actor == f"user:{people['ids']['panel']}" and reads[0].detail["via"] == "page"
    _assert_no_personal_data(reads[0], "panel@example.org")


def test_api_case_read_is_audited_with_actor_and_no_personal_data(app: Flask, people: dict[str, Any]) -> None:
    reference = people["refs"]["reviewable"]
    assert _api(app, people["tokens"]["decider"], f"/api/v1/cases/{reference}").status_code == 200
    reads = [event for event in _events(app, "case.read") if event.case_reference == reference]
    assert [(event.actor, event.detail["via"]) for event in reads] == [(f"user:{people['ids']['decider']}", "api")]
    _assert_no_personal_data(reads[0], "decider@example.org")
    assert _api(app, people["tokens"]["decider"], "/api/v1/queues/decision").status_code == 200
    listed = _events(app, "queue.read")
    assert listed[-1].actor == f"user:{people['ids']['decider']}" and listed[-1].detail["queue"] == "decision"


def test_sign_in_success_and_failure_are_audited_without_the_email(app: Flask, people: dict[str, Any]) -> None:
    _client, status = _sign_in(app, "Decider@Example.org")
    assert status == 302
    _client, status = _sign_in(app, "decider@example.org", "a wrong password")
    assert status == 400
    _client, status = _sign_in(app, "nobody-here@example.org", "a wrong password")
    assert status == 400
    [success] = _events(app, "user.signed_in")
    assert success.actor == f"user:{people['ids']['decider']}"
    known, unknown = _events(app, "user.sign_in_failed")
    assert known.detail["account"] == f"user:{people['ids']['decider']}"
    assert unknown.actor == "anonymous" and len(unknown.detail["email_pseudonym"]) == 32
    for event in (success, known, unknown):
        _assert_no_personal_data(event, "decider@example.org", "nobody-here", "wrong password")


def test_user_deactivation_is_audited_without_the_email(app: Flask, people: dict[str, Any]) -> None:
    result = app.test_cli_runner().invoke(args=["user", "deactivate", "decider@example.org"])
    assert result.exit_code == 0, result.output
    [event] = _events(app, "user.deactivated")
    assert event.actor.startswith("cli") and event.detail["user"] == f"user:{people['ids']['decider']}"
    assert event.detail["tokens_revoked"] == 1
    _assert_no_personal_data(event, "decider@example.org")
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        assert session.get(User, people["ids"]["decider"]).active is False
    _client, status = _sign_in(app, "decider@example.org")
    assert status == 400


def test_other_administration_is_audited_by_id_only(app: Flask, people: dict[str, Any]) -> None:
    runner = app.test_cli_runner()
    for args in (["user", "add", "new-caseworker@example.org", "--role", "caseworker"],
                 ["user", "role", "new-caseworker@example.org", "panel"],
                 ["user", "token", "new-caseworker@example.org"],
                 ["user", "revoke-tokens", "new-caseworker@example.org"],
                 ["responder", "add", "+447700900555", "--org", "Barnardo's", "--name", "Ada Lovelace"],
                 ["responder", "remove", "+447700900555"],
                 ["keys", "rotate"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    actions = ["user.added", "token.issued", "user.role_changed", "token.issued", "tokens.revoked",
               "responder.added", "responder.removed", "keys.rotated"]
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions))
                                      .order_by(AuditEvent.id)))
        assert audit.verify(session) == []
    assert [event.action for event in events] == actions
    for event in events:
        _assert_no_personal_data(event, "new-caseworker", "7700900555", "Ada Lovelace")


def test_an_admin_reads_no_case_in_the_admin_area_the_case_pages_or_the_api(app: Flask,
                                                                            people: dict[str, Any]) -> None:
    """Administering accounts gives no access to case contents: an admin who is not also a
    caseworker gets 403 for every case (page, API) and no case reference in the admin area."""
    client, status = _sign_in(app, "admin@example.org")
    assert status == 302
    for reference in people["refs"].values():
        page = client.get(f"/casework/cases/{reference}")
        assert page.status_code == 403 and reference not in page.get_data(as_text=True)
        assert _api(app, people["tokens"]["admin"], f"/api/v1/cases/{reference}").status_code == 403
    assert client.get("/casework/").status_code == 302  # to the admin area, not a queue
    for path in ("/admin/users", "/admin/tokens", "/admin/responders", "/admin/audit"):
        shown = client.get(path).get_data(as_text=True)
        assert not [ref for ref in people["refs"].values() if ref in shown]
        assert PERSON[1] not in shown
    assert not [event for event in _events(app, "case.read") if event.actor == f"user:{people['ids']['admin']}"]
