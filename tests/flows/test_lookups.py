"""Reference-list matching on the real lists: exact, accents, Welsh, typos, aliases, prefixes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import lookups
from flows.lookups import ALIASES, LISTS, entries, match
from flows.question import Ambiguous, Invalid

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(list_name: str, text: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """The entries a person would be offered: the match alone, the candidates, or none."""
    try:
        return [match(list_name, text, exclude)]
    except Ambiguous as error:
        return error.candidates
    except Invalid:
        return []


# --- the lists ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "list_name, count",
    [
        ("countries", 197),
        ("first-responder-organisations", 526),
        ("nationalities", 222),
        ("uk-local-authorities", 451),
        ("uk-police-forces", 47),
        ("uk-regions", 98),
        ("uk-towns", 1608),
    ],
)
def test_lists_load_with_the_documented_counts(list_name: str, count: int) -> None:
    assert len(entries(list_name)) == count
    assert all(entry == entry.strip() and entry for entry in entries(list_name))


def test_lists_are_read_once() -> None:
    assert entries("uk-police-forces") is entries("uk-police-forces")


def test_unknown_list_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        entries("planets")


@pytest.mark.parametrize("list_name", sorted(ALIASES))
def test_every_alias_names_an_entry_of_its_list(list_name: str) -> None:
    for alias, target in ALIASES[list_name].items():
        assert target in entries(list_name), (alias, target)


@pytest.mark.parametrize("list_name", LISTS)
def test_no_alias_hides_an_entry_of_the_same_name(list_name: str) -> None:
    exact = lookups._exact(list_name, "en")
    for alias, target in lookups._aliases(list_name).items():
        assert exact.get(alias, (target,)) == (target,), alias


def test_every_country_has_its_nationality() -> None:
    countries = set(entries("countries")) - {"Unknown"}
    assert set(lookups.NATIONALITY_OF_COUNTRY) == countries
    assert set(lookups.NATIONALITY_OF_COUNTRY.values()) <= set(entries("nationalities"))


# --- exact entries -----------------------------------------------------------------------------


@pytest.mark.parametrize("list_name", LISTS)
def test_every_entry_typed_exactly_is_found(list_name: str) -> None:
    """Typed as listed, in lower or upper case, an entry is returned, or is first among the
    entries of the same name ("Newport" and "Newport / Casnewydd")."""
    for entry in entries(list_name):
        for typed in (entry, entry.lower(), entry.upper()):
            found = outcome(list_name, typed)
            assert found and found[0] == entry, (typed, found)


@FAST
@given(data=st.data())
def test_entries_are_found_whatever_the_spacing_and_case(data: st.DataObject) -> None:
    list_name = data.draw(st.sampled_from(LISTS))
    entry = data.draw(st.sampled_from(entries(list_name)))
    typed = "  ".join(
        data.draw(st.sampled_from([word.lower(), word.upper(), word.title()]))
        for word in entry.split()
    )
    assert entry in outcome(list_name, f" {typed} ")


def test_accents_and_welsh_names() -> None:
    assert match("uk-towns", "Aberdar") == "Aberdare / Aberdâr"
    assert match("uk-towns", "aberdâr") == "Aberdare / Aberdâr"
    assert match("uk-towns", "Caerdydd") == "Cardiff / Caerdydd"
    assert match("uk-towns", "Y Fenni") == "Abergavenny / Y Fenni"
    assert match("uk-towns", "pen y bont ar ogwr") == "Bridgend / Pen-y-bont ar Ogwr"
    assert match("uk-regions", "Londonderry") == "County Derry / Londonderry"


def test_punctuation_and_the_are_ignored() -> None:
    assert match("first-responder-organisations", "barnardos") == "Barnardo's"
    assert match("first-responder-organisations", "salvation army") == "The Salvation Army"
    assert match("uk-police-forces", "devon and cornwall police") == "Devon & Cornwall Police"
    assert match("uk-local-authorities", "Aberdeen City Council") == "The Aberdeen City Council"


# --- short forms, typos, partial names ---------------------------------------------------------


@pytest.mark.parametrize(
    "list_name, typed, expected",
    [
        ("uk-towns", "bham", "Birmingham"),
        ("uk-towns", "Brum", "Birmingham"),
        ("uk-local-authorities", "bham", "Birmingham City Council"),
        ("uk-police-forces", "met", "Metropolitan Police Service"),
        ("uk-police-forces", "Met Police", "Metropolitan Police Service"),
        ("uk-police-forces", "the met", "Metropolitan Police Service"),
        ("uk-police-forces", "GMP", "Greater Manchester Police"),
        ("uk-police-forces", "btp", "British Transport Police"),
        ("uk-police-forces", "PSNI", "Police Service of Northern Ireland"),
        ("first-responder-organisations", "met", "Metropolitan Police Service"),
        (
            "first-responder-organisations",
            "NSPCC",
            "National Society for the Prevention of Cruelty to Children NSPCC CTAC",
        ),
        ("nationalities", "uk", "British"),
        ("nationalities", "Britain", "British"),
        ("nationalities", "usa", "American"),
        ("nationalities", "Vietnam", "Vietnamese"),
        ("nationalities", "albania", "Albanian"),
        ("nationalities", "poland", "Polish"),
        ("nationalities", "don't know", "Unknown"),
        ("countries", "usa", "United States"),
        ("countries", "US", "United States"),
        ("countries", "uae", "United Arab Emirates"),
        ("countries", "Myanmar", "Burma"),
        ("countries", "vietnamese", "Vietnam"),
        ("countries", "viet nam", "Vietnam"),
        ("countries", "gambia", "The Gambia"),
        ("uk-regions", "london", "Greater London"),
    ],
)
def test_short_forms(list_name: str, typed: str, expected: str) -> None:
    assert match(list_name, typed) == expected


@pytest.mark.parametrize(
    "list_name, typed, expected",
    [
        ("uk-towns", "birmingam", "Birmingham"),
        ("uk-towns", "Birmingham ", "Birmingham"),
        ("uk-towns", "manchestr", "Manchester"),
        ("first-responder-organisations", "birmingam", "Birmingham City Council"),
        ("uk-local-authorities", "birmingham", "Birmingham City Council"),
        ("nationalities", "brittish", "British"),
        ("uk-police-forces", "grater manchester police", "Greater Manchester Police"),
        ("uk-police-forces", "kent polise", "Kent Police"),
    ],
)
def test_typos(list_name: str, typed: str, expected: str) -> None:
    assert match(list_name, typed) == expected


@pytest.mark.parametrize(
    "list_name, typed, expected",
    [
        ("first-responder-organisations", "salvation", "The Salvation Army"),
        ("first-responder-organisations", "sutton", "London Borough of Sutton"),
        ("first-responder-organisations", "hackney council", "London Borough of Hackney"),
        ("first-responder-organisations", "crawley", "Crawley Borough Council"),
        ("uk-police-forces", "manchester", "Greater Manchester Police"),
        ("uk-police-forces", "scotland", "Police Scotland"),
        ("uk-local-authorities", "cardiff", "City of Cardiff Council"),
        ("uk-regions", "west mids", "West Midlands"),
    ],
)
def test_partial_names(list_name: str, typed: str, expected: str) -> None:
    assert match(list_name, typed) == expected


@pytest.mark.parametrize(
    "list_name, typed, first, also",
    [
        ("uk-towns", "newport", "Newport", "Newport / Casnewydd"),
        ("uk-towns", "lundon", "London", "Luton"),
        ("uk-towns", "stoke", "Bradley Stoke", "Stoke-on-Trent"),
        ("uk-towns", "glasgw", "Glasgow", "Port Glasgow"),
        ("uk-police-forces", "yorkshire", "West Yorkshire Police", "South Yorkshire Police"),
        ("first-responder-organisations", "kent", "Kent Police", "Kent County Council"),
        ("countries", "korea", "North Korea", "South Korea"),
    ],
)
def test_close_calls_offer_the_closest_best_first(
    list_name: str, typed: str, first: str, also: str
) -> None:
    with pytest.raises(Ambiguous) as raised:
        match(list_name, typed)
    assert raised.value.candidates[0] == first
    assert also in raised.value.candidates
    assert len(raised.value.candidates) <= lookups.MAX_CANDIDATES


def test_a_word_that_only_starts_an_entry_is_offered_not_assumed() -> None:
    """ "kent" is not a town; Kenton starts with it but is only offered."""
    assert "Kenton" in outcome("uk-towns", "kent")
    with pytest.raises(Ambiguous):
        match("uk-towns", "kent")


@pytest.mark.parametrize(
    "list_name, typed",
    [
        ("uk-towns", "xyzzy"),
        ("countries", "qq"),
        ("uk-police-forces", "zz top"),
        ("nationalities", "!!!"),
    ],
)
def test_nothing_close_is_invalid(list_name: str, typed: str) -> None:
    with pytest.raises(Invalid):
        match(list_name, typed)


def test_the_invalid_message_quotes_what_was_typed() -> None:
    with pytest.raises(Invalid) as raised:
        match("uk-towns", "xyzzy")
    assert raised.value.params == {"text": "xyzzy"}
    assert "{text}" in raised.value.message


# --- excluded entries --------------------------------------------------------------------------

NO_UK = ("United Kingdom",)


@pytest.mark.parametrize(
    "typed", ["United Kingdom", "uk", "britain", "England", "british", "united kingdon"]
)
def test_united_kingdom_is_refused_for_overseas_countries(typed: str) -> None:
    assert "United Kingdom" not in outcome("countries", typed, NO_UK)
    assert match("countries", "france", NO_UK) == "France"


def test_an_excluded_entry_typed_exactly_is_explained() -> None:
    with pytest.raises(Invalid) as raised:
        match("countries", "United Kingdom", NO_UK)
    assert raised.value.params == {"entry": "United Kingdom"}


@FAST
@given(
    text=st.one_of(
        st.sampled_from(entries("countries")),
        st.sampled_from(sorted(ALIASES["countries"])),
        st.text(max_size=30),
    )
)
def test_excluded_entries_are_never_returned_or_offered(text: str) -> None:
    assert "United Kingdom" not in outcome("countries", text, NO_UK)


# --- robustness --------------------------------------------------------------------------------


@FAST
@given(list_name=st.sampled_from(LISTS), text=st.text(max_size=60))
def test_any_text_gives_an_entry_candidates_or_invalid(list_name: str, text: str) -> None:
    answers = {*entries(list_name), *lookups.OTHER_NAMES.get(list_name, ())}
    try:
        assert match(list_name, text) in answers
    except Ambiguous as error:
        assert 1 <= len(error.candidates) <= lookups.MAX_CANDIDATES
        assert set(error.candidates) <= answers
        assert len(set(error.candidates)) == len(error.candidates)
    except Invalid:
        pass


@pytest.mark.parametrize("generic", ["the", "and", "of", "city council", "the and"])
def test_a_generic_word_alone_is_never_taken_as_an_answer(generic: str) -> None:
    """"the" was taken as Yorkshire and the Humber: at most, names that look alike are offered."""
    for list_name in LISTS:
        with pytest.raises((Invalid, Ambiguous)):
            match(list_name, generic)


@FAST
@given(data=st.data())
def test_one_letter_dropped_from_a_long_name_still_finds_it(data: st.DataObject) -> None:
    list_name = data.draw(
        st.sampled_from(["uk-police-forces", "countries", "nationalities", "uk-local-authorities"])
    )
    entry = data.draw(st.sampled_from([e for e in entries(list_name) if len(e) >= 8]))
    position = data.draw(st.integers(0, len(entry) - 1))
    assert entry in outcome(list_name, entry[:position] + entry[position + 1 :])


# --- lookups that do not dead-end (issue 8) ------------------------------------------------------


def _lists_of_lookup_questions() -> list[tuple[str, tuple[str, ...]]]:
    from flows.referral_questions import QUESTIONS

    return sorted({(q.lookup, q.exclude) for q in QUESTIONS if q.lookup})


@pytest.mark.parametrize(("list_name", "exclude"), _lists_of_lookup_questions())
def test_every_entry_of_every_list_used_by_a_lookup_question_is_found_by_its_own_name(
    list_name: str, exclude: tuple[str, ...]
) -> None:
    """Each entry, and each other true name the list takes (OTHER_NAMES: "East of England"), typed
    as it is written, is the answer; only a name that several entries share ("Newport": also
    "Newport / Casnewydd" in Wales) is offered as a pick, with that entry first."""
    names = [*entries(list_name), *lookups.OTHER_NAMES.get(list_name, ())]
    wrong = []
    for name in names:
        if name in exclude:
            continue
        found = outcome(list_name, name, exclude)
        shared = len(lookups._exact(list_name, "en").get(lookups._key(name), ())) > 1
        if found[:1] != [name] or (len(found) > 1 and not shared):
            wrong.append((name, found))
    assert not wrong, wrong


def test_other_names_are_only_for_lists_whose_questions_keep_free_text() -> None:
    from flows.referral_questions import QUESTIONS

    for question in QUESTIONS:
        if question.lookup in lookups.OTHER_NAMES:
            assert question.free_text, question.id


@pytest.mark.parametrize(
    ("typed", "region"),
    [("East of England", "East of England"), ("east of england", "East of England"),
     ("South West", "South West"), ("yorkshire and the humber", "Yorkshire and the Humber")],
)
def test_the_regions_of_england_are_accepted_for_the_county_or_region(typed: str, region: str) -> None:
    assert match("uk-regions", typed) == region
