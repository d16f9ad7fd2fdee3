"""The web chat page in a real Chromium: a whole referral, keyboard use, right-to-left Arabic.

The tests read the current question from ``#question[data-question-id]`` and answer it from the
answer sets of ``tests/flows/conversation.py`` the way a person would: a choice by its radio,
several by their checkboxes, a date in the GOV.UK date input, everything else typed. ``NRM_UPDATE_SCREENSHOTS=1`` (see
``scripts/screenshot-webchat.sh``) also writes docs/webchat-mid-referral.png.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend import db
from backend.models import Case
from tests.browser.conftest import OPERATORS, PASSWORD, LiveServer
from tests.flows.conversation import CHILD

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "webchat-mid-referral.png"
SCREENSHOT_AT = "when-last-contact"
"""The question at which the mid-referral screenshot is taken (a choice, part-way through)."""


def sign_in(page: Any, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/chat")
    assert "/casework/sign-in" in page.url  # anonymous: sent to sign in first
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(server.url + "/chat")
    page.wait_for_selector("#chat[data-ready='true']", state="attached")


def turns(page: Any) -> int:
    return int(page.get_attribute("#chat", "data-turns") or 0)


def wait_for_reply(page: Any, before: int) -> None:
    page.wait_for_function(
        "n => Number(document.getElementById('chat').getAttribute('data-turns') || 0) > n", arg=before)


def start(page: Any, language: str = "en") -> None:
    page.wait_for_selector("#start:not([hidden])")
    page.select_option("#start-language", language)
    before = turns(page)
    page.click("#start-button")
    wait_for_reply(page, before)


def question(page: Any) -> tuple[str, str]:
    box = page.locator("#question")
    if not box.is_visible():
        return "", ""
    return box.get_attribute("data-question-id") or "", box.get_attribute("data-question-kind") or ""


def choose(page: Any, selector: str) -> None:
    """Pick one radio of the current question and send it with Continue."""
    page.check(f"#choices input{selector}")
    page.click("#send-choice")


def answer(page: Any, qid: str, kind: str, text: str) -> None:
    """Answer like a person: pick the choice, tick the boxes, fill the date, or type."""
    before = turns(page)
    numbers = text.split()
    date = text.split("/")
    if kind == "multi" and all(n.isdigit() for n in numbers):
        for number in numbers:
            page.check(f"#choices input[data-choice='{number}']")
        page.click("#send-choices")
    elif text.isdigit() and page.locator(f"#choices input[data-choice='{text}']").count():
        choose(page, f"[data-choice='{text}']")
    elif page.locator(f"#choices input[data-value='{text.lower()}']").count():
        choose(page, f"[data-value='{text.lower()}']")
    elif kind == "date" and len(date) == 3 and all(part.isdigit() for part in date):
        for name, part in zip(("day", "month", "year"), date):
            page.fill(f"#date-{name}", part)
        page.click("#send-date")
    elif text == "SKIP":
        page.click("#skip")
    else:
        page.fill("#answer", text)
        page.press("#answer", "Enter")
    wait_for_reply(page, before)
    assert question(page)[0] != qid, f"{text!r} for {qid} was refused: {page.inner_text('#transcript')[-400:]}"


def test_an_operator_makes_a_whole_referral_in_the_browser(page: Any, live_server: LiveServer,
                                                           tmp_path: Path) -> None:
    sign_in(page, live_server, OPERATORS[0])
    start(page)
    assert page.get_attribute("#conversation", "dir") == "ltr"
    reloaded = False
    for _ in range(150):
        qid, kind = question(page)
        if not qid:
            break
        if kind == "confirm":  # the numbered summary: send it with its Confirm button
            assert page.is_visible("#confirm") and page.inner_text("#progress") == "Check your answers"
            before = turns(page)
            page.click("#confirm")
            wait_for_reply(page, before)
            continue
        assert ": question " in page.inner_text("#progress") and "of 7)" in page.inner_text("#progress")
        if qid == SCREENSHOT_AT and not reloaded:
            shot = tmp_path / "mid-referral.png"
            page.set_viewport_size({"width": 1280, "height": 1160})  # the whole question in view
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(shot))
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            if os.environ.get("NRM_UPDATE_SCREENSHOTS") == "1":
                SCREENSHOT.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOT))
            # a reload carries on with the same draft at the same question
            page.reload()
            page.wait_for_function(
                "q => document.getElementById('question').getAttribute('data-question-id') === q", arg=qid)
            reloaded = True
        answer(page, qid, kind, CHILD[qid])
    assert reloaded, "the screenshot question was never asked"

    reference = page.get_attribute("#reference", "data-reference")
    assert page.locator("#done").is_visible()
    assert reference and reference.startswith("NRM-")
    assert reference in page.inner_text("#done")
    with live_server.app.app_context(), db.get_db(live_server.app).transaction(readonly=True) as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert case.age_route == "child"


def test_the_choice_buttons_work_with_the_keyboard_alone(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, OPERATORS[1])
    page.focus("#start-language")
    before = turns(page)
    page.keyboard.press("Tab")  # to the Start button
    page.keyboard.press("Enter")
    wait_for_reply(page, before)
    for qid in ("reference", "user-organisation", "user-email"):
        assert question(page)[0] == qid
        assert page.evaluate("document.activeElement.id") == "answer"  # focus is on the answer box
        before = turns(page)
        page.keyboard.type(CHILD[qid])
        page.keyboard.press("Enter")
        wait_for_reply(page, before)

    assert question(page) == ("fr-location", "choice")
    assert page.evaluate("document.activeElement.getAttribute('data-choice')") == "1"
    page.keyboard.press("ArrowDown")  # radios: the arrow keys move between the choices
    focused = page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el);
        return {choice: el.getAttribute('data-choice'), label: el.labels[0].textContent,
                checked: el.checked, outline: style.outlineStyle, shadow: style.boxShadow};
    }""")
    assert focused["choice"] == "2" and focused["label"] == "Wales" and focused["checked"]
    page.keyboard.press("Tab")  # to Continue
    focused = page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el);
        return {id: el.id, outline: style.outlineStyle, shadow: style.boxShadow};
    }""")
    assert focused["id"] == "send-choice"
    assert focused["outline"] != "none" or focused["shadow"] != "none"  # focus is visible
    before = turns(page)
    page.keyboard.press("Enter")
    wait_for_reply(page, before)
    assert question(page)[0] != "fr-location"
    assert "Wales" in page.inner_text("#transcript")
    assert page.get_attribute("#transcript-log", "aria-live") == "polite"


def test_an_arabic_conversation_is_right_to_left(page: Any, live_server: LiveServer) -> None:
    from flows import languages

    if not languages.BY_CODE.get("ar") or not languages.BY_CODE["ar"].rtl:
        pytest.skip("no right-to-left language in flows.languages")
    sign_in(page, live_server, OPERATORS[2])
    start(page, "en")
    assert page.get_attribute("#conversation", "dir") == "ltr"
    # switch with the LANGUAGE command, then pick Arabic from the language buttons
    before = turns(page)
    page.click("#commands button[data-command='LANGUAGE']")
    wait_for_reply(page, before)
    assert question(page)[0] == languages.LANGUAGE_QUESTION
    assert page.inner_text("label[for='" + page.get_attribute("#choices input[data-value='ar']", "id") + "']") == "العربية"
    before = turns(page)
    choose(page, "[data-value='ar']")
    wait_for_reply(page, before)
    if question(page)[0] == languages.LANGUAGE_QUESTION or page.get_attribute("#conversation", "lang") != "ar":
        before = turns(page)  # a confirmation step ("yes") if the dialogue asks for one
        choose(page, "[data-value='yes']")
        wait_for_reply(page, before)
    assert page.get_attribute("#conversation", "lang") == "ar"
    assert page.get_attribute("#conversation", "dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.getElementById('transcript')).direction") == "rtl"
    # and a new Arabic conversation after a reload starts right-to-left from the server's page
    page.reload()
    page.wait_for_selector("#conversation-panel:not([hidden])")
    assert page.get_attribute("#conversation", "dir") == "rtl"


def test_the_page_is_in_the_browsers_language_around_an_english_conversation(chromium: Any,
                                                                             live_server: LiveServer) -> None:
    """A Welsh browser (Accept-Language: cy) gets the page chrome and the script's own words in
    Welsh; the conversation keeps its own language (English here) in its region."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="cy")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, live_server, OPERATORS[3])
        assert page.get_attribute("html", "lang") == "cy"
        assert page.inner_text("h1") == "Atgyfeiriad drwy sgwrs ar y we"
        start(page, "en")
        assert page.get_attribute("#conversation", "lang") == "en"
        # the page's words in Welsh; the part's name is the conversation's (English), as the API gives it
        assert page.inner_text("#progress") == "About you: cwestiwn 1 o 4 (rhan 1 o 7)"
        assert "Cynorthwyydd:" in page.inner_text("#transcript .app-chat__message--bot .govuk-visually-hidden")
        page.fill("#answer", "")
        page.press("#answer", "Enter")  # nothing typed: the script's own error, in Welsh
        page.wait_for_selector("#chat-error:not([hidden])")
        assert page.inner_text("#chat-error-text") == "Teipiwch ateb, neu dewiswch un o'r botymau."
        assert page.get_attribute("#chat-error-text", "lang") == "cy"
    finally:
        context.close()


def test_a_pending_discard_is_still_asked_after_a_reload(page: Any, live_server: LiveServer) -> None:
    """DISCARD, reload: the page shows the YES/NO confirmation, not the question under it."""
    sign_in(page, live_server, OPERATORS[4])
    start(page)
    assert page.inner_text("#progress") == "About you: question 1 of 4 (part 1 of 7)"
    before = turns(page)
    page.fill("#answer", "DISCARD")
    page.press("#answer", "Enter")
    wait_for_reply(page, before)
    assert question(page) == ("confirm-discard", "yes_no")
    page.reload()
    page.wait_for_selector("#conversation-panel:not([hidden])")
    assert question(page) == ("confirm-discard", "yes_no")
    assert "This deletes this referral without sending it." in page.inner_text("#transcript")
    before = turns(page)
    choose(page, "[data-value='no']")
    wait_for_reply(page, before)
    assert question(page) == ("reference", "text")
    assert "OK, nothing deleted." in page.inner_text("#transcript")
