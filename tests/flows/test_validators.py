"""Validators: the form's rules as examples, and properties over generated answers."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flows.question import Ambiguous, Choice, Invalid, Kind, ParseContext, Question
from flows.validators import parse

TODAY = datetime.date(2026, 11, 28)
CTX = ParseContext(today=TODAY)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MONTHS = (
    "January February March April May June July August September October November December".split()
)


def question(kind: Kind, **fields: Any) -> Question:
    return Question(id="x", kind=kind, prompt="p", help="h", section="s", summary="s", **fields)


def refusal(q: Question, text: str) -> Invalid:
    with pytest.raises(Invalid) as raised:
        parse(q, text, CTX)
    return raised.value


DATE = question(Kind.DATE)
PARTIAL = question(Kind.DATE, partial_date=True)
YES_NO = question(Kind.YES_NO)
CHOICE = question(
    Kind.CHOICE,
    choices=(
        Choice("yes", "Yes", ("y",)),
        Choice("no", "No", ("n",)),
        Choice("not-sure", "Not sure", ("dont know", "don't know")),
    ),
)
MULTI = question(
    Kind.MULTI,
    choices=(
        Choice("forced-to-work", "Forced to work for little or no pay"),
        Choice("wages-taken", "Wages taken from them"),
        Choice("taken-somewhere", "Held and sexually assaulted"),
        Choice("other", "Other"),
    ),
)
TEXT = question(Kind.TEXT, max_length=200)
NO_URLS = question(Kind.TEXT, no_urls=True)


# --- empty answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in Kind if k is not Kind.CONFIRM])
@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_answers_ask_for_an_answer(kind: Kind, text: str) -> None:
    extra = {"lookup": "uk-towns"} if kind is Kind.LOOKUP else {}
    assert refusal(question(kind, **extra), text).message == "Please type an answer"
    assert "SKIP" in refusal(question(kind, optional=True, **extra), text).message


def test_confirm_is_left_to_the_dialogue() -> None:
    with pytest.raises(ValueError):
        parse(question(Kind.CONFIRM), "yes", CTX)


# --- choices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("1", "yes"),
        ("2", "no"),
        ("3", "not-sure"),
        ("Yes", "yes"),
        ("y", "yes"),
        ("NO.", "no"),
        ("nope", "no"),
        ("Not sure!", "not-sure"),
        ("not-sure", "not-sure"),
        ("I don't know", None),
        ("don't know", "not-sure"),
        (" 2 ", "no"),
        ("2 no", "no"),
    ],
)
def test_choice_by_number_or_words(text: str, value: str | None) -> None:
    if value is None:
        refusal(CHOICE, text)
    else:
        assert parse(CHOICE, text, CTX) == value


@pytest.mark.parametrize("text", ["4", "0", "1 2", "maybe", "yes no"])
def test_choice_refuses_anything_else(text: str) -> None:
    refusal(CHOICE, text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("yes", "yes"),
        ("Y", "yes"),
        ("yeah", "yes"),
        ("1", "yes"),
        ("no", "no"),
        ("n", "no"),
        ("Nope", "no"),
        ("2", "no"),
    ],
)
def test_yes_no(text: str, value: str) -> None:
    assert parse(YES_NO, text, CTX) == value


def test_yes_no_refuses_other_words() -> None:
    assert refusal(YES_NO, "perhaps").message == "Please reply YES or NO"


def test_must_be_yes_refuses_no_with_the_questions_reason() -> None:
    q = question(Kind.YES_NO, must_be_yes=True, refusal="Permission is needed")
    assert parse(q, "yes", CTX) == "yes"
    assert refusal(q, "no").message == "Permission is needed"


@pytest.mark.parametrize(
    "text, values",
    [
        ("1 3", ["forced-to-work", "taken-somewhere"]),
        ("1,3", ["forced-to-work", "taken-somewhere"]),
        ("1, 3 and 4", ["forced-to-work", "taken-somewhere", "other"]),
        ("1 & 3", ["forced-to-work", "taken-somewhere"]),
        ("3 1 3", ["forced-to-work", "taken-somewhere"]),
        ("2-4", ["wages-taken", "taken-somewhere", "other"]),
        ("4", ["other"]),
        ("other", ["other"]),
        ("wages taken from them and other", ["wages-taken", "other"]),
        ("1 and held and sexually assaulted", ["forced-to-work", "taken-somewhere"]),
    ],
)
def test_multi(text: str, values: list[str]) -> None:
    assert parse(MULTI, text, CTX) == values


@pytest.mark.parametrize("text, word", [("1 5", None), ("and", None), ("1 banana", "banana")])
def test_multi_refuses_unknown_picks(text: str, word: str | None) -> None:
    error = refusal(MULTI, text)
    if word:
        assert error.params["word"] == word


@FAST
@given(
    picks=st.lists(st.integers(1, 4), min_size=1, max_size=6),
    separator=st.sampled_from([" ", ",", ", ", " and ", " & ", ";", " , "]),
)
def test_multi_any_numbers_give_values_in_option_order(picks: list[int], separator: str) -> None:
    values = [choice.value for choice in MULTI.choices]
    expected = [values[n - 1] for n in sorted(set(picks))]
    assert parse(MULTI, separator.join(map(str, picks)), CTX) == expected


# --- text --------------------------------------------------------------------------------------


def test_text_is_trimmed_and_keeps_line_breaks() -> None:
    assert parse(TEXT, "  first line\r\nsecond  line \n", CTX) == "first line\nsecond  line"


def test_text_limit_names_the_limit_and_the_length() -> None:
    error = refusal(question(Kind.TEXT), "x" * 15001)
    assert error.params == {"length": 15001, "max": 15000}
    assert parse(question(Kind.TEXT), "x" * 15000, CTX) == "x" * 15000


@FAST
@given(text=st.text(min_size=1, max_size=400))
def test_text_within_the_limit_round_trips_and_over_it_is_refused(text: str) -> None:
    expected = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    assume(expected)
    if len(expected) <= TEXT.max_length:
        assert parse(TEXT, text, CTX) == expected
    else:
        assert refusal(TEXT, text).params["length"] == len(expected)


@pytest.mark.parametrize(
    "text",
    [
        "see http://example.org/page",
        "HTTPS://x.y",
        "www.facebook.com/someone",
        "on example.com now",
        "bbc.co.uk/news",
        "their site is shop.co.uk",
    ],
)
def test_web_addresses_are_refused_where_the_form_refuses_them(text: str) -> None:
    assert "url" in refusal(NO_URLS, text).params
    assert parse(TEXT, text, CTX) == text


@pytest.mark.parametrize(
    "text",
    [
        "e.g. at night, etc.",
        "Mr. Smith said so.",
        "mail them at help@example.org",
        "The U.K. office",
        "3.5 hours",
    ],
)
def test_ordinary_text_is_not_taken_for_a_web_address(text: str) -> None:
    assert parse(NO_URLS, text, CTX) == text


@FAST
@given(
    scheme=st.sampled_from(["", "http://", "https://", "www."]),
    name=st.from_regex(r"[a-z][a-z0-9-]{0,15}[a-z0-9]", fullmatch=True),
    tld=st.sampled_from(["com", "org", "net", "co.uk", "org.uk", "io", "info"]),
    before=st.sampled_from(["", "see ", "Details at\n"]),
)
def test_any_web_address_is_refused(scheme: str, name: str, tld: str, before: str) -> None:
    assert "url" in refusal(NO_URLS, f"{before}{scheme}{name}.{tld}/page").params


# --- dates -------------------------------------------------------------------------------------

DATE_FORMATS = [
    "{d}/{m}/{Y}",
    "{dd}/{mm}/{Y}",
    "{dd}-{mm}-{Y}",
    "{d}.{m}.{Y}",
    "{Y}-{mm}-{dd}",
    "{d} {b} {Y}",
    "{d} {B} {Y}",
    "{B} {d} {Y}",
    "{B} {d}, {Y}",
    "{dth} of {B} {Y}",
    "{d}-{b}-{Y}",
    "{D} / {m} / {Y}",
]


def formatted(day: datetime.date, pattern: str, year: str | None = None) -> str:
    suffix = "th" if 11 <= day.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
    return pattern.format(
        d=day.day,
        dd=f"{day.day:02d}",
        m=day.month,
        mm=f"{day.month:02d}",
        Y=year or day.year,
        b=MONTHS[day.month - 1][:3],
        B=MONTHS[day.month - 1],
        dth=f"{day.day}{suffix}",
        D=f" {day.day}",
    )


@FAST
@given(
    day=st.dates(datetime.date(1900, 1, 2), TODAY),
    pattern=st.sampled_from(DATE_FORMATS),
    case=st.sampled_from([str, str.lower, str.upper]),
)
def test_any_past_date_in_any_accepted_format_round_trips(
    day: datetime.date, pattern: str, case: Any
) -> None:
    expected = {"date": day.isoformat(), "approximate": False}
    assert parse(DATE, case(formatted(day, pattern)), CTX) == expected
    assert parse(PARTIAL, formatted(day, pattern), CTX) == expected


@FAST
@given(
    day=st.dates(datetime.date(1927, 1, 1), TODAY),
    pattern=st.sampled_from(["{d}/{m}/{Y}", "{d}.{m}.{Y}", "{d} {b} {Y}"]),
)
def test_two_digit_years_are_the_most_recent_past_year(day: datetime.date, pattern: str) -> None:
    text = formatted(day, pattern, year=f"{day.year % 100:02d}")
    assert parse(DATE, text, CTX)["date"] == day.isoformat()


@pytest.mark.parametrize(
    "text, date",
    [
        ("3.2.90", "1990-02-03"),
        ("3/2/05", "2005-02-03"),
        ("1/1/26", "2026-01-01"),
        ("1/1/27", "1927-01-01"),
    ],
)
def test_two_digit_year_examples(text: str, date: str) -> None:
    assert parse(DATE, text, CTX)["date"] == date


@FAST
@given(
    day=st.dates(TODAY + datetime.timedelta(days=1), datetime.date(2099, 12, 31)),
    pattern=st.sampled_from(DATE_FORMATS),
)
def test_any_future_date_is_refused(day: datetime.date, pattern: str) -> None:
    assert refusal(DATE, formatted(day, pattern)).message == "That date is in the future"


@FAST
@given(year=st.integers(1901, 2025), month=st.integers(1, 12), day=st.integers(29, 31))
def test_any_impossible_date_is_refused(year: int, month: int, day: int) -> None:
    try:
        datetime.date(year, month, day)
    except ValueError:
        assert refusal(DATE, f"{day}/{month}/{year}").message == "That date does not exist"
    else:
        assert parse(DATE, f"{day}/{month}/{year}", CTX)["date"] == f"{year}-{month:02d}-{day:02d}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("31/2/1990", "That date does not exist"),
        ("2000-02-31", "That date does not exist"),
        ("29/2/2023", "That date does not exist"),
        ("32/1/1990", "That date does not exist"),
        ("15/13/1990", "That date does not exist"),
        ("1/13/1990", "Please put the day first, like 25/12/1990"),
        ("29/11/2026", "That date is in the future"),
        ("1/1/1900", "Please give a date after 1 January 1900"),
        ("5/5/1850", "Please give a date after 1 January 1900"),
        ("12/25/1990", "Please put the day first, like 25/12/1990"),
        ("3/2", "Please include the year, like 3/2/1990"),
        ("3 February", "Please include the year, like 3/2/1990"),
        ("Feb 1990", "Please give the full date, like 3/2/1990"),
        ("1990", "Please give the full date, like 3/2/1990"),
        ("about 3/2/1990", "Please give the exact date, like 3/2/1990"),
        ("yesterday", "Please give a date like 3/2/1990"),
        ("3/2/190", "Please give the year in full, like 1990"),
    ],
)
def test_date_refusals(text: str, message: str) -> None:
    assert refusal(DATE, text).message == message


def test_today_and_leap_days_are_accepted() -> None:
    assert parse(DATE, "28/11/2026", CTX)["date"] == "2026-11-28"
    assert parse(DATE, "29 Feb 2000", CTX)["date"] == "2000-02-29"


@pytest.mark.parametrize(
    "text, date, approximate",
    [
        ("1990", "1990", False),
        ("Feb 1990", "1990-02", False),
        ("february 1990", "1990-02", False),
        ("02/1990", "1990-02", False),
        ("2/1990", "1990-02", False),
        ("1990-02", "1990-02", False),
        ("about 1990", "1990", True),
        ("approx 1990", "1990", True),
        ("Approximately March 1990", "1990-03", True),
        ("around 1990", "1990", True),
        ("c. 1990", "1990", True),
        ("c1990", "1990", True),
        ("circa 1990", "1990", True),
        ("roughly 1990", "1990", True),
        ("~1990", "1990", True),
        ("1990?", "1990", True),
        ("1990ish", "1990", True),
        ("about 3/2/1990", "1990-02-03", True),
        ("11/2026", "2026-11", False),
    ],
)
def test_partial_and_approximate_dates(text: str, date: str, approximate: bool) -> None:
    assert parse(PARTIAL, text, CTX) == {"date": date, "approximate": approximate}


@pytest.mark.parametrize(
    "text, message",
    [
        ("2027", "That date is in the future"),
        ("12/2026", "That date is in the future"),
        ("1899", "Please give a date after 1 January 1900"),
        ("13/1990", "That date does not exist"),
        ("about", "Please give a date like 3/2/1990"),
    ],
)
def test_partial_date_refusals(text: str, message: str) -> None:
    assert refusal(PARTIAL, text).message == message


@FAST
@given(
    year=st.integers(1900, TODAY.year),
    month=st.integers(1, 12),
    pattern=st.sampled_from(["{b} {Y}", "{B} {Y}", "{mm}/{Y}", "{m}/{Y}", "{Y}-{mm}", "{Y}"]),
    marker=st.sampled_from(["", "about ", "approx ", "around ", "c. ", "roughly ", "~", "circa "]),
)
def test_any_past_month_or_year_round_trips(
    year: int, month: int, pattern: str, marker: str
) -> None:
    assume((year, month) <= (TODAY.year, TODAY.month))
    text = formatted(datetime.date(year, month, 1), pattern)
    expected = f"{year}" if pattern == "{Y}" else f"{year}-{month:02d}"
    assert parse(PARTIAL, marker + text, CTX) == {"date": expected, "approximate": bool(marker)}


def test_month_names_of_the_dialogue_language_are_understood() -> None:
    french = ParseContext(today=TODAY, language="fr")
    assert parse(DATE, "3 février 1990", french)["date"] == "1990-02-03"
    assert parse(DATE, "3 February 1990", french)["date"] == "1990-02-03"
    assert (
        parse(DATE, "3 Feb 1990", ParseContext(today=TODAY, language="xx"))["date"] == "1990-02-03"
    )


# --- phone, email, postcode, number ------------------------------------------------------------

PHONE = question(Kind.PHONE)


@pytest.mark.parametrize(
    "text, e164",
    [
        ("07700 900123", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("07123 456789", "+447123456789"),
        ("0044 7123 456789", "+447123456789"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("0161-496-0000", "+441614960000"),
    ],
)
def test_real_phone_numbers_become_e164(text: str, e164: str) -> None:
    assert parse(PHONE, text, CTX) == e164


@pytest.mark.parametrize("text", ["01234567890123456789", "12345", "07700", "phone me", "+999 123"])
def test_unreal_phone_numbers_are_refused(text: str) -> None:
    assert refusal(PHONE, text).message.startswith("Enter a real telephone number")


@FAST
@given(
    block=st.sampled_from("123"),
    digits=st.from_regex(r"[0-9]{8}", fullmatch=True),
    style=st.sampled_from(
        ["0{n}", "0{a} {b}", "+44{n}", "+44 {a} {b}", "0044 {a} {b}", "(0{a}) {b}", "0{a}-{b}"]
    ),
)
def test_any_valid_gb_mobile_round_trips(block: str, digits: str, style: str) -> None:
    national = f"7{block}{digits}"
    text = style.format(n=national, a=national[:4], b=national[4:])
    assert parse(PHONE, text, CTX) == f"+44{national}"


@FAST
@given(region=st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
def test_example_numbers_of_any_country_round_trip(region: str) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assume(example is not None and phonenumbers.is_valid_number(example))
    typed = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert parse(PHONE, typed, CTX) == phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.E164
    )


EMAIL = question(Kind.EMAIL)


@pytest.mark.parametrize(
    "text", ["test@.com", "test", "a b@example.com", "name@", "@example.com", "x@y", "a@@b.com"]
)
def test_malformed_emails_are_refused(text: str) -> None:
    assert refusal(EMAIL, text).message.startswith("Enter a valid email address")


def test_emails_are_trimmed_and_the_domain_lower_cased() -> None:
    assert parse(EMAIL, "  Jo.Smith@Example.ORG ", CTX) == "Jo.Smith@example.org"


@FAST
@given(
    address=st.from_regex(
        r"[a-z0-9]{1,12}([._+-][a-z0-9]{1,8})?@[a-z][a-z0-9-]{0,10}[a-z0-9]"
        r"\.(com|org|co\.uk|gov\.uk|police\.uk)",
        fullmatch=True,
    )
)
def test_any_plain_email_round_trips(address: str) -> None:
    assert parse(EMAIL, address, CTX) == address


POSTCODE = question(Kind.POSTCODE)
POSTCODE_PATTERN = (
    r"(?:[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?|[0-9][A-HJKPS-UW]))"
    r" [0-9][ABD-HJLNP-UW-Z]{2}"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        (" m1  1ae ", "M1 1AE"),
        ("b338th", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("dn55 1pt", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("ec1a1bb", "EC1A 1BB"),
        ("gir 0aa", "GIR 0AA"),
    ],
)
def test_postcodes_are_normalised(text: str, expected: str) -> None:
    assert parse(POSTCODE, text, CTX) == expected


@pytest.mark.parametrize(
    "text", ["SW1A", "12345", "QQ1 1AA", "SW1A 1AAA", "V1 1AA", "M1 1CA", "London"]
)
def test_unreal_postcodes_are_refused(text: str) -> None:
    refusal(POSTCODE, text)


@FAST
@given(postcode=st.from_regex(POSTCODE_PATTERN, fullmatch=True), data=st.data())
def test_any_well_formed_postcode_normalises(postcode: str, data: st.DataObject) -> None:
    typed = "".join(
        data.draw(st.sampled_from([ch.lower(), ch.upper()]))
        + data.draw(st.sampled_from(["", "", " "]))
        for ch in postcode.replace(" ", "")
    )
    assert parse(POSTCODE, typed, CTX) == postcode


NUMBER = question(Kind.NUMBER)


@pytest.mark.parametrize("text, value", [("2", 2), (" 0 ", 0), ("99", 99), ("two", 2), ("Ten", 10)])
def test_numbers(text: str, value: int) -> None:
    assert parse(NUMBER, text, CTX) == value


@pytest.mark.parametrize("text", ["-1", "2.5", "1 2", "a few", "100", "1000000"])
def test_numbers_refused(text: str) -> None:
    refusal(NUMBER, text)


@FAST
@given(value=st.integers(0, 10**6), pad=st.sampled_from(["", " ", "  "]))
def test_any_whole_number_up_to_the_maximum(value: int, pad: str) -> None:
    text = f"{pad}{value}{pad}"
    if value <= 99:
        assert parse(NUMBER, text, CTX) == value
    else:
        assert refusal(NUMBER, text).params == {"max": 99}


def test_the_maximum_can_be_set_per_question() -> None:
    assert parse(question(Kind.NUMBER, extra={"max": 500}), "150", CTX) == 150


# --- lookups through parse, and robustness -----------------------------------------------------


def test_lookup_questions_use_their_list_and_exclusions() -> None:
    town = question(Kind.LOOKUP, lookup="uk-towns")
    overseas = question(Kind.LOOKUP, lookup="countries", exclude=("United Kingdom",))
    assert parse(town, "  bham ", CTX) == "Birmingham"
    assert parse(overseas, "france", CTX) == "France"
    refusal(overseas, "United Kingdom")
    with pytest.raises(Ambiguous):
        parse(town, "newport", CTX)


ALL_QUESTIONS = [
    CHOICE,
    YES_NO,
    MULTI,
    TEXT,
    NO_URLS,
    DATE,
    PARTIAL,
    PHONE,
    EMAIL,
    POSTCODE,
    NUMBER,
    question(Kind.YES_NO, must_be_yes=True, refusal="r"),
    question(Kind.LOOKUP, lookup="nationalities"),
    question(Kind.LOOKUP, lookup="countries", exclude=("United Kingdom",)),
]


@FAST
@given(
    q=st.sampled_from(ALL_QUESTIONS),
    text=st.one_of(st.text(max_size=40), st.from_regex(r"[0-9 /.,&-]{0,12}", fullmatch=True)),
)
def test_any_text_gives_a_json_value_or_a_clear_refusal(q: Question, text: str) -> None:
    try:
        value = parse(q, text, CTX)
    except Invalid as error:
        assert error.message and set(re.findall(r"\{(\w*)\}", error.message)) <= set(error.params)
        assert all(name for name in re.findall(r"\{(\w*)\}", error.message))
    except Ambiguous as error:
        assert error.candidates
    else:
        assert isinstance(value, (str, int, list, dict))
        json.dumps(value)
