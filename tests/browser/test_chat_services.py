"""The web chat as a GOV.UK service, in a real Chromium, in English and in Arabic: axe-core
(WCAG 2.2 A/AA) on every page and state a referral passes through, check your answers with its
Change links, the GOV.UK error pattern, structured inputs, the task list, the consent explanation,
drafts (list, history after a reload, discard), "Exit this page", and a whole referral made with
the keyboard alone.

``NRM_UPDATE_SCREENSHOTS=1`` also writes docs/webchat-check-your-answers.png and
docs/webchat-arabic.png.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from backend import auth, db
from backend.models import AuditEvent, Case, Conversation, User
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import PASSWORD, LiveServer, checked_page
from tests.browser.test_chat_page import answer, choose, question, turns, wait_for_reply
from tests.flows.conversation import CHILD

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
_numbers = itertools.count(1)


def new_operator(server: LiveServer) -> str:
    email = f"chat-operator-{next(_numbers)}@example.org"
    with server.app.app_context(), db.get_db(server.app).transaction() as session:
        auth.create_user(session, email, "operator", PASSWORD)
    return email


@pytest.fixture
def browser_page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in the language of the test's ``language`` parameter (the context's Accept-Language),
    wide enough for the task list beside the chat; no CSP violation allowed."""
    yield from checked_page(chromium, getattr(request, "param", "en"))


def sign_in(page: Any, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/chat")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(server.url + "/chat")
    page.wait_for_selector("#chat[data-ready='true']", state="attached")


def start(page: Any, language: str) -> None:
    page.wait_for_selector("#start:not([hidden])")
    page.select_option("#start-language", language)
    before = turns(page)
    page.click("#start-button")
    wait_for_reply(page, before)
    page.wait_for_selector("#aside:not([hidden]) .govuk-task-list")


def answer_until(page: Any, stop: str) -> None:
    """Answer as a person would until question ``stop`` is asked (or the summary)."""
    for _ in range(150):
        qid, kind = question(page)
        if qid == stop or kind == "confirm":
            return
        answer(page, qid, kind, CHILD[qid])
    raise AssertionError(f"{stop} was never asked")


def type_answer(page: Any, text: str) -> None:
    before = turns(page)
    page.fill("#answer", text)
    page.press("#answer", "Enter")
    wait_for_reply(page, before)


def every_message_has_its_time(page: Any) -> None:
    assert page.eval_on_selector_all(
        "#transcript li", "items => items.every(li => li.querySelector('time[datetime]'))")


def screenshot(page: Any, name: str) -> None:
    """The top of the page, down to the first answers of "Check your answers"."""
    if os.environ.get("NRM_UPDATE_SCREENSHOTS") == "1":
        page.set_viewport_size({"width": 1280, "height": 1600})
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS / name))


def draft_at(server: LiveServer, email: str, language: str, stop: str) -> str:
    """A child referral answered through the API up to question ``stop`` (or the summary), as
    ``email``'s own draft; the page opens it with /chat?conversation=<id>."""
    with server.app.app_context(), db.get_db(server.app).transaction() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        token = auth.create_token(session, user)
    client, headers = server.app.test_client(), {"Authorization": f"Bearer {token}"}
    reply = client.post("/api/chat/conversations", json={"language": language}, headers=headers).get_json()
    while reply["question"]["id"] != stop and reply["question"]["kind"] != "confirm":
        reply = client.post(f"/api/chat/conversations/{reply['conversation']}/messages",
                            json={"text": CHILD[reply["question"]["id"]]}, headers=headers).get_json()
    return reply["conversation"]


def open_draft(page: Any, server: LiveServer, conversation: str) -> None:
    page.goto(f"{server.url}/chat?conversation={conversation}")
    page.wait_for_selector("#conversation-panel:not([hidden])")
    page.wait_for_selector("#aside:not([hidden]) .govuk-task-list")


def language_of(page: Any) -> str:
    return page.evaluate("document.documentElement.lang")


