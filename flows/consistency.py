"""Checks of one answer against earlier ones, for ``Question.cross_check``.

Each answer is valid on its own; these catch combinations that cannot both be true, because a
wrong age decides whether the person is referred as a child (no consent asked) or as an adult.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flows.question import N_, Answers, Invalid, ParseContext

ADULT_AGE = 18


def _age_range(iso: str, today: date) -> tuple[int, int]:
    """Youngest and oldest the person can be today, for a full or partial (year, year-month) date."""
    parts = [int(p) for p in iso.split("-")]
    year, month, day = parts[0], parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None
    if month is None:
        return today.year - year - 1, today.year - year
    if day is None:
        if month == today.month:
            return today.year - year - 1, today.year - year
        age = today.year - year - (1 if month > today.month else 0)
        return age, age
    age = today.year - year - ((today.month, today.day) < (month, day))
    return age, age


def age_matches_under_18(value: Any, answers: Answers, ctx: ParseContext) -> None:
    """A date of birth must agree with the answer to "Is the person under 18?"."""
    if value is None or value.get("approximate"):
        return
    youngest, oldest = _age_range(value["date"], ctx.today)
    said = answers.get("pv-under-age")
    if said == "yes" and youngest >= ADULT_AGE:
        raise Invalid(N_("That date makes the person {age} now, but you said they are under 18. "
                         "Check the date, or use REVIEW and EDIT to change that answer."), age=youngest)
    if said == "no" and oldest < ADULT_AGE:
        raise Invalid(N_("That date makes the person {age} now, so they are a child. Check the date, "
                         "or use REVIEW and EDIT to change the answer about their age."), age=oldest)
