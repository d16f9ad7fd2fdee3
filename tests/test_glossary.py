"""translations/glossary.tsv: one term per language for each key word, in the dialogue and on the
staff pages alike (issue 13: Arabic used two terms for Duty to Notify, Vietnamese "giới thiệu"
and "tích cực/tiêu cực", Romanian "Trimiterea NRM a fost trimisă", Welsh "yn dioddef")."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from bot import glossary, translate

KEY_TERMS = ("referral", "first responder", "Duty to Notify", "reasonable grounds",
             "conclusive grounds", "positive", "negative", "consent", "exploitation",
             "modern slavery", "victim", "post", "Not sure")


def test_the_glossary_names_one_term_for_every_key_word_in_every_language() -> None:
    by_word: dict[str, set[str]] = defaultdict(set)
    for entry in glossary.entries():
        for word in KEY_TERMS:
            if re.search(entry.english, word, re.IGNORECASE):
                by_word[word].add(entry.language)
        assert glossary.check(entry, entry.term) is None, entry  # the term is one of its own forms
    for word in KEY_TERMS:
        assert by_word[word] == set(translate.LOCALES), (word, by_word[word])


@pytest.mark.parametrize("locale", translate.LOCALES)
def test_dialogue_and_pages_use_the_glossary_term_and_no_forbidden_variant(locale: str) -> None:
    problems = glossary.violations(locale, translate.load_po(locale))
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize(("locale", "msgid", "wrong"), [
    ("ro", "NRM referral sent. Reference: {reference}. Quote it in any contact.",
     "Trimiterea NRM a fost trimisă. Referință: {reference}."),
    ("vi", "NRM referral", "Giới thiệu NRM"),
    ("vi", "Positive RG decision", "Quyết định RG tích cực"),
    ("vi", "Post", "Bưu điện"),
    ("cy", "Positive: on the balance of probabilities, the person is a victim of modern slavery",
     "Cadarnhaol: yn ôl pwysau tebygolrwydd, mae'r unigolyn yn dioddef caethwasiaeth fodern"),
    ("ar", "Not sure", "غير مؤكد"),
    ("ar", "Duty to Notify report sent. Reference: {reference}.",
     "أُرسل تقرير واجب الإبلاغ (Duty to Notify). المرجع: {reference}."),
    ("sq", "Duty to Notify report sent. Reference: {reference}.",
     "Raporti Duty to Notify u dërgua. Referenca: {reference}."),
    ("pl", "Duty to Notify report sent. Reference: {reference}.",
     "Wysłano zgłoszenie Duty to Notify. Numer: {reference}."),
])
def test_the_wrong_terms_the_audit_found_are_refused(locale: str, msgid: str, wrong: str) -> None:
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale=locale)
    catalog.add(msgid, wrong)
    assert glossary.violations(locale, catalog)


# -- who reviewed each language (translations/README.md) ----------------------------------------

README = translate.TRANSLATIONS / "README.md"


def _review_column() -> dict[str, str]:
    """Language code -> the README's "Reviewed by" cell, from both tables."""
    found = {}
    for line in README.read_text("utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        codes = [cell.strip("`") for cell in cells if cell.startswith("`") and cell.endswith("`")]
        if codes and len(cells) >= 5:
            found[codes[0]] = cells[-1]
    return found


def test_the_readme_says_who_reviewed_every_language_and_agrees_with_the_code() -> None:
    from flows.languages import EXPLAIN_LANGUAGES

    reviewed_by = _review_column()
    for language in EXPLAIN_LANGUAGES:
        cell = reviewed_by.get(language.code)
        assert cell, f"translations/README.md does not say who reviewed {language.code}"
        unreviewed = "not yet reviewed by a native speaker" in cell
        assert unreviewed is not language.reviewed, (language.code, cell, language.reviewed)


@pytest.mark.parametrize("locale", translate.CONSENT_LOCALES)
def test_every_consent_catalogue_is_complete_and_translated(locale: str) -> None:
    from flows import consent

    problems = translate.problems(locale)
    assert not problems, problems
    t = translate.in_memory(locale)
    for text in consent.READ_ALOUD:
        assert t.gettext(text) != text, (locale, text[:40])
