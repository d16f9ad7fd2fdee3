"""The web chat JSON API (DESIGN.md §3) against the whole product on a real SQLite file."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from backend import db
from backend.models import AuditEvent, Case, Conversation, User
from tests.bot.conftest import make_user
from tests.flows.conversation import CHILD, DTN

QUESTION_KEYS = {"id", "kind", "choices", "optional", "step", "of", "section", "section_number", "sections"}


def _open(client: FlaskClient, token: str) -> dict[str, Any]:
    response = client.post("/api/chat/conversations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _send(client: FlaskClient, token: str, conversation: str, text: str) -> dict[str, Any]:
    response = client.post(
        f"/api/chat/conversations/{conversation}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _walk(client: FlaskClient, token: str, answers: dict[str, str]) -> dict[str, Any]:
    """Answer every question the API asks, by field id, then CONFIRM; returns the last reply."""
    reply = _open(client, token)
    while reply["question"]["kind"] != "confirm":
        question = reply["question"]
        assert set(question) == QUESTION_KEYS
        assert 1 <= question["step"] <= question["of"]
        assert 1 <= question["section_number"] <= question["sections"] == 7
        reply = _send(client, token, reply["conversation"], answers[question["id"]])
    assert "Your answers:" in "\n".join(reply["messages"])
    return _send(client, token, reply["conversation"], "CONFIRM")


def test_an_operator_completes_a_child_referral_and_gets_a_reference(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()

    final = _walk(client, token, CHILD)

    assert final["done"] is True
    assert final["reference"].startswith("NRM-")
    assert final["reference"] in "\n".join(final["messages"])
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        case = session.scalars(select(Case)).one()
        assert case.reference == final["reference"]
        assert case.status == "awaiting_rg"
        assert case.age_route == "child"
        conversation = session.get(Conversation, final["conversation"])
        assert conversation.status == "submitted"
        assert not conversation.state  # the transcript is deleted once submitted


def test_a_web_chat_referral_records_the_operator_and_the_organisation_it_was_made_for(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    caseworker = make_user(product, "caseworker@example.org", "caseworker")
    final = _walk(product.test_client(), token, CHILD)  # made for "salvation army"
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        operator = session.scalars(select(User).where(User.email == "operator@example.org")).one()
        case = session.scalars(select(Case).where(Case.reference == final["reference"])).one()
        assert (case.organisation, case.submitted_by) == ("The Salvation Army", f"user:{operator.id}")
        event = session.scalars(select(AuditEvent).where(AuditEvent.case_reference == case.reference,
                                                         AuditEvent.action == "referral.submitted")).one()
        assert (event.action, event.actor) == ("referral.submitted", f"user:{operator.id}")
        assert (event.detail["channel"], event.detail["organisation"]) == ("web", "The Salvation Army")
    detail = product.test_client().get(f"/api/v1/cases/{final['reference']}",
                                       headers={"Authorization": f"Bearer {caseworker}"}).get_json()
    assert (detail["organisation"], detail["submitted_by"]) == ("The Salvation Army", f"user:{operator.id}")


def test_a_duty_to_notify_report_gets_its_own_series_and_no_decision(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    final = _walk(product.test_client(), token, DTN)
    assert final["reference"].startswith("DTN-")
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.scalars(select(Case.status)).one() == "dtn_recorded"


def test_choices_are_described_for_buttons(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    reply = _open(client, token)
    for answer in ("Ref A", "salvation army", "sam@example.org"):
        reply = _send(client, token, reply["conversation"], answer)
    question = reply["question"]
    assert question["id"] == "fr-location"
    assert question["kind"] == "choice"
    assert {"value": "wales", "label": "Wales"} in question["choices"]
    assert question["optional"] is False


def test_did_you_mean_and_a_pick_are_questions_with_choices_for_buttons(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    reply = _open(client, token)

    asked = _send(client, token, reply["conversation"], "review")  # at "your reference": maybe the answer
    assert asked["question"]["id"] == "did-you-mean" and asked["question"]["kind"] == "yes_no"
    assert asked["question"]["choices"] == [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]
    assert len(asked["messages"]) == 1  # no resume code before the question is answered
    kept = _send(client, token, reply["conversation"], "2")  # the No button
    assert kept["question"]["id"] == "user-organisation"

    pick = _send(client, token, reply["conversation"], "Yorkshire")
    assert pick["question"]["id"] == "user-organisation"
    labels = [choice["label"] for choice in pick["question"]["choices"]]
    assert len(labels) >= 2 and all(f"{n} {label}" in pick["messages"][-1] for n, label in enumerate(labels, 1))
    picked = _send(client, token, reply["conversation"], "1")
    assert picked["question"]["id"] == "user-email"


def test_a_bad_answer_is_explained_and_the_same_question_asked_again(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    reply = _open(client, token)
    for answer in ("Ref A", "salvation army"):
        reply = _send(client, token, reply["conversation"], answer)
    refused = _send(client, token, reply["conversation"], "not an email")
    assert refused["question"]["id"] == "user-email"
    assert len(refused["messages"]) == 2  # the reason, then the question again


def test_anonymous_callers_get_401_and_nothing_is_stored(product: Flask) -> None:
    client = product.test_client()
    assert client.post("/api/chat/conversations").status_code == 401
    assert client.post("/api/chat/conversations/x/messages", json={"text": "hi"}).status_code == 401
    bad = {"Authorization": "Bearer nrm_not-a-token"}
    assert client.post("/api/chat/conversations", headers=bad).status_code == 401
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_only_operators_may_use_web_chat(product: Flask) -> None:
    token = make_user(product, "analyst@example.org", "analyst")
    response = product.test_client().post(
        "/api/chat/conversations", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403


def test_an_operator_cannot_read_or_write_another_operators_conversation(product: Flask) -> None:
    mine = make_user(product, "one@example.org", "operator")
    theirs = make_user(product, "two@example.org", "operator")
    client = product.test_client()
    conversation = _open(client, mine)["conversation"]
    headers = {"Authorization": f"Bearer {theirs}"}
    assert client.get(f"/api/chat/conversations/{conversation}", headers=headers).status_code == 404
    response = client.post(
        f"/api/chat/conversations/{conversation}/messages", json={"text": "x"}, headers=headers
    )
    assert response.status_code == 404


def test_a_message_must_be_json_text(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    conversation = _open(client, token)["conversation"]
    response = client.post(
        f"/api/chat/conversations/{conversation}/messages",
        data="hello",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400


def test_a_new_process_carries_on_where_the_last_one_stopped(product: Flask, tmp_path) -> None:
    """The conversation lives in the database: a second app on the same file resumes it."""
    from bot.app import create_app
    from tests.conftest import backend_test_config

    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    reply = _open(client, token)
    reply = _send(client, token, reply["conversation"], "Ref A")
    db.get_db(product).engine.dispose()

    restarted = create_app(backend_test_config(tmp_path))
    headers = {"Authorization": f"Bearer {token}"}
    shown = restarted.test_client().get(f"/api/chat/conversations/{reply['conversation']}", headers=headers)
    assert shown.get_json()["question"]["id"] == "user-organisation"
    next_reply = _send(restarted.test_client(), token, reply["conversation"], "salvation army")
    assert next_reply["question"]["id"] == "user-email"
    db.get_db(restarted).engine.dispose()


def test_a_referral_the_backend_refuses_keeps_the_draft_at_the_summary(
    product: Flask, caplog, monkeypatch
) -> None:
    """If intake refuses (e.g. the schema moved on while the draft waited), nothing is lost."""
    from backend import intake

    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    reply = _open(client, token)
    while reply["question"]["kind"] != "confirm":
        reply = _send(client, token, reply["conversation"], CHILD[reply["question"]["id"]])
    with monkeypatch.context() as patch:
        patch.setattr(intake, "validate", lambda payload, schema=None: ["answers.pv-name-first-name: 'Anna' is refused"])
        refused = _send(client, token, reply["conversation"], "CONFIRM")
    assert refused["done"] is False and refused["reference"] is None
    assert "could not be sent" in refused["messages"][0]
    assert "Anna" not in caplog.text  # the log names the field, never the value
    review = _send(client, token, reply["conversation"], "REVIEW")
    assert "First name: Anna" in "\n".join(review["messages"])
    assert _send(client, token, reply["conversation"], "CONFIRM")["reference"].startswith("NRM-")


def _get(client: FlaskClient, token: str, conversation: str) -> dict[str, Any]:
    """What the page asks for after a reload."""
    response = client.get(f"/api/chat/conversations/{conversation}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_pending_discard_survives_a_reload_as_a_yes_no_question_of_its_own(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    conversation = _open(client, token)["conversation"]
    _send(client, token, conversation, "Ref A")
    asked = _send(client, token, conversation, "DISCARD")
    assert (asked["question"]["id"], asked["question"]["kind"]) == ("confirm-discard", "yes_no")
    assert set(asked["question"]) == QUESTION_KEYS

    reloaded = _get(client, token, conversation)

    assert reloaded["question"] == asked["question"]
    assert reloaded["messages"] == asked["messages"]  # the confirmation, not the question under it
    again = _send(client, token, conversation, "DISCARD")  # anything but yes/no: cancelled, visibly
    assert again["messages"][0] == "OK, nothing deleted."
    assert again["question"]["id"] == "user-organisation"
    _send(client, token, conversation, "DISCARD")
    deleted = _send(client, token, conversation, "1")  # the page's Yes button
    assert deleted["done"] is True and deleted["reference"] is None
    with product.app_context():
        assert db.session().get(Conversation, conversation).status == "cancelled"


def test_the_summary_is_a_confirm_question_and_confirm_sends(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    reply = _open(client, token)
    while reply["question"]["kind"] != "confirm":
        reply = _send(client, token, reply["conversation"], DTN[reply["question"]["id"]])
    summary = reply["question"]
    assert reply["done"] is False
    assert (summary["id"], summary["choices"]) == ("confirm", [{"value": "confirm", "label": "Confirm and send"}])
    assert summary["section_number"] == summary["sections"] == 7
    assert _get(client, token, reply["conversation"])["question"]["kind"] == "confirm"
    sent = _send(client, token, reply["conversation"], "CONFIRM")
    assert sent["done"] is True and sent["question"] is None and sent["reference"]
