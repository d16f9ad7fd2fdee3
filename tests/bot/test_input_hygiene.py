"""Text hygiene at every edge (``backend.text_hygiene``, ``backend.request_guards``): lone
surrogates, NUL and other control characters are removed (SMS text) or refused with a clear 400
(web chat, JSON API, URL parts, sign-in) before anything is stored; deeply nested JSON is a 400;
every TwiML reply parses, even for a draft that already holds such characters.
"""

from __future__ import annotations

import io
import re
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend import auth, db
from backend.models import AuditEvent, Conversation, Decision, InboundMessage
from backend.request_guards import MAX_BODY_BYTES
from backend.text_hygiene import MAX_JSON_DEPTH, is_clean
from tests.bot.conftest import claimed_case, make_user
from tests.bot.sms_support import ENV_KEYS, SmsPhone, form, make_sms_app, messages_of, start

CONTROLS = ["\x00", "\x1b", "\x07", "\x7f", "\x85", "\x9b"]
"""NUL, ESC, BEL, DEL and two C1 controls (NEL, CSI)."""
UNCLEAN = [*CONTROLS, "\udc80", "\ud800"]
"""... and two lone surrogates (a JSON body can carry them as \\udc80)."""
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()), max_size=200)
"""Every code point, surrogates and controls included."""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _raw_json(text: str) -> bytes:
    """``{"text": ...}`` as a client would send it, lone surrogates as ``\\udc80`` escapes."""
    escaped = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\' else f"\\u{ord(ch):04x}" for ch in text)
    return ('{"text": "' + escaped + '"}').encode("ascii")


def _assert_clean_twiml(data: bytes) -> list[str]:
    messages = messages_of(data)  # raises ParseError for a malformed reply
    assert all(is_clean(message) for message in messages), messages
    return messages


# -- SMS: control characters removed ---------------------------------------------------------------


@pytest.mark.parametrize("control", CONTROLS)
def test_control_characters_in_an_sms_answer_are_removed_before_it_is_stored(
        phone: SmsPhone, control: str) -> None:
    start(phone)
    assert phone.current() == "reference"

    phone.send(f"Tir{control}ana{control} Road")

    assert phone.current() != "reference", phone.text
    assert phone.answer("reference") == "Tirana Road"
    assert phone.state()["answers"]["reference"]["typed"] == "Tirana Road"


@pytest.mark.parametrize("field", ["MessageSid", "From"])
def test_nul_in_an_sms_message_sid_or_sender_is_refused_with_400(phone: SmsPhone, field: str) -> None:
    params = form("hello")
    params[field] = params[field][:6] + "\x00" + params[field][6:]

    response = phone.post(params)

    assert response.status_code == 400
    with phone.app.app_context(), db.get_db(phone.app).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


def _store_in_draft(phone: SmsPhone, qid: str, value: str) -> None:
    """Put ``value`` into the draft as an answer, as a draft saved before the channel cleaned text."""
    with phone.app.app_context(), db.get_db(phone.app).transaction() as session:
        draft = session.scalars(select(Conversation).where(Conversation.address == phone.phone)).one()
        state = dict(draft.state)
        answers = dict(state["answers"])
        answers[qid] = {**answers[qid], "value": value, "typed": value}
        draft.state = {**state, "answers": answers}


@pytest.mark.parametrize("command", ["BACK", "REVIEW"])
def test_twiml_parses_when_a_draft_already_holds_nul_or_esc(phone: SmsPhone, command: str) -> None:
    start(phone)
    phone.send("Ref A")
    _store_in_draft(phone, "reference", "Ref\x00 A\x1b[31m\x0b")

    response = phone.post(form(command))

    assert response.status_code == 200
    replies = _assert_clean_twiml(response.data)
    assert "Ref A[31m" in "\n".join(replies)


