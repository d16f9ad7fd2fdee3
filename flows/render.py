"""Turning questions and answers into short SMS-sized text, in the conversation's language.

Everything a user reads is built here from msgids, so prompts look the same on every channel and
the segment budget can be checked in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any, NamedTuple

from flows.i18n import Translator, tr
from flows.question import Kind, Question

SUMMARY_WIDTH = 80
"""Long answers are cut in the summary so it stays readable on a phone; EDIT shows them whole."""


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a question stands: its part of the form (``section``, an English msgid, number
    ``section_number`` of ``sections``) and its place ``step`` of ``of`` within that part."""

    section: str
    section_number: int
    sections: int
    step: int
    of: int


@dataclass(frozen=True, slots=True)
class QuestionView:
    """The current question as the web chat API describes it (DESIGN.md §3).

    ``step`` and ``of`` count the questions of the current part of the form, ``section`` names
    that part (translated), number ``section_number`` of ``sections``; answering in order never
    makes (``section_number``, ``step``) go down. Besides the form's questions it describes a
    pending YES/NO confirmation (kind ``yes_no``, its own id) and the summary (kind ``confirm``).
    """

    id: str
    kind: str
    choices: list[dict[str, str]]
    optional: bool
    progress: Progress
    section: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "choices": self.choices,
            "optional": self.optional,
            "step": self.progress.step,
            "of": self.progress.of,
            "section": self.section,
            "section_number": self.progress.section_number,
            "sections": self.progress.sections,
        }


@dataclass(frozen=True)
class _Wording:
    """A question's own words in the language of one translator (they never change while the
    process runs, so they are read from the catalogue once: see :func:`wording`)."""

    prompt: str
    choices: tuple[tuple[str, str], ...]
    """(value, label) of each option, in order."""
    labels: dict[str, str]
    """Value -> label (read only)."""
    lines: tuple[str, ...]
    """The prompt's lines after the question: the numbered options, the hint, SKIP."""
    summary: str
    kind: str
    """The question's kind as the web chat API names it (``Kind.value``)."""


_WORDINGS: dict[tuple[int, int], tuple[Question, Translator, _Wording]] = {}
WORDINGS_LIMIT = 4096


def wording(question: Question, t: Translator) -> _Wording:
    """The question's words in the language of ``t``, translated at first use and remembered per
    question and translator (by identity: an entry keeps both alive, so no other object can
    take their ids while it is remembered)."""
    key = (id(question), id(t))
    known = _WORDINGS.get(key)
    if known is not None:
        return known[2]
    choices = tuple((c.value, t.gettext(c.label)) for c in question.options())
    lines = [f"{n} {label}" for n, (_, label) in enumerate(choices, start=1)]
    hint = _hint(question, t)
    if hint:
        lines.append(hint)
    if question.optional:
        lines.append(tr(t, "Reply SKIP to leave it out."))
    found = _Wording(t.gettext(question.prompt), choices, dict(choices), tuple(lines), t.gettext(question.summary),
                     question.kind.value)
    if len(_WORDINGS) >= WORDINGS_LIMIT:
        _WORDINGS.clear()
    _WORDINGS[key] = (question, t, found)
    return found


def view(question: Question, progress: Progress, t: Translator) -> QuestionView:
    return asked(question, progress, t).view()


def other_view(
    qid: str, kind: str, choices: list[dict[str, str]], progress: Progress, t: Translator,
    optional: bool = False,
) -> QuestionView:
    """A view of something asked that is not one of the form's questions (language list,
    confirmation, summary), placed where the conversation stands."""
    return QuestionView(qid, kind, choices, optional, progress, t.gettext(progress.section))


def progress_line(progress: Progress, t: Translator) -> str:
    """The short progress shown before every prompt, e.g. "(What happened 4/28)"."""
    return tr(t, "({section} {step}/{of})", section=t.gettext(progress.section),
              step=progress.step, of=progress.of)


