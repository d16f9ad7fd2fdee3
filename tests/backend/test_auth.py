"""Passwords, API tokens and the bearer-token guard of the JSON API."""

from __future__ import annotations


import pytest
from sqlalchemy import func, select

from backend import auth
from backend.models import AuditEvent, Case
from tests.conftest import PRODUCTION_PASSWORD_HASHER, TINY_SCHEMA, tiny_payload


def test_password_hashing():
    hashed = auth.hash_password("correct horse")
    assert hashed.startswith("$argon2") and "correct horse" not in hashed
    assert auth.verify_password(hashed, "correct horse")
    assert not auth.verify_password(hashed, "wrong")
    assert not auth.verify_password("not-a-hash", "correct horse")
    assert len(auth.generate_password()) >= 16 and auth.generate_password() != auth.generate_password()


def test_production_hashes_passwords_with_argon2id_at_the_rfc_9106_low_memory_cost(monkeypatch):
    """The suite hashes at the lowest cost (tests/conftest.py); the product's own hasher is checked
    here: argon2id, 64 MiB, 3 passes, 4 lanes (argon2-cffi's defaults, RFC 9106's second choice)."""
    monkeypatch.setattr(auth, "_hasher", PRODUCTION_PASSWORD_HASHER)
    hashed = auth.hash_password("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert auth.verify_password(hashed, "correct horse") and not auth.verify_password(hashed, "wrong")


def test_signing_in_with_a_weaker_hash_upgrades_it_to_the_production_cost(db_session, monkeypatch):
    user = auth.create_user(db_session, "weak@example.org", "caseworker", "right")
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # made by TEST_PASSWORD_HASHER
    monkeypatch.setattr(auth, "_hasher", PRODUCTION_PASSWORD_HASHER)
    assert auth.check_login(db_session, "weak@example.org", "wrong") is None
    assert user.password_hash.startswith("$argon2id$v=19$m=8,")  # a wrong password changes nothing
    assert auth.check_login(db_session, "weak@example.org", "right") is user
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert auth.verify_password(user.password_hash, "right")


def test_create_user_rules(db_session):
    auth.create_user(db_session, " Case@Example.org ", "caseworker", "pw")
    with pytest.raises(ValueError):
        auth.create_user(db_session, "case@example.org", "caseworker", "pw")
    with pytest.raises(ValueError):
        auth.create_user(db_session, "imm@example.org", "immigration", "pw")


def test_wrong_passwords_never_lock_the_account_itself(db_session):
    user = auth.create_user(db_session, "a@example.org", "panel", "right")
    assert auth.check_login(db_session, "A@example.org", "right") is user
    for _ in range(20):
        assert auth.check_login(db_session, "a@example.org", "wrong") is None
    assert auth.check_login(db_session, "a@example.org", "right") is user  # throttling is per client
    assert auth.check_login(db_session, "nobody@example.org", "right") is None
    user.active = False
    assert auth.check_login(db_session, "a@example.org", "right") is None


def test_tokens_and_revocation(db_session):
    user = auth.create_user(db_session, "r@example.org", "responder", "pw", "The Salvation Army")
    secret = auth.create_token(db_session, user)
    assert secret.startswith(auth.TOKEN_PREFIX)
    assert all(secret not in (t.token_hash or "") for t in user.tokens)
    assert auth.user_for_token(db_session, secret) is user
    assert auth.user_for_token(db_session, secret + "x") is None
    assert auth.revoke_token(db_session, secret)
    assert auth.user_for_token(db_session, secret) is None
    assert not auth.revoke_token(db_session, secret)


def _token(db_session, role, email=None):
    user = auth.create_user(db_session, email or f"{role}@example.org", role, "pw")
    secret = auth.create_token(db_session, user)
    db_session.commit()
    return secret


def test_require_token_401_403(db_session, client):
    body = tiny_payload()
    response = client.post("/api/v1/referrals", json=body)
    assert response.status_code == 401 and "error" in response.get_json()
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.post("/api/v1/referrals", json=body, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    caseworker = _token(db_session, "caseworker")
    response = client.post("/api/v1/referrals", json=body, headers={"Authorization": f"Bearer {caseworker}"})
    assert response.status_code == 403 and "error" in response.get_json()


def test_revoked_token_rejected_by_api(db_session, client):
    secret = _token(db_session, "operator")
    auth.revoke_token(db_session, secret)
    db_session.commit()
    response = client.post("/api/v1/referrals", json={}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_api_referral_created_and_invalid(db_session, client, referral_payload):
    payload, schema = referral_payload("nrm")
    user = auth.create_user(db_session, "operator@example.org", "operator", "pw",
                            payload["answers"]["user-organisation"])
    headers = {"Authorization": f"Bearer {auth.create_token(db_session, user)}"}
    db_session.commit()
    if schema is not None:
        pytest.skip("flows.schema has no example_payload yet: the API always uses the real schema")
    response = client.post("/api/v1/referrals", json=payload, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["reference"].startswith("NRM-")


IMMIGRATION_ENFORCEMENT = "Home Office - Immigration Enforcement IE - Other"


def _responder_headers(db_session, organisation: str | None) -> tuple[dict[str, str], int]:
    user = auth.create_user(db_session, "ie-responder@example.org", "responder", "pw", organisation)
    headers = {"Authorization": f"Bearer {auth.create_token(db_session, user)}"}
    db_session.commit()
    return headers, user.id


def test_api_referral_for_another_organisation_is_refused(db_session, client, referral_payload):
    headers, _ = _responder_headers(db_session, IMMIGRATION_ENFORCEMENT)
    payload, _schema = referral_payload("nrm")
    assert payload["answers"]["user-organisation"] == "The Salvation Army"
    response = client.post("/api/v1/referrals", json=payload, headers=headers)
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "organisation_mismatch"
    assert f"made for your own organisation ({IMMIGRATION_ENFORCEMENT}), not 'The Salvation Army'" in body["error"]
    assert db_session.scalar(select(func.count(Case.id))) == 0


def test_api_referral_without_an_organisation_takes_the_accounts(db_session, client, referral_payload):
    headers, user_id = _responder_headers(db_session, IMMIGRATION_ENFORCEMENT)
    payload, _schema = referral_payload("nrm")
    del payload["answers"]["user-organisation"]
    response = client.post("/api/v1/referrals", json=payload, headers=headers)
    assert response.status_code == 201, response.get_json()
    case = db_session.scalars(select(Case).where(Case.reference == response.get_json()["reference"])).one()
    assert case.organisation == IMMIGRATION_ENFORCEMENT and case.submitted_by == f"user:{user_id}"
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.case_reference == case.reference)).one()
    assert event.actor == f"user:{user_id}" and event.detail["organisation"] == IMMIGRATION_ENFORCEMENT


def test_api_referral_from_an_account_without_organisation_is_refused(db_session, client, referral_payload):
    headers, _ = _responder_headers(db_session, None)
    payload, _schema = referral_payload("nrm")
    response = client.post("/api/v1/referrals", json=payload, headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == "no_organisation"


def test_api_referral_rejects_invalid_payload(db_session, client):
    secret = _token(db_session, "responder")
    headers = {"Authorization": f"Bearer {secret}"}
    response = client.post("/api/v1/referrals", json={"route": "nrm"}, headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid referral" and body["errors"]
    response = client.post("/api/v1/referrals", data="not json", headers=headers)
    assert response.status_code == 400


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_tiny_schema_is_valid_draft_2020_12():
    from jsonschema import Draft202012Validator
    Draft202012Validator.check_schema(TINY_SCHEMA)
