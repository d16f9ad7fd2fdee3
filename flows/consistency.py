"""Rules between answers to different questions, declared once as data.

The form implies them (NRM-FORM.md §2): a date of birth must agree with both "under 18" answers,
a second nationality is not the first, "has children: yes" means at least one child, and the
"other email for when you are away" is not the responder's own. Each rule names every field it
reads and the one answer to ask again (``ask``) when it fails. The dialogue checks a rule

- when ``ask`` is answered: an answer that breaks it is refused on the spot;
- whenever any answer changes (EDIT, BACK, RESTART, LANGUAGE, resuming) and at CONFIRM: if it
  fails, ``ask`` is asked again with the reason, before any new question and before sending.

Answers are read as stored, including those the route left behind for now (under 18 changed
from yes to no leaves the child's date of birth stored while consent is unanswered), but a rule
whose field can no longer be on the route (``Question.may_apply``) does not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Collection

from flows.question import N_, Answers, Invalid, Question

ADULT_AGE = 18


@lru_cache(maxsize=256)
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


def _ages(values: Answers, today: date) -> tuple[int, int] | None:
    """The age range a date of birth gives, or None for an approximate date (a guess)."""
    born = values["pv-dob"]
    return None if born.get("approximate") else _age_range(born["date"], today)


def _under_18_now(values: Answers, today: date) -> Invalid | None:
    ages = _ages(values, today)
    if ages is None:
        return None
    youngest, oldest = ages
    said = values["pv-under-age"]
    if said == "yes" and youngest >= ADULT_AGE:
        return Invalid(N_("That date makes the person {age} now, but you said they are under 18. "
                          "Check the date, or use REVIEW and EDIT to change that answer."), age=youngest)
    if said == "no" and oldest < ADULT_AGE:
        return Invalid(N_("That date makes the person {age} now, so they are a child. Check the date, "
                          "or use REVIEW and EDIT to change the answer about their age."), age=oldest)
    return None


def _under_18_when_exploited(values: Answers, today: date) -> Invalid | None:
    """Someone under 18 today was under 18 during any exploitation so far."""
    ages = _ages(values, today)
    if ages is None or values["pv-under-age-at-time-of-exploitation"] != "no" or ages[1] >= ADULT_AGE:
        return None
    return Invalid(N_("That date makes the person {age} now, so they were under 18 during the "
                      "exploitation, but you said they were not. Check the date, or use REVIEW and "
                      "EDIT to change that answer."), age=ages[1])


def _second_nationality(values: Answers, today: date) -> Invalid | None:
    if values["pv-nationality-second"] != values["pv-nationality"]:
        return None
    return Invalid(N_("The second nationality is the same as the first. Give a different one, "
                      "or reply SKIP."))


def _number_of_children(values: Answers, today: date) -> Invalid | None:
    if values["does-pv-have-children"] != "yes" or values["does-pv-have-children-yes-amount"] > 0:
        return None
    return Invalid(N_("You said the person has children, so the number is 1 or more. To change "
                      "that answer, use REVIEW and EDIT."))


def _other_email(values: Answers, today: date) -> Invalid | None:
    if str(values["fr-alternative-contact"]).casefold() != str(values["user-email"]).casefold():
        return None
    return Invalid(N_("That is your own work email. Give another address for when you are away, "
                      "e.g. a team inbox."))


@dataclass(frozen=True)
class Rule:
    """A rule between answers: holds while any of ``fields`` is unanswered or skipped."""

    id: str
    fields: tuple[str, ...]
    ask: str
    """The answer asked again when the rule fails; an answer to it that breaks the rule is refused."""
    check: Callable[[Answers, date], Invalid | None]

    def broken(self, values: Answers, today: date, by_id: dict[str, Question],
               may_apply: Collection[str] | None = None) -> Invalid | None:
        """Why the answers break the rule, or None when it holds or does not apply.
        ``may_apply``: the questions that may be on the route given ``values``, when the caller
        knows them (``flows.route.OnRoute.may_apply``); else each field's condition is evaluated."""
        for field in self.fields:
            if values.get(field) is None:
                return None
        if may_apply is None:
            may_apply = [field for field in self.fields if by_id[field].may_apply(values)]
        for field in self.fields:
            if field not in may_apply:
                return None
        return self.check(values, today)


RULES: tuple[Rule, ...] = (
    Rule("date-of-birth-and-under-18", ("pv-dob", "pv-under-age"), "pv-dob", _under_18_now),
    Rule("date-of-birth-and-under-18-when-exploited",
         ("pv-dob", "pv-under-age-at-time-of-exploitation"), "pv-dob", _under_18_when_exploited),
    Rule("second-nationality-not-the-first", ("pv-nationality", "pv-nationality-second"),
         "pv-nationality-second", _second_nationality),
    Rule("children-yes-means-one-or-more", ("does-pv-have-children", "does-pv-have-children-yes-amount"),
         "does-pv-have-children-yes-amount", _number_of_children),
    Rule("other-email-not-your-own", ("user-email", "fr-alternative-contact"),
         "fr-alternative-contact", _other_email),
)


FIELDS: frozenset[str] = frozenset(field for rule in RULES for field in rule.fields)
"""Every answer a rule reads: the only values :func:`broken` needs (with ``may_apply``)."""
ASKED: frozenset[str] = frozenset(rule.ask for rule in RULES)
"""The answers a rule may refuse (:func:`refusal` is None for any other)."""


def broken(values: Answers, today: date, by_id: dict[str, Question],
           may_apply: Collection[str] | None = None) -> list[tuple[Rule, Invalid]]:
    """Every rule the answers break, in declaration order (``may_apply`` as for ``Rule.broken``)."""
    found = []
    for rule in RULES:
        problem = rule.broken(values, today, by_id, may_apply)
        if problem is not None:
            found.append((rule, problem))
    return found


def refusal(qid: str, value: Any, values: Answers, today: date, by_id: dict[str, Question],
            may_apply: Collection[str] | None = None) -> Invalid | None:
    """Why an answer to ``qid`` breaks a rule that asks it (None: it may be stored).
    ``may_apply`` as for ``Rule.broken``, when the answer cannot change it."""
    proposed = {**values, qid: value}
    for rule in RULES:
        if rule.ask == qid:
            problem = rule.broken(proposed, today, by_id, may_apply)
            if problem is not None:
                return problem
    return None
