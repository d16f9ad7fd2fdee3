"""SMS segment arithmetic (GSM 03.38 and UCS-2), sanitising, and fitting replies into messages."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from bot.segments import (GSM7, GSM7_BASIC, GSM7_EXTENSION, MAX_MESSAGE_CHARS, MAX_SEGMENTS, UCS2, encoding,
                          fit, fits, looks_cut, pack, sanitise, segments, units)
from flows import render
from flows.i18n import ENGLISH
from flows.question import Question
from flows.referral_questions import PARTS, QUESTIONS, part_of

# -- GSM-7 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "expected"), [
    (0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_gsm7_basic_characters_cost_one_septet(length: int, expected: int) -> None:
    text = ("Hello @£$¥ èé ÄÖÑÜ §¿ _ " * 40)[:length]
    assert encoding(text) == GSM7
    assert units(text) == length
    assert segments(text) == expected


@pytest.mark.parametrize("char", list("€[]{}\\^~|"))
def test_extension_characters_cost_two_septets(char: str) -> None:
    assert encoding(char) == GSM7
    assert units(char) == 2
    assert segments(char * 80) == 1  # 160 septets
    assert segments(char * 81) == 2  # 162 septets


def test_an_extension_character_is_not_split_between_two_parts() -> None:
    # 152 septets, then "€" (2 septets) would straddle the 153-septet part boundary.
    text = "a" * 152 + "€" + "b" * 152
    assert units(text) == 306  # would fill exactly two parts of 153 if the pair could be split
    assert segments(text) == 3


def test_newlines_are_gsm7_but_tabs_and_backticks_are_not() -> None:
    assert encoding("one\ntwo\r\n") == GSM7
    assert encoding("a\tb") == UCS2
    assert encoding("`") == UCS2


# -- UCS-2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "expected"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3)])
def test_ucs2_counts_70_single_and_67_per_part(length: int, expected: int) -> None:
    text = "ł" * length  # Polish: not in the GSM alphabet
    assert encoding(text) == UCS2
    assert segments(text) == expected


def test_one_character_outside_gsm7_switches_the_whole_message_to_ucs2() -> None:
    text = "a" * 100 + "ą"
    assert encoding(text) == UCS2
    assert segments(text) == 2
    assert segments("a" * 101) == 1


def test_emoji_outside_the_bmp_count_two_utf16_units() -> None:
    assert units("😀") == 2
    assert segments("😀" * 35) == 1  # 70 units
    assert segments("😀" * 36) == 2  # 72 units
    # 66 units then an emoji: the surrogate pair is not split across the 67-unit boundary
    assert segments("ł" * 66 + "😀" + "ł" * 66) == 3


# -- sanitise -------------------------------------------------------------------------------------


def test_sanitise_replaces_typographic_punctuation_by_gsm_equivalents() -> None:
    text = "\u201cIt\u2019s 5\u00a0km\u202faway \u2013 or \u2014 so\u2026\u201d \u2018ok\u2019"
    clean = sanitise(text)
    assert clean == "\"It's 5 km away - or - so...\" 'ok'"
    assert encoding(text) == UCS2
    assert encoding(clean) == GSM7


def test_sanitise_leaves_the_punctuation_of_a_text_that_needs_ucs2_anyway() -> None:
    persian = "\u00abاطلاعیه حریم خصوصی\u00bb برده\u200cگی"  # guillemets and a zero-width non-joiner
    assert sanitise(persian) == persian
    assert sanitise("\u201eCytat\u201d \u2013 łódź") == "\u201eCytat\u201d \u2013 łódź"  # UCS-2 either way
    assert sanitise("\u201cQuote\u201d \u2013 ok\u2026") == '"Quote" - ok...'  # GSM-7 once replaced


def test_sanitise_leaves_letters_of_other_languages_alone() -> None:
    assert sanitise("Zażółć gęślą jaźń") == "Zażółć gęślą jaźń"
    assert sanitise("Türkçe: çok güzel") == "Türkçe: çok güzel"


# -- looks cut ------------------------------------------------------------------------------------


def test_a_message_of_exactly_one_segment_looks_cut() -> None:
    assert looks_cut("a" * 160) and looks_cut("a" * 153)
    assert looks_cut("ł" * 70) and looks_cut("ł" * 67)
    assert looks_cut("€" * 80)  # 160 septets
    assert not looks_cut("a" * 159) and not looks_cut("a" * 161) and not looks_cut("ł" * 69)


# -- fit and pack ---------------------------------------------------------------------------------


def test_fit_keeps_short_text_whole() -> None:
    assert fit("Short.") == ["Short."]


def test_fit_splits_a_long_summary_between_its_lines() -> None:
    lines = ["Your answers:"] + [f"{n} Question number {n}: answer {n} " + "x" * 40 for n in range(1, 41)]
    text = "\n".join(lines)
    assert segments(text) > MAX_SEGMENTS
    parts = fit(text)
    assert len(parts) > 1
    assert all(segments(part) <= MAX_SEGMENTS and len(part) <= MAX_MESSAGE_CHARS for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines


def test_fit_splits_an_overlong_line_at_spaces_and_an_overlong_word_anywhere() -> None:
    line = " ".join(["word"] * 300)
    parts = fit(line)
    assert all(fits(part) for part in parts)
    assert " ".join(parts) == line
    word = "ł" * 500
    parts = fit(word)
    assert all(fits(part) for part in parts) and "".join(parts) == word


def test_pack_joins_short_messages_and_sanitises() -> None:
    packed = pack(["That\u2019s not a date.", "(3/9) When?"])
    assert packed == ["That's not a date.\n\n(3/9) When?"]
    long = "x" * 400
    assert pack([long, long]) == [long, long]


# -- every prompt of the dialogue fits -------------------------------------------------------------


def _progress(question: Question, step: int) -> render.Progress:
    number, name = part_of(question)
    return render.Progress(name, number, len(PARTS), step, step)


def _rendered_prompts() -> list[tuple[int, int, str]]:
    largest = len(QUESTIONS)  # no part is longer than the whole catalogue: (Where and who 112/112)
    rendered = []
    for question in QUESTIONS:
        text = sanitise(render.prompt(question, _progress(question, largest), None, ENGLISH))
        rendered.append((segments(text), units(text), question.id))
    return sorted(rendered, reverse=True)


def test_every_prompt_fits_in_three_segments() -> None:
    rendered = _rendered_prompts()
    too_long = [item for item in rendered if item[0] > MAX_SEGMENTS]
    assert not too_long, too_long
    longest = rendered[0]
    print(f"longest prompt: {longest[2]}, {longest[0]} segments ({longest[1]} septets)")


def test_every_prompt_is_gsm7_after_sanitising() -> None:
    for question in QUESTIONS:
        assert encoding(sanitise(render.prompt(question, _progress(question, 99), None, ENGLISH))) == GSM7, question.id


def _segments_char_by_char(text: str) -> int:
    """The definition, one character at a time: the oracle for the counter's quick paths."""
    alphabet = GSM7 if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text) else UCS2
    sizes = [(2 if ch in GSM7_EXTENSION else 1) if alphabet == GSM7 else (2 if ord(ch) > 0xFFFF else 1)
             for ch in text]
    if sum(sizes) <= {GSM7: 160, UCS2: 70}[alphabet]:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > {GSM7: 153, UCS2: 67}[alphabet]:
            count, used = count + 1, 0
        used += size
    return count


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"abc XYZ.\n", "€", "[", "é", "ł", "ș", "\U0001f600", "\uffff",
                                         "\U00010000", "ت"]), max_size=700))
def test_segment_counts_match_the_character_by_character_definition(text: str) -> None:
    assert segments(text) == _segments_char_by_char(text)
    assert fits(text) == (len(text) <= MAX_MESSAGE_CHARS and _segments_char_by_char(text) <= MAX_SEGMENTS)
