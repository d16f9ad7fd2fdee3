"""The backend's Flask CLI commands, run through app.test_cli_runner() on a real database."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from backend import auth, db
from backend.cli import DEMO_PASSWORD, DEMO_USERS
from backend.models import Responder, User


def _session(app):
    return db.get_db(app).new_session()


def test_user_add_prints_password_and_token(app, cli_runner):
    result = cli_runner.invoke(args=["user", "add", "Worker@Example.org", "--role", "caseworker"])
    assert result.exit_code == 0, result.output
    password = re.search(r"^password: (\S+)$", result.output, re.M).group(1)
    token = re.search(r"^token: (\S+)$", result.output, re.M).group(1)
    with _session(app) as session:
        user = session.scalar(select(User).where(User.email == "worker@example.org"))
        assert user.role == "caseworker"
        assert auth.verify_password(user.password_hash, password)
        assert auth.user_for_token(session, token).id == user.id


def test_user_add_refusals(app, cli_runner):
    assert cli_runner.invoke(args=["user", "add", "a@example.org", "--role", "immigration"]).exit_code != 0
    result = cli_runner.invoke(args=["user", "add", "r@example.org", "--role", "responder"])
    assert result.exit_code != 0 and "--organisation" in result.output
    result = cli_runner.invoke(args=["user", "add", "r@example.org", "--role", "responder",
                                     "--organisation", "Acme Ltd"])
    assert result.exit_code != 0 and "not a designated" in result.output
    ok = cli_runner.invoke(args=["user", "add", "r@example.org", "--role", "responder",
                                 "--organisation", "the salvation army"])
    assert ok.exit_code == 0, ok.output
    again = cli_runner.invoke(args=["user", "add", "R@example.org", "--role", "panel"])
    assert again.exit_code != 0 and "already exists" in again.output
    with _session(app) as session:
        assert session.scalar(select(User.organisation).where(User.email == "r@example.org")) \
            == "The Salvation Army"


def test_responder_add_normalises_and_validates(app, cli_runner):
    result = cli_runner.invoke(args=["responder", "add", "07911 123456", "--org", "Barnardo's",
                                     "--name", "Sam Example", "--email", "sam@example.org"])
    assert result.exit_code == 0, result.output
    assert "+447911123456" in result.output
    with _session(app) as session:
        responder = session.scalar(select(Responder))
        assert (responder.phone_e164, responder.organisation, responder.name, responder.email) == (
            "+447911123456", "Barnardo's", "Sam Example", "sam@example.org")

    duplicate = cli_runner.invoke(args=["responder", "add", "+44 7911 123456", "--org", "Barnardo's"])
    assert duplicate.exit_code != 0 and "already registered" in duplicate.output
    invalid = cli_runner.invoke(args=["responder", "add", "12345", "--org", "Barnardo's"])
    assert invalid.exit_code != 0 and "valid phone number" in invalid.output
    unknown_org = cli_runner.invoke(args=["responder", "add", "07911 123457", "--org", "Acme Ltd"])
    assert unknown_org.exit_code != 0 and "not a designated" in unknown_org.output
    bad_email = cli_runner.invoke(args=["responder", "add", "07911 123458", "--org", "Unseen",
                                        "--email", "nope"])
    assert bad_email.exit_code != 0
    with _session(app) as session:
        assert session.scalar(select(func.count(Responder.id))) == 1


def test_demo_is_idempotent(app, cli_runner):
    first = cli_runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output and "caseworker@example.org" in first.output
    second = cli_runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    with _session(app) as session:
        assert session.scalar(select(func.count(User.id))) == len(DEMO_USERS)
        assert session.scalar(select(Responder.organisation).where(
            Responder.phone_e164 == "+447700900123")) == "The Salvation Army"
        operator = session.scalar(select(User).where(User.email == "operator@example.org"))
        assert operator.role == "operator" and auth.verify_password(operator.password_hash, DEMO_PASSWORD)


def test_demo_refused_outside_development(app, cli_runner):
    app.config["NRM_ENV"] = "testing"
    result = cli_runner.invoke(args=["demo"])
    assert result.exit_code != 0 and "development" in result.output


def test_db_upgrade_command(app, cli_runner):
    result = cli_runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and "upgraded" in result.output


def test_an_admin_can_issue_and_revoke_a_users_api_tokens(app, cli_runner, client):
    added = cli_runner.invoke(args=["user", "add", "op@example.org", "--role", "operator"])
    first = added.output.split("token: ")[1].split()[0]
    issued = cli_runner.invoke(args=["user", "token", "op@example.org"])
    second = issued.output.split("token: ")[1].split()[0]
    for token in (first, second):
        response = client.get("/api/v1/queues/decision", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403  # known, but an operator has no decision queue

    revoked = cli_runner.invoke(args=["user", "revoke-tokens", "OP@example.org"])

    assert "revoked 2 token(s) and ended 0 session(s) of op@example.org" in revoked.output
    for token in (first, second):
        response = client.get("/api/v1/queues/decision", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert cli_runner.invoke(args=["user", "token", "nobody@example.org"]).exit_code != 0
