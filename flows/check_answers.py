"""The answers of a draft grouped by the form's sections, and where each part of the form stands:
what the web chat's "Check your answers" summary list and its task list show.

Pure, like the rest of ``flows``: from a DialogueState and a translator to plain data. Each row
keeps the number EDIT takes (the numbers of the REVIEW summary), so a Change link does exactly
what typing EDIT n does; answers are shown whole (the SMS summary cuts them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flows import render
from flows.dialogue import BY_ID, CONDITIONS, IN_PART, summary_items
from flows.i18n import Translator
from flows.question import Kind
from flows.referral_questions import PARTS, SECTIONS
from flows.route import REVIEW
from flows.state import REGISTRATION, DialogueState

LEFT_TO_RIGHT = frozenset({Kind.PHONE, Kind.EMAIL, Kind.DATE, Kind.NUMBER, Kind.POSTCODE})

Status = Literal["completed", "in-progress", "not-started"]


@dataclass(frozen=True)
class Row:
    """One answer: ``number`` is what EDIT takes; ``question`` and ``answer`` are translated."""

    number: int
    question_id: str
    question: str
    answer: str
    left_to_right: bool
    """A value that reads left to right in any language (a phone, an email, a date, a number)."""


@dataclass(frozen=True)
class Group:
    """The rows of one section of the form (``section`` translated), in the form's order."""

    section: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Part:
    """One of the form's seven parts: its name (translated), and how far it is answered."""

    number: int
    name: str
    answered: int
    questions: int
    status: Status


def groups(state: DialogueState, t: Translator) -> list[Group]:
    """Every answer on the route, in full, grouped by section (sections without answers left out)."""
    rows: dict[str, list[Row]] = {section: [] for section in SECTIONS}
    for number, (question, value) in enumerate(summary_items(state), start=1):
        rows[question.section].append(Row(number, question.id, t.gettext(question.summary),
                                          render.display(question, value, t),
                                          question.kind in LEFT_TO_RIGHT and value is not None))
    return [Group(t.gettext(section), tuple(found)) for section, found in rows.items() if found]


def parts(state: DialogueState, t: Translator) -> list[Part]:
    """The form's parts with the questions on the route as it stands (registration answers not
    counted): completed when all are answered and none is being asked (or nothing is asked in it
    and the form is past it), in progress when the current question is in it or some are answered."""
    answers = state.answers
    conditions = CONDITIONS.of(answers)
    applies, may_apply = conditions.applies, conditions.may_apply
    current = BY_ID.get(state.current)
    shown = []
    for number, (name, _) in enumerate(PARTS, start=1):
        asked = [q for q in IN_PART[number]
                 if q.id in applies and answers.get(q.id, {}).get("source") != REGISTRATION]
        if not asked:  # a part the route does not yet reach: the questions it may ask
            asked = [q for q in IN_PART[number]
                     if q.id in may_apply and answers.get(q.id, {}).get("source") != REGISTRATION]
        answered = sum(1 for q in asked if q.id in answers)
        here = current is not None and current in IN_PART[number]
        if asked and answered == len(asked) and (not here or state.current == REVIEW):
            status: Status = "completed"
        elif here or answered:
            status = "in-progress"
        else:
            status = "not-started"
        shown.append(Part(number, t.gettext(name), answered, len(asked), status))
    # a part with nothing to ask on this route (consent, for a child) is done once the form is past it
    for index, part in enumerate(shown):
        later = any(other.status != "not-started" for other in shown[index + 1:])
        if not part.questions and (later or state.current == REVIEW):
            shown[index] = Part(part.number, part.name, 0, 0, "completed")
    return shown