def test_twiml_parses_after_answers_with_nul_and_esc_up_to_the_summary(phone: SmsPhone) -> None:
    start(phone)
    for answer, command in (("Ref\x00 A\x1b", "BACK"), ("Ref\x1b B", "REVIEW")):
        response = phone.post(form(answer))
        _assert_clean_twiml(response.data)
        response = phone.post(form(command))
        assert "Ref" in "\n".join(_assert_clean_twiml(response.data))


# -- web chat: refused with a clear message, the draft unchanged ---------------------------------


@pytest.fixture
def chat(product: Flask) -> tuple[FlaskClient, str, dict[str, str]]:
    """An operator's web chat at its first question (the reference)."""
    headers = _bearer(make_user(product, "operator@example.org", "operator"))
    client = product.test_client()
    conversation = client.post("/api/chat/conversations", headers=headers).get_json()["conversation"]
    return client, conversation, headers


def _state(app: Flask, conversation: str) -> dict[str, Any]:
    with app.app_context(), db.get_db(app).transaction(readonly=True) as session:
        return session.get(Conversation, conversation).state


@pytest.mark.parametrize("bad", UNCLEAN, ids=[f"U+{ord(ch):04X}" for ch in UNCLEAN])
def test_control_characters_or_lone_surrogates_in_a_web_chat_answer_are_refused_and_nothing_is_stored(
        product: Flask, chat: tuple[FlaskClient, str, dict[str, str]], bad: str) -> None:
    client, conversation, headers = chat
    before = _state(product, conversation)

    response = client.post(f"/api/chat/conversations/{conversation}/messages",
                           data=_raw_json(f"Tirana {bad}Road"),
                           headers={**headers, "Content-Type": "application/json"})

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_text" and "control characters" in body["error"]
    assert _state(product, conversation) == before  # the draft keeps everything it had


def test_the_refusal_is_in_the_language_of_the_request(
        chat: tuple[FlaskClient, str, dict[str, str]]) -> None:
    client, conversation, headers = chat
    response = client.post(f"/api/chat/conversations/{conversation}/messages", json={"text": "a\x00"},
                           headers={**headers, "Accept-Language": "cy"})
    body = response.get_json()
    assert response.status_code == 400 and body["language"] == "cy"
    assert "control characters" not in body["error"]


# -- the JSON API, URL parts and sign-in --------------------------------------------------------


@pytest.fixture
def caseworker(product: Flask) -> tuple[str, dict[str, str]]:
    """A claimed case and its caseworker's bearer header."""
    reference, token = claimed_case(product)
    return reference, _bearer(token)


@pytest.mark.parametrize("body", [
    {"stage": "rg", "outcome": "negative", "reasons": "He said\x00 so"},
    {"stage": "rg", "outcome": "negative", "reasons": "fine", "notes": [{"deep": ["x\x1b"]}]},
    {"stage": "rg", "outcome": "negative", "reasons": "fine", "ke\x85y": "value"},
    {"stage": "rg\x00", "outcome": "negative", "reasons": "fine"},
], ids=["reasons", "nested-value", "key", "choice"])
def test_control_characters_anywhere_in_an_api_json_body_are_refused(
        product: Flask, caseworker: tuple[str, dict[str, str]], body: dict[str, Any]) -> None:
    reference, headers = caseworker
    response = product.test_client().post(f"/api/v1/cases/{reference}/decisions", json=body,
                                          headers=headers)
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_text"
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 0