def _hint(question: Question, t: Translator) -> str:
    if question.kind is Kind.MULTI:
        return tr(t, "Reply with one or more numbers, e.g. 1 3")
    if question.kind is Kind.DATE:
        if question.partial_date:
            return tr(t, "For example 3/2/1990, Feb 1990 or about 1990")
        return tr(t, "For example 3/2/1990")
    return ""


def prompt(question: Question, progress: Progress, current: Any, t: Translator) -> str:
    """The question with progress, numbered choices and how to answer it."""
    return asked(question, progress, t).prompt(current)


class Asked(NamedTuple):
    """A question asked at one place of the form in one translator's words: its prompt before
    any answer so far, and its view (see :func:`asked`)."""

    question: Question
    progress: Progress
    t: Translator
    """The three it is remembered for (kept alive with it, as their ids are its key)."""
    text: str
    words: _Wording
    so_far: str
    """"Answer so far: {answer}" in the words of ``t``."""
    section: str
    """The part of the form, in the words of ``t``."""

    def prompt(self, current: Any) -> str:
        """The prompt, with the answer so far under it unless there is none (``current`` None)."""
        if current is None:
            return self.text
        return self.text + "\n" + self.so_far.format(
            answer=_display(self.question, self.words.labels, current, self.t, None))

    def view(self) -> QuestionView:
        """The question as the web chat API describes it (its own list of choices)."""
        choices = [{"value": value, "label": label} for value, label in self.words.choices]
        return QuestionView(self.question.id, self.words.kind, choices, self.question.optional, self.progress,
                            self.section)


_ASKED: dict[tuple[int, int, int], Asked] = {}


def asked(question: Question, progress: Progress, t: Translator) -> Asked:
    """The question at ``progress`` in the words of ``t``, remembered per question, progress and
    translator (as ``wording`` remembers the words, by identity): a message reads its prompt and
    its view from one look-up."""
    key = (id(question), id(progress), id(t))
    known = _ASKED.get(key)
    if known is None:
        words = wording(question, t)
        text = "\n".join([progress_line(progress, t) + " " + words.prompt, *words.lines])
        known = Asked(question, progress, t, text, words, t.gettext("Answer so far: {answer}"),
                      t.gettext(progress.section))
        if len(_ASKED) >= WORDINGS_LIMIT:
            _ASKED.clear()
        _ASKED[key] = known
    return known


def display(question: Question, value: Any, t: Translator, width: int | None = None) -> str:
    """An answer as the user would recognise it: labels for choices, dates as typed back."""
    return _display(question, wording(question, t).labels, value, t, width)


def _display(question: Question, labels: dict[str, str], value: Any, t: Translator, width: int | None) -> str:
    if value is None:
        return tr(t, "(skipped)")
    kind = question.kind
    if kind is _MULTI:
        text = ", ".join(labels.get(v, v) for v in value)
    elif kind in _LABELLED:
        text = labels.get(value, str(value))
    elif kind is _DATE:
        text = day_first(value["date"])
        if value.get("approximate"):
            text = tr(t, "about {date}", date=text)
    else:
        text = " ".join(str(value).split())
    if width is not None and len(text) > width:
        text = text[: width - 3].rstrip() + "..."
    return text


_MULTI, _DATE, _LABELLED = Kind.MULTI, Kind.DATE, (Kind.CHOICE, Kind.YES_NO)
"""The kinds ``_display`` tells apart (a member read from the enum class is slow in this Python)."""


def day_first(iso: str) -> str:
    """A full or partial ISO date as people write it in all our languages: 3/2/1990, 2/1990, 1990."""
    return "/".join(str(int(part)) for part in reversed(iso.split("-")))


def summary_line(question: Question, value: Any, t: Translator) -> str:
    """One answer as the summary lists it, without its number."""
    words = wording(question, t)
    return f"{words.summary}: {_display(question, words.labels, value, t, SUMMARY_WIDTH)}"


def numbered(number: int, line: str) -> str:
    """A ``summary_line`` with its number: the numbers are what EDIT n takes."""
    return f"{number} {line}"


def summary(lines: Sequence[str], t: Translator) -> str:
    """The answers so far, under their heading (each line ``numbered``)."""
    return "\n".join([tr(t, "Your answers:"), *lines])
