"""The SMS channel in the seven languages: the language list at first contact, LANGUAGE at any step,
every reply fitted to its language's segment budget, with every accent, and the channel's own words (DONE, RESUME,
NEW, the quick-exit word) in the draft's language, with or without accents.

The app loads compiled catalogues; the ``compiled_catalogues`` fixture builds them when stale.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from backend import db
from backend.db import utcnow
from bot import sms
from bot.i18n import translator
from bot.segments import MAX_SEGMENTS, is_gsm7, pack, sanitise, segments
from flows import languages, render
from flows.dialogue import BY_ID
from flows.referral_questions import PARTS, part_of
from flows.i18n import ENGLISH
from tests.bot.sms_support import ENV_KEYS, SmsPhone, make_sms_app, start
from tests.flows.conversation import ADULT_NRM

pytestmark = pytest.mark.usefixtures("compiled_catalogues")

PROGRESS = re.compile(r"^\([^()]+ (\d+)/(\d+)\) ")


def _contains(text: str, wanted: str) -> bool:
    """``wanted`` is in ``text``, whether or not the SMS went out with its accents."""
    return languages.key(wanted) in languages.key(text)


def _walk_to(phone: SmsPhone, qid: str) -> None:
    for _ in range(100):
        current = phone.current()
        if current == qid:
            return
        phone.send(ADULT_NRM[current])
        assert phone.current() != current, f"{ADULT_NRM[current]!r} refused at {current}: {phone.text}"
    raise AssertionError(f"never asked {qid}")


# -- first contact ------------------------------------------------------------------------------


def test_a_welsh_first_contact_gets_the_welcome_and_first_question_in_welsh(phone: SmsPhone) -> None:
    menu = phone.send("Helo")
    assert menu == [languages.menu(ENGLISH)]

    replies = phone.send("2")  # Cymraeg
    cy = translator("cy")
    text = "\n".join(replies)
    assert phone.state()["language"] == "cy" and not phone.choosing_language()
    assert phone.current() == "reference"
    assert "Atgyfeiriad NRM" in text  # the welcome, in Welsh
    assert "NRM referral" not in text
    assert "\n(" + cy.gettext("About you") + " 1/" in "\n" + replies[-1] and cy.gettext(BY_ID["reference"].prompt) in replies[-1]
    assert all(segments(message) <= languages.sms_segments("cy") for message in replies)
    # registration answers are kept through the language question
    assert phone.state()["answers"]["user-organisation"]["value"] == "The Salvation Army"

    phone.send("SA-0412")
    assert phone.answer("reference") == "SA-0412"
    assert phone.current() == "fr-location"
    assert _contains(phone.text, cy.gettext(BY_ID["fr-location"].prompt))


def test_the_language_can_be_named_at_first_contact(phone: SmsPhone) -> None:
    phone.send("hello")
    phone.send("Tieng Viet")
    assert phone.state()["language"] == "vi"
    assert " 1/2" in phone.replies[-1]
    assert _contains(phone.text, translator("vi").gettext(BY_ID["reference"].prompt))


def test_start_after_stop_at_the_language_list_asks_the_language_again(phone: SmsPhone) -> None:
    phone.send("hello")
    assert phone.send("STOP") == []
    replies = phone.send("START")
    assert replies[-1].endswith(languages.menu_lines()) and phone.choosing_language()
    phone.send("6")
    assert phone.state()["language"] == "pl" and phone.current() == "reference"


def test_a_first_contact_left_at_the_language_list_is_not_offered_back(phone: SmsPhone) -> None:
    phone.send("hello")
    phone.age_draft(utcnow() - timedelta(hours=2))
    replies = phone.send("3")  # Shqip: taken as the reply to the list, no RESUME/NEW offer
    assert phone.state()["language"] == "sq" and not phone.choosing_language()
    assert "RESUME" not in "\n".join(replies) and " 1/2" in replies[-1]


# -- LANGUAGE mid-dialogue ------------------------------------------------------------------------


def test_language_mid_dialogue_switches_and_asks_the_question_again(phone: SmsPhone) -> None:
    start(phone)  # English
    phone.send("SA-0412")
    assert phone.current() == "fr-location"

    replies = phone.send("LANGUAGE")
    assert replies == [languages.menu(ENGLISH)] and phone.choosing_language()

    replies = phone.send("6")  # Polski
    pl = translator("pl")
    text = "\n".join(replies)
    assert phone.state()["language"] == "pl" and not phone.choosing_language()
    assert pl.gettext(languages.CHANGED) in text
    assert "\n(" + pl.gettext("About you") + " 2/" in replies[-1] and _contains(replies[-1], pl.gettext(BY_ID["fr-location"].prompt))
    assert phone.answer("reference") == "SA-0412" and phone.current() == "fr-location"

    # the Polish word for LANGUAGE, typed without its accent, with a number: switched at once
    replies = phone.send("jezyk 2")
    cy = translator("cy")
    assert phone.state()["language"] == "cy"
    assert cy.gettext(languages.CHANGED) in "\n".join(replies)
    assert _contains(replies[-1], cy.gettext(BY_ID["fr-location"].prompt))
    assert phone.answer("reference") == "SA-0412" and phone.current() == "fr-location"


# -- fitting each message to its language's budget, accents kept -----------------------------------


@pytest.mark.parametrize(("choice", "code"), [("6", "pl"), ("2", "cy"), ("4", "vi")])
def test_a_long_prompt_goes_out_as_one_message_with_its_accents_within_the_language_budget(
    phone: SmsPhone, choice: str, code: str
) -> None:
    start(phone, choice)
    _walk_to(phone, "types-of-exploitation")
    t = translator(code)
    question = BY_ID["types-of-exploitation"]
    title = sanitise(t.gettext(question.prompt))
    carrying = [message for message in phone.replies if title in message]
    assert len(carrying) == 1, phone.replies
    message = carrying[0]
    step, of = (int(n) for n in PROGRESS.match(message).groups())
    number, name = part_of(question)
    progress = render.Progress(name, number, len(PARTS), step, of)
    accented = sanitise(render.prompt(question, progress, None, t))
    assert segments(accented) > MAX_SEGMENTS  # more than an English prompt may take...
    assert message.endswith(accented)  # ...yet every option, with every accent, in one message
    assert languages.unaccented(message) != message
    assert segments(message) <= languages.sms_segments(code)


def test_a_short_polish_prompt_keeps_its_accents(phone: SmsPhone) -> None:
    replies = start(phone, "6")
    pl = translator("pl")
    prompt = sanitise(pl.gettext(BY_ID["reference"].prompt))
    assert not is_gsm7(prompt)  # it has letters only UCS-2 can carry...
    assert prompt in replies[-1]  # ...and goes out with them
    assert "Zgłoszenie do NRM" in replies[0]
    assert all(segments(message) <= languages.sms_segments("pl") for message in replies)


@pytest.mark.parametrize("code", [code for code in languages.CODES if code != "en"])
def test_every_reply_of_a_whole_referral_fits_in_every_language(sms_app: Flask, code: str) -> None:
    phone = SmsPhone(sms_app)
    start(phone, str(languages.number_of(code)))
    for _ in range(100):
        budget = languages.sms_segments(code)
        assert all(segments(m) <= budget and len(m) <= 1600 for m in phone.replies), phone.replies
        current = phone.current()
        if current == "review":
            break
        phone.send(ADULT_NRM[current])
        assert phone.current() != current, (code, current, phone.text)
    assert phone.current() == "review"


def test_a_reply_keeps_every_accent_and_a_long_text_is_split_at_sentence_ends() -> None:
    """Issue 13: "Bị ép mại dâm" once went out as "Bi ép mai dam" (é is in the GSM alphabet, the
    other marks are not), decided by the dialogue's language rather than the text's own. Now no
    letter is changed, in any language, and a long text is cut between its sentences."""
    assert pack(["Zażółć gęślą jaźń"], languages.sms_segments("pl")) == ["Zażółć gęślą jaźń"]
    assert pack(["\u201cCytat\u201d \u2013 tak"], 3) == ['"Cytat" - tak']
    vietnamese = " ".join(["Bị ép mại dâm hoặc bóc lột tình dục."] * 12)
    for budget in (languages.sms_segments("en"), languages.sms_segments("vi")):  # read in an English dialogue too
        sent = pack([vietnamese], budget)
        assert len(sent) > 1 and all(segments(part) <= budget for part in sent)
        assert " ".join(sent) == vietnamese  # nothing stripped, nothing lost
        assert all(part.endswith(".") for part in sent)  # each part ends a sentence
    summary = "\n".join(f"{n} Miejsce: Łódź, ulica Żółta {n}" for n in range(1, 40))
    assert "\n".join(pack([summary], 6)) == summary  # split between lines, as typed
    arabic = "مرحبا بك. " * 60
    assert "".join(pack([arabic], 4)).replace(" ", "") == arabic.replace(" ", "")


# -- the channel's words in the draft's language ---------------------------------------------------


def test_done_resume_and_new_work_in_polish_without_accents(phone: SmsPhone) -> None:
    pl = translator("pl")
    start(phone, "6")
    assert phone.send("Team...") == [pl.gettext(sms.GOT_PART)]
    phone.send("0412...")
    phone.send("gotowe")  # GOTOWE
    assert phone.answer("reference") == "Team 0412"

    phone.age_draft(utcnow() - timedelta(hours=2))
    replies = phone.send("dzień dobry")
    assert len(replies) == 1 and replies[0].startswith("Masz rozpoczęte zgłoszenie (O Tobie 2/2). ")
    assert "WZNÓW" in replies[0] and "NOWE" in replies[0]
    assert phone.send("co?") == replies  # not a word of the channel: the offer again
    phone.send("wznow")  # WZNÓW, without the accent
    assert phone.current() == "fr-location" and "offer" not in phone.state().get("channel", {})

    phone.age_draft(utcnow() - timedelta(hours=2))
    phone.send("hej")
    old = phone.draft().id
    phone.send("Nowe.")  # NOWE
    assert phone.draft().id != old
    assert phone.state()["language"] == "pl"  # a new referral in the same language
    assert "reference" not in phone.state()["answers"] and phone.current() == "reference"


@pytest.mark.parametrize(("choice", "word"), [("6", "bezpiecznie"), ("6", "Bezpiecznie!"), ("6", "SAFE"),
                                              ("4", "an toan"), ("4", "AN TOÀN"), ("2", "diogel"),
                                              ("1", "Safe.")])
def test_the_quick_exit_word_works_in_the_drafts_language(phone: SmsPhone, choice: str, word: str) -> None:
    start(phone, choice)
    phone.send("SA-0412")
    assert phone.send(word) == ["OK."]
    assert phone.draft() is None


def test_the_quick_exit_word_of_another_language_is_an_answer(phone: SmsPhone) -> None:
    start(phone)  # English
    phone.send("bezpiecznie")
    assert phone.answer("reference") == "bezpiecznie"


def test_an_expired_polish_draft_is_reported_in_polish_with_the_plural(phone: SmsPhone) -> None:
    start(phone, "6")
    phone.send("SA-0412")
    phone.age_draft(utcnow() - timedelta(days=8))
    replies = phone.send("dzień dobry")
    text = "\n".join(replies)
    assert "Niedokończone zgłoszenie usunięto po 7 dniach. Oto nowe." in text
    assert replies[-1].endswith(languages.menu_lines()) and phone.choosing_language()


def test_a_one_day_expiry_is_said_in_the_singular(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    app = make_sms_app(tmp_path, DRAFT_EXPIRY_DAYS=1)
    try:
        phone = SmsPhone(app)
        start(phone)
        phone.send("SA-0412")
        phone.age_draft(utcnow() - timedelta(days=2))
        phone.send("hello")
        assert "Your unfinished referral was deleted after 1 day. Here is a new one." in phone.text
        pl = translator("pl")
        assert sms._expired(pl, 1) == "Niedokończone zgłoszenie usunięto po 1 dniu. Oto nowe."
        assert "po 22 dniach" in sms._expired(pl, 22)
    finally:
        db.get_db(app).engine.dispose()