def test_a_lone_surrogate_in_decision_reasons_is_refused(
        product: Flask, caseworker: tuple[str, dict[str, str]]) -> None:
    reference, headers = caseworker
    raw = b'{"stage": "rg", "outcome": "negative", "reasons": "Seen in Tirana \\udc80"}'
    response = product.test_client().post(f"/api/v1/cases/{reference}/decisions", data=raw,
                                          headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_text"


@pytest.mark.parametrize("path", [
    "/api/chat/conversations",
    "/api/chat/resume",
    "/api/v1/referrals",
    "/api/v1/cases/NRM-2026-000001/decisions",
])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deeply_nested_json_answers_400(product: Flask, path: str, depth: int) -> None:
    token = make_user(product, "operator@example.org", "operator")
    response = product.test_client().post(path, data="[" * depth + "]" * depth,
                                          headers={**_bearer(token), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_json"


TOO_BIG = MAX_BODY_BYTES + 1


def test_an_sms_body_over_the_limit_is_refused_413_and_nothing_is_stored(phone: SmsPhone) -> None:
    params = form("Tirana Road")
    params["Padding"] = "x" * TOO_BIG  # signed like any other field: the size alone refuses it

    response = phone.post(params)

    assert response.status_code == 413
    with phone.app.app_context(), db.get_db(phone.app).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


@pytest.mark.parametrize("path", ["/api/chat/conversations", "/api/v1/referrals"])
def test_a_json_body_over_the_limit_is_refused_413_in_the_language_of_the_request(
        product: Flask, path: str) -> None:
    token = make_user(product, "operator@example.org", "operator")
    body = b'{"text": "' + b"a" * TOO_BIG + b'"}'
    client = product.test_client()

    english = client.post(path, data=body, headers={**_bearer(token), "Content-Type": "application/json"})
    welsh = client.post(path, data=body, headers={**_bearer(token), "Content-Type": "application/json",
                                                  "Accept-Language": "cy"})

    assert english.status_code == welsh.status_code == 413
    assert english.get_json()["code"] == "too_large" and "too large" in english.get_json()["error"]
    assert welsh.get_json()["language"] == "cy" and "too large" not in welsh.get_json()["error"]
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


@pytest.mark.parametrize("path", ["/api/chat/conversations", "/sms/twilio"])
def test_a_chunked_body_without_a_length_is_refused_413_when_it_reaches_the_limit(
        product: Flask, path: str) -> None:
    """A body sent in chunks (no Content-Length, as gunicorn passes it on) is read only up to the
    limit and refused, not handled cut off at it: the size is not taken on trust from the client."""
    token = make_user(product, "operator@example.org", "operator")
    body = io.BytesIO(b'{"text": "' + b"a" * TOO_BIG + b'"}')
    response = product.test_client().post(
        path, input_stream=body,
        headers={**_bearer(token), "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0


def test_a_chunked_body_under_the_limit_is_read_whole(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    body = io.BytesIO(b'{"language": "cy"}')
    response = product.test_client().post(
        "/api/chat/conversations", input_stream=body,
        headers={**_bearer(token), "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 201, response.data[:300]
    assert response.get_json()["language"] == "cy"


def test_a_body_just_under_the_limit_is_read(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    body = b'{"language": "en", "padding": "' + b"a" * (MAX_BODY_BYTES - 64) + b'"}'
    response = product.test_client().post("/api/chat/conversations", data=body,
                                          headers={**_bearer(token), "Content-Type": "application/json"})
    assert response.status_code != 413, response.data[:300]


@pytest.mark.parametrize("path", [
    "/api/chat/conversations/abc%00def",
    "/api/chat/conversations/abc%1Bdef/messages",
    "/api/chat/conversations?status=draft%00",
    "/api/v1/cases/NRM-2026%00-000001",
    "/api/v1/cases/NRM-2026-000001%C2%85/claim",
])
def test_control_characters_in_url_parts_are_refused(product: Flask, path: str) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    method = client.post if path.endswith(("/messages", "/claim")) else client.get
    response = method(path, headers=_bearer(token), json={"text": "hello"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_text"


def test_control_characters_in_a_casework_page_address_get_a_problem_page(product: Flask) -> None:
    response = product.test_client().get("/casework/cases/NRM-2026%1B-000001")
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)


SIGN_IN = "/casework/sign-in"
PASSWORD = "correct horse battery staple"


def _csrf(client: FlaskClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(SIGN_IN).get_data(as_text=True))
    assert found
    return found.group(1)


@pytest.mark.parametrize("encoding", ["application/x-www-form-urlencoded", "multipart/form-data"])
@pytest.mark.parametrize("field", ["email", "password"])
def test_control_characters_in_sign_in_fields_are_refused_and_count_no_failure(
        product: Flask, field: str, encoding: str) -> None:
    with product.app_context(), db.get_db(product).transaction() as session:
        auth.create_user(session, "operator@example.org", "operator", PASSWORD)
    client = product.test_client()
    fields = {"email": "operator@example.org", "password": PASSWORD}
    fields[field] = fields[field][:4] + "\x00" + fields[field][4:]

    response = client.post(SIGN_IN, data={"csrf_token": _csrf(client), **fields}, content_type=encoding)

    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)
    with product.app_context(), db.get_db(product).transaction(readonly=True) as session:
        attempts = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action.like("user.sign%")))
    assert attempts == 0  # no sign-in attempt was made, so none was counted or audited
    assert client.get("/chat").status_code == 302  # not signed in


@pytest.mark.parametrize("encoded", ["%ED%A0%80", "%C0%AF", "%FF", "abc%E2%82"],
                         ids=["encoded lone surrogate", "overlong", "not UTF-8", "cut short"])
def test_a_form_or_address_that_is_not_utf8_is_refused_not_stored_as_replacement_characters(
        product: Flask, encoded: str) -> None:
    with product.app_context(), db.get_db(product).transaction() as session:
        auth.create_user(session, "operator@example.org", "operator", PASSWORD)
    client = product.test_client()
    body = f"csrf_token={_csrf(client)}&email=operator{encoded}%40example.org&password=x"

    response = client.post(SIGN_IN, data=body.encode("ascii"), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)
    response = client.get(f"/casework/?q=NRM{encoded}")
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)


# -- anything at all -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unsigned_sms_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The product accepting unsigned SMS (development, no TWILIO_AUTH_TOKEN): arbitrary text
    cannot be signed the way Twilio signs, since a lone surrogate has no UTF-8 form."""
    with pytest.MonkeyPatch.context() as patch:
        for key in ENV_KEYS:
            patch.delenv(key, raising=False)
        app = make_sms_app(tmp_path_factory.mktemp("unsigned"), TWILIO_AUTH_TOKEN="")
        yield app
        db.get_db(app).engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bodies=st.lists(st.one_of(ANY_TEXT, st.sampled_from(["1", "REVIEW", "BACK", "HELP", "Ref A"])),
                       min_size=1, max_size=4))
def test_any_sms_text_gets_well_formed_twiml_and_never_a_5xx(unsigned_sms_app: Flask,
                                                             bodies: list[str]) -> None:
    client = unsigned_sms_app.test_client()
    for body in bodies:
        data = urlencode(form(body), encoding="utf-8", errors="surrogatepass")
        response = client.post("/sms/twilio", data=data, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200, body
        _assert_clean_twiml(response.data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(ANY_TEXT, st.sampled_from(["REVIEW", "BACK", "HELP", "Ref A"])),
                      min_size=1, max_size=4))
def test_any_web_chat_text_gets_json_and_never_a_5xx(unsigned_sms_app: Flask, texts: list[str]) -> None:
    headers = {**_bearer(_operator_token(unsigned_sms_app)), "Content-Type": "application/json"}
    client = unsigned_sms_app.test_client()
    conversation = client.post("/api/chat/conversations", headers=headers).get_json()["conversation"]
    for text in texts:
        response = client.post(f"/api/chat/conversations/{conversation}/messages",
                               data=_raw_json(text), headers=headers)
        assert response.status_code in (200, 400), text
        body = response.get_json()
        assert isinstance(body, dict)
        if response.status_code == 400:
            assert body["error"]
        else:
            assert all(is_clean(message) for message in body["messages"])


def _operator_token(app: Flask) -> str:
    token = app.extensions.get("test_operator_token")
    if token is None:
        token = app.extensions["test_operator_token"] = make_user(app, "hypothesis@example.org", "operator")
    return token
