"""EXPLAIN in a language of the people referred, through the channels (issue 13): the responder
gets the explanation to read or show, after a warning in the dialogue's language when no native
speaker has reviewed it; by SMS a long explanation is split at sentence ends, every letter kept."""

from __future__ import annotations

import pytest
from flask import Flask

from bot.i18n import catalogue
from bot.segments import segments
from flows import consent, languages
from tests.bot.conftest import make_user
from tests.bot.sms_support import SmsPhone, start
from tests.bot.test_webchat_api import _open, _send
from tests.flows.conversation import ADULT_NRM

pytestmark = pytest.mark.usefixtures("compiled_catalogues")

WARNING = "is a machine-assisted draft, not yet reviewed by a native speaker"


def test_web_chat_shows_a_tigrinya_explanation_after_the_warning_and_english_without_it(product: Flask) -> None:
    token = make_user(product, "operator@example.org", "operator")
    client = product.test_client()
    reply = _open(client, token)
    while True:
        asked = reply["question"]["id"]
        reply = _send(client, token, reply["conversation"], ADULT_NRM[asked])
        if asked == "pv-under-age":
            break
    tigrinya = [catalogue("ti").gettext(text) for text in consent.ADULT.texts]
    shown = _send(client, token, reply["conversation"], "EXPLAIN Tigrinya")["messages"]
    assert shown[0] == ("Warning: the explanation in ትግርኛ (Tigrinya) " + WARNING
                        + ". Use a qualified interpreter if you can.")
    assert shown[1:5] == tigrinya
    english = _send(client, token, reply["conversation"], "EXPLAIN")["messages"]
    assert english[0] == consent.ADULT_IF_YES and not any(WARNING in message for message in english)


def test_sms_sends_a_dari_explanation_whole_split_at_sentence_ends_after_the_warning(phone: SmsPhone) -> None:
    start(phone)
    for _ in range(20):
        asked = phone.current()
        phone.send(ADULT_NRM[asked])
        if asked == "pv-under-age":
            break
    number = [language.code for language in languages.EXPLAIN_LANGUAGES].index("prs") + 1
    replies = phone.send(f"EXPLAIN {number}")
    assert WARNING in replies[0] and "دری (Dari)" in replies[0]
    budget = languages.sms_segments("en")
    assert all(segments(message) <= budget for message in replies)
    sent = " ".join(replies).replace("\n", " ")
    for text in consent.ADULT.texts:
        dari = catalogue("prs").gettext(text)
        assert dari != text
        assert " ".join(dari.split()) in " ".join(sent.split())  # every letter, nothing stripped
    assert all(message.rstrip().endswith((".", "?", ":", "\u06d4")) or message.rstrip()[-1].isdigit()
               or "\n" in message for message in replies)