BOTH = pytest.mark.parametrize("browser_page", ["en", "ar"], indirect=True)


@BOTH
def test_the_empty_chat_and_the_first_question_pass_axe_with_the_task_list_beside(
        browser_page: Any, live_server: LiveServer) -> None:
    page = browser_page
    sign_in(page, live_server, new_operator(live_server))
    language = language_of(page)
    assert_accessible(page, f"the web chat, empty ({language})")
    start(page, language)
    rtl = language == "ar"
    assert page.get_attribute("#conversation", "dir") == ("rtl" if rtl else "ltr")
    assert page.locator("#exit-this-page .govuk-exit-this-page__button").is_visible()
    assert page.locator("#tasks .govuk-task-list__item").count() == 7
    chat_box, tasks_box = page.locator("#conversation-panel").bounding_box(), page.locator("#aside").bounding_box()
    assert (tasks_box["x"] < chat_box["x"]) if rtl else (tasks_box["x"] > chat_box["x"])  # beside, on the far side
    every_message_has_its_time(page)
    assert_accessible(page, f"the web chat, first question ({language})")


@BOTH
def test_a_refused_answer_shows_the_govuk_error_pattern_and_the_history_survives_a_reload(
        browser_page: Any, live_server: LiveServer) -> None:
    page = browser_page
    email = new_operator(live_server)
    sign_in(page, live_server, email)
    language = language_of(page)
    open_draft(page, live_server, draft_at(live_server, email, language, "user-email"))
    typed_before = page.locator("#transcript .app-chat__message--user").count()
    assert typed_before >= 2  # the answers sent so far, from the stored transcript
    type_answer(page, "not an email address")
    assert question(page)[0] == "user-email"
    page.wait_for_selector("#chat-error:not([hidden])")
    assert page.get_attribute("#chat-error-text a", "href") == "#answer"
    assert page.get_attribute("#answer", "aria-invalid") == "true"
    assert "answer-error" in page.get_attribute("#answer", "aria-describedby")
    assert page.is_visible("#answer-error") and page.is_visible("#answer-group.govuk-form-group--error")
    assert page.evaluate("document.activeElement.id") == "chat-error"
    assert_accessible(page, f"the web chat, mid-referral with an error ({language})")

    page.reload()
    page.wait_for_function("() => document.getElementById('question').getAttribute('data-question-id') === 'user-email'")
    assert "not an email address" in page.inner_text("#transcript")
    assert page.locator("#transcript .app-chat__message--user").count() == typed_before + 1
    every_message_has_its_time(page)
    assert page.is_visible("#current-text")  # the current question, last
    type_answer(page, "DISCARD")
    assert question(page) == ("confirm-discard", "yes_no")
    assert page.is_visible("#pending") and page.is_hidden("#current-text")  # shown as a confirmation
    assert_accessible(page, f"the web chat, a pending confirmation ({language})")
    before = turns(page)
    choose(page, "[data-value='no']")
    wait_for_reply(page, before)
    assert question(page)[0] == "user-email" and page.is_hidden("#pending")


@BOTH
def test_choices_are_govuk_radios_and_dates_a_govuk_date_input(browser_page: Any, live_server: LiveServer) -> None:
    page = browser_page
    email = new_operator(live_server)
    sign_in(page, live_server, email)
    language = language_of(page)
    open_draft(page, live_server, draft_at(live_server, email, language, "fr-location"))
    assert question(page) == ("fr-location", "choice")
    assert page.locator("#choices .govuk-radios input[type='radio']").count() == 4
    assert_accessible(page, f"the web chat, a choice question ({language})")
    # the consent explanation beside the chat, in a language other than the page's
    answer_until(page, "pv-dob")
    other = "cy" if language == "ar" else "ar"
    page.select_option("#explain-language", other)
    page.click("#explain-button")
    page.wait_for_selector(f"#explanation [lang='{other}']")
    assert question(page) == ("pv-dob", "date")
    assert page.locator("#choices .govuk-date-input input").count() == 3
    assert_accessible(page, f"the web chat, a date question and the consent explanation ({language})")
    before = turns(page)
    page.fill("#date-day", "3")
    page.click("#send-date")
    page.wait_for_selector("#chat-error:not([hidden])")
    assert page.get_attribute("#date-day", "aria-invalid") == "true" and turns(page) == before
    assert_accessible(page, f"the web chat, a date question with an error ({language})")
    answer(page, "pv-dob", "date", CHILD["pv-dob"])


