"""A date of birth that contradicts the age answer is caught on the spot, in words."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.consistency import _age_range
from tests.flows.conversation import ADULT_NRM, CHILD, TODAY, conversation_at


def test_a_child_with_an_adult_date_of_birth_is_asked_again() -> None:
    conversation = conversation_at("pv-dob", route="child")
    conversation.say("3/2/1990")
    assert conversation.turn.messages[0].startswith("That date makes the person 36 now, but you said")
    assert conversation.question_id == "pv-dob"
    conversation.say(CHILD["pv-dob"])
    assert conversation.values()["pv-dob"] == {"date": "2012-02-03", "approximate": False}


def test_an_adult_with_a_childs_date_of_birth_is_told_they_are_a_child() -> None:
    conversation = conversation_at("pv-dob", route="adult")
    conversation.say("1 March 2010")
    assert "so they are a child" in conversation.turn.messages[0]
    assert conversation.question_id == "pv-dob"
    conversation.say(ADULT_NRM["pv-dob"])
    assert conversation.question_id != "pv-dob"


@pytest.mark.parametrize("typed", ["about 2010", "2008", "Dec 2008"])
def test_approximate_or_borderline_dates_are_not_refused(typed: str) -> None:
    """A year alone could be either side of 18, and "about" is a guess: no contradiction to claim."""
    conversation = conversation_at("pv-dob", route="adult" if typed == "about 2010" else "child")
    conversation.say(typed)
    assert conversation.question_id != "pv-dob", conversation.text


@given(st.dates(min_value=date(1901, 1, 1), max_value=TODAY))
def test_a_full_date_gives_the_exact_age(born: date) -> None:
    exact = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    assert _age_range(born.isoformat(), TODAY) == (exact, exact)


@given(st.dates(min_value=date(1901, 1, 1), max_value=TODAY))
def test_a_partial_date_brackets_the_exact_age(born: date) -> None:
    exact = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    for partial in (f"{born.year}", f"{born.year}-{born.month:02d}"):
        youngest, oldest = _age_range(partial, TODAY)
        assert youngest <= exact <= oldest
