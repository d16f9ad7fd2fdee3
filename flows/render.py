"""Turning questions and answers into short SMS-sized text, in the conversation's language.

Everything a user reads is built here from msgids, so prompts look the same on every channel and
the segment budget can be checked in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.i18n import Translator, tr
from flows.question import Kind, Question

SUMMARY_WIDTH = 80
"""Long answers are cut in the summary so it stays readable on a phone; EDIT shows them whole."""


@dataclass(frozen=True)
class QuestionView:
    """The current question as the web chat API describes it (DESIGN.md §3)."""

    id: str
    kind: str
    choices: list[dict[str, str]]
    optional: bool
    step: int
    of: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "choices": self.choices,
            "optional": self.optional,
            "step": self.step,
            "of": self.of,
        }


def view(question: Question, step: int, of: int, t: Translator) -> QuestionView:
    choices = [{"value": c.value, "label": t.gettext(c.label)} for c in question.options()]
    return QuestionView(question.id, question.kind.value, choices, question.optional, step, of)


def _hint(question: Question, t: Translator) -> str:
    if question.kind is Kind.MULTI:
        return tr(t, "Reply with one or more numbers, e.g. 1 3")
    if question.kind is Kind.DATE:
        if question.partial_date:
            return tr(t, "For example 3/2/1990, Feb 1990 or about 1990")
        return tr(t, "For example 3/2/1990")
    return ""


def prompt(question: Question, step: int, of: int, current: Any, t: Translator) -> str:
    """The question with progress, numbered choices and how to answer it."""
    lines = [tr(t, "({step}/{of})", step=step, of=of) + " " + t.gettext(question.prompt)]
    lines += [f"{n} {t.gettext(c.label)}" for n, c in enumerate(question.options(), start=1)]
    hint = _hint(question, t)
    if hint:
        lines.append(hint)
    if question.optional:
        lines.append(tr(t, "Reply SKIP to leave it out."))
    if current is not None:
        lines.append(tr(t, "Answer so far: {answer}", answer=display(question, current, t)))
    return "\n".join(lines)


def display(question: Question, value: Any, t: Translator, width: int | None = None) -> str:
    """An answer as the user would recognise it: labels for choices, dates as typed back."""
    if value is None:
        return tr(t, "(skipped)")
    labels = {c.value: t.gettext(c.label) for c in question.options()}
    if question.kind is Kind.MULTI:
        text = ", ".join(labels.get(v, v) for v in value)
    elif question.kind in (Kind.CHOICE, Kind.YES_NO):
        text = labels.get(value, str(value))
    elif question.kind is Kind.DATE:
        text = day_first(value["date"])
        if value.get("approximate"):
            text = tr(t, "about {date}", date=text)
    else:
        text = " ".join(str(value).split())
    if width is not None and len(text) > width:
        text = text[: width - 3].rstrip() + "..."
    return text


def day_first(iso: str) -> str:
    """A full or partial ISO date as people write it in all our languages: 3/2/1990, 2/1990, 1990."""
    return "/".join(str(int(part)) for part in reversed(iso.split("-")))


def summary(items: list[tuple[Question, Any]], t: Translator) -> str:
    """Numbered answers so far; the numbers are what EDIT n takes."""
    lines = [tr(t, "Your answers:")]
    for number, (question, value) in enumerate(items, start=1):
        answer = display(question, value, t, SUMMARY_WIDTH)
        lines.append(f"{number} {t.gettext(question.summary)}: {answer}")
    return "\n".join(lines)