@BOTH
def test_check_your_answers_groups_full_answers_by_section_with_change_links(
        browser_page: Any, live_server: LiveServer) -> None:
    page = browser_page
    email = new_operator(live_server)
    sign_in(page, live_server, email)
    language = language_of(page)
    open_draft(page, live_server, draft_at(live_server, email, language, "summary"))
    assert question(page)[1] == "confirm"
    page.wait_for_selector("#check-answers:not([hidden]) .govuk-summary-list")
    assert page.locator("#answers h3").count() >= 4
    rows = page.locator("#answers .govuk-summary-list__row").count()
    assert rows == page.locator("#answers a[data-edit]").count() > 15
    assert page.locator("#answers bdi[dir='ltr']").count() >= 2  # email, date of birth
    assert page.locator("#tasks .govuk-task-list__status").count() == 7
    assert page.locator("#tasks .govuk-task-list__status .govuk-tag").count() == 0  # all completed
    assert_accessible(page, f"the web chat, check your answers ({language})")
    screenshot(page, "webchat-arabic.png" if language == "ar" else "webchat-check-your-answers.png")
    before = turns(page)
    page.click("#answers a[data-edit='1']")  # Change: the first answer, as EDIT 1
    wait_for_reply(page, before)
    assert question(page)[0] == "reference"
    type_answer(page, "SA-0413")
    assert question(page)[1] == "confirm"
    page.wait_for_selector("#answers bdi:text-is('SA-0413')")
    before = turns(page)
    page.click("#confirm")
    wait_for_reply(page, before)
    reference = page.get_attribute("#reference", "data-reference")
    assert reference and reference.startswith("NRM-")
    assert_accessible(page, f"the web chat, the referral sent ({language})")
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        assert session.scalars(select(Case).where(Case.reference == reference)).one().age_route == "child"


@BOTH
def test_drafts_are_listed_opened_with_their_history_and_discarded_only_when_confirmed(
        browser_page: Any, live_server: LiveServer) -> None:
    page = browser_page
    email = new_operator(live_server)
    sign_in(page, live_server, email)
    language = language_of(page)
    older = draft_at(live_server, email, language, "user-email")
    newer = draft_at(live_server, email, language, "reference")
    page.goto(live_server.url + "/chat/drafts")
    assert page.locator("#drafts tbody tr").count() == 2
    assert page.locator("#drafts time[datetime]").count() == 4
    assert_accessible(page, f"the drafts list ({language})")
    page.click(f"#drafts a[data-open='{older}']")
    page.wait_for_url(f"{live_server.url}/chat?conversation={older}")
    page.wait_for_function("() => document.getElementById('question').getAttribute('data-question-id') === 'user-email'")
    assert page.locator("#transcript .app-chat__message--user").count() >= 2
    page.goto(live_server.url + "/chat/drafts")
    page.click(f"#drafts a[data-discard='{newer}']")
    page.wait_for_selector("#discard-confirm")
    assert_accessible(page, f"discard a draft, asked first ({language})")
    page.click("#discard-cancel")
    page.wait_for_url(live_server.url + "/chat/drafts")
    page.wait_for_selector("#drafts tbody tr")
    assert page.locator("#drafts tbody tr").count() == 2  # kept
    page.click(f"#drafts a[data-discard='{newer}']")
    page.wait_for_selector("#discard-confirm")
    page.click("#discard-confirm")
    page.wait_for_selector(".govuk-notification-banner--success")
    assert page.locator("#drafts tbody tr").count() == 1
    assert_accessible(page, f"the drafts list after a discard ({language})")
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        assert session.get(Conversation, newer).status == "cancelled"
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.discarded")
                                .order_by(AuditEvent.id.desc())).first()
        assert event.detail["conversation"] == newer


