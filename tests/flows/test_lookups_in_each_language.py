"""Countries, nationalities, councils and police forces found by the names people type in each
dialogue language (issue 13: "Shqipëri", "Shqiptar" and every Arabic name found nothing, and
"Shqipëria" suggested Serbia). Names come from flows/data/names/: CLDR's country names through
Babel (scripts/country_names.py), nationality adjectives and the official Welsh names."""

from __future__ import annotations

import datetime

import pytest

from flows import lookups
from flows.question import Ambiguous, ParseContext
from flows.referral_questions import QUESTIONS
from flows.validators import parse

TYPED = [
    # (dialogue language, list, typed, entry)
    ("sq", "countries", "Shqipëri", "Albania"),
    ("sq", "countries", "Shqipëria", "Albania"),
    ("sq", "countries", "shqiperia", "Albania"),
    ("sq", "countries", "Kosova", "Kosovo"),
    ("sq", "nationalities", "Shqiptar", "Albanian"),
    ("sq", "nationalities", "shqiptare", "Albanian"),
    ("sq", "nationalities", "Shqipëri", "Albanian"),
    ("sq", "nationalities", "eritrean", "Eritrean"),
    ("vi", "countries", "Việt Nam", "Vietnam"),
    ("vi", "countries", "viet nam", "Vietnam"),
    ("vi", "nationalities", "người Việt Nam", "Vietnamese"),
    ("vi", "nationalities", "nguoi viet nam", "Vietnamese"),
    ("vi", "countries", "Trung Quốc", "China"),
    ("ro", "countries", "Eritreea", "Eritrea"),
    ("ro", "countries", "Marea Britanie", "United Kingdom"),
    ("ro", "nationalities", "albaneză", "Albanian"),
    ("ro", "nationalities", "român", "Romanian"),
    ("pl", "countries", "Niemcy", "Germany"),
    ("pl", "countries", "bialorus", "Belarus"),
    ("pl", "countries", "Wietnam", "Vietnam"),
    ("pl", "nationalities", "Rumun", "Romanian"),
    ("pl", "nationalities", "wietnamska", "Vietnamese"),
    ("cy", "countries", "Yr Almaen", "Germany"),
    ("cy", "countries", "Eritrea", "Eritrea"),
    ("cy", "nationalities", "Eritreaidd", "Eritrean"),
    ("cy", "uk-local-authorities", "Cyngor Sir Ynys Môn", "Isle of Anglesey County Council"),
    ("cy", "uk-local-authorities", "Abertawe", "City and County of Swansea Council"),
    ("cy", "uk-local-authorities", "cyngor sir gar", "Carmarthenshire County Council"),
    ("cy", "uk-local-authorities", "Caerdydd", "City of Cardiff Council"),
    ("cy", "uk-police-forces", "Heddlu Gogledd Cymru", "North Wales Police"),
    ("cy", "uk-police-forces", "Heddlu De Cymru", "South Wales Police"),
    ("cy", "first-responder-organisations", "Heddlu Gwent", "Gwent Police"),
    ("ar", "countries", "ألبانيا", "Albania"),
    ("ar", "countries", "البانيا", "Albania"),
    ("ar", "countries", "فيتنام", "Vietnam"),
    ("ar", "countries", "إريتريا", "Eritrea"),
    ("ar", "countries", "السودان", "Sudan"),
    ("ar", "nationalities", "إريتري", "Eritrean"),
    ("ar", "nationalities", "سودانية", "Sudanese"),
    ("ar", "nationalities", "ألبانيا", "Albanian"),
    # a responder working in English types the name as the person said it
    ("en", "countries", "Shqipëria", "Albania"),
    ("en", "nationalities", "Shqiptar", "Albanian"),
    ("en", "countries", "فيتنام", "Vietnam"),
]


@pytest.mark.parametrize(("language", "list_name", "typed", "entry"), TYPED)
def test_a_name_typed_in_the_dialogue_language_finds_its_entry(language: str, list_name: str,
                                                              typed: str, entry: str) -> None:
    assert lookups.match(list_name, typed, (), language) == entry


@pytest.mark.parametrize("typed", ["Shqipëria", "Shqipëri", "shqiperi", "SHQIPËRIA", "Shqipria"])
def test_albania_typed_in_albanian_never_suggests_serbia(typed: str) -> None:
    for language in ("sq", "en"):
        try:
            found = [lookups.match("countries", typed, (), language)]
        except Ambiguous as ambiguous:
            found = list(ambiguous.candidates)
        assert found[0] == "Albania" and "Serbia" not in found, (language, typed, found)


@pytest.mark.parametrize("language", lookups.NAME_LANGUAGES)
def test_every_country_has_a_name_in_every_dialogue_language(language: str) -> None:
    named = {entry for _, entry in lookups.names("countries", language)}
    assert set(lookups.entries("countries")) - named == {"Unknown"}


@pytest.mark.parametrize("language", lookups.NAME_LANGUAGES)
def test_every_name_points_at_an_entry_of_its_list(language: str) -> None:
    for list_name in lookups.LISTS:
        for name, entry in lookups.names(list_name, language):
            assert entry in lookups.entries(list_name), (language, list_name, name, entry)


MOST_REFERRED = ("British", "Albanian", "Vietnamese", "Eritrean", "Sudanese", "Afghan", "Iranian",
                 "Iraqi", "Ethiopian", "Indian", "Chinese", "Romanian", "Nigerian", "Pakistani",
                 "Egyptian", "Syrian", "Bangladeshi", "Polish", "Ghanaian", "Somali")
"""The nationalities most often referred to the NRM (Home Office statistics, 2024)."""


@pytest.mark.parametrize("language", lookups.NAME_LANGUAGES)
def test_the_most_referred_nationalities_have_adjectives_in_every_language(language: str) -> None:
    named = {entry for _, entry in lookups.names("nationalities", language)}
    assert set(MOST_REFERRED) <= named, set(MOST_REFERRED) - named


@pytest.mark.parametrize("language", lookups.NAME_LANGUAGES)
def test_a_name_means_one_entry_in_its_language(language: str) -> None:
    for list_name in lookups.LISTS:
        seen: dict[str, str] = {}
        for name, entry in lookups.names(list_name, language):
            key = lookups._key(name)
            assert seen.setdefault(key, entry) == entry, (language, list_name, name, seen[key], entry)


def test_the_nationality_question_takes_an_albanian_and_an_arabic_answer() -> None:
    question = next(q for q in QUESTIONS if q.id == "pv-nationality")
    for language, typed in (("sq", "Shqiptare"), ("ar", "ألباني"), ("vi", "người Albania")):
        ctx = ParseContext(today=datetime.date(2026, 11, 30), language=language)
        assert parse(question, typed, ctx) == "Albanian", (language, typed)