@BOTH
def test_exit_this_page_leaves_at_once_and_signs_the_operator_out(browser_page: Any, live_server: LiveServer) -> None:
    page = browser_page
    email = new_operator(live_server)
    sign_in(page, live_server, email)
    language = language_of(page)
    conversation = draft_at(live_server, email, language, "user-email")
    open_draft(page, live_server, conversation)
    page.route("https://www.bbc.co.uk/**", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body="<!doctype html><html lang='en'><title>Weather</title><main><h1>Weather</h1></main></html>"))
    page.click("#exit-this-page .govuk-exit-this-page__button")
    page.wait_for_url("https://www.bbc.co.uk/**")
    page.goto(live_server.url + "/chat")
    page.wait_for_url("**/casework/sign-in**")  # the session ended as the page went
    assert_accessible(page, f"after Exit this page ({language})")
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        assert session.get(Conversation, conversation).status == "draft"  # the person's referral is kept


def test_a_whole_referral_with_the_keyboard_alone(browser_page: Any, live_server: LiveServer) -> None:
    """No mouse: Tab, Shift+Tab, Enter, Space and typing only, from the start to the reference."""
    page = browser_page
    sign_in(page, live_server, new_operator(live_server))
    page.wait_for_selector("#start:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "start-language"  # focus is placed for us
    before = turns(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    wait_for_reply(page, before)
    for _ in range(150):
        qid, kind = question(page)
        if not qid:
            break
        focused = page.evaluate("document.activeElement.id")
        before = turns(page)
        if kind == "confirm":
            assert focused == "confirm"
            page.keyboard.press("Enter")
        elif kind == "multi" and CHILD[qid].replace(" ", "").isdigit():
            wanted = set(CHILD[qid].split())
            count = page.locator("#choices input[type='checkbox']").count()
            for number in range(1, count + 1):
                assert page.evaluate("document.activeElement.getAttribute('data-choice')") == str(number)
                if str(number) in wanted:
                    page.keyboard.press("Space")
                page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "send-choices"
            page.keyboard.press("Enter")
        elif kind == "date":
            assert focused == "date-day"
            day, month, year = CHILD[qid].split("/")
            page.keyboard.type(day)
            page.keyboard.press("Tab")
            page.keyboard.type(month)
            page.keyboard.press("Tab")
            page.keyboard.type(year)
            page.keyboard.press("Enter")
        elif page.locator("#choices input[type='radio']").count():
            value = CHILD[qid]
            radio = page.locator(f"#choices input[data-choice='{value}'], #choices input[data-value='{value.lower()}']")
            if radio.count() and radio.first.get_attribute("data-choice") == "1":
                page.keyboard.press("Space")  # the first choice, where the focus is
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.id") == "send-choice"
                page.keyboard.press("Enter")
            else:  # another: typed in the answer box after the radios and Continue, as by SMS
                page.keyboard.press("Tab")
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.id") == "answer"
                page.keyboard.type(radio.first.get_attribute("data-choice") if radio.count() else value)
                page.keyboard.press("Enter")
        else:
            assert focused == "answer"
            page.keyboard.type(CHILD[qid])
            page.keyboard.press("Enter")
        wait_for_reply(page, before)
        assert question(page)[0] != qid or kind == "confirm", f"{qid} refused"
    reference = page.get_attribute("#reference", "data-reference")
    assert reference and reference.startswith("NRM-")
    assert page.evaluate("document.activeElement.id") == "new-referral"
    # the transcript's scrollable log is reachable with Tab too
    assert page.get_attribute("#transcript-log", "tabindex") == "0"
