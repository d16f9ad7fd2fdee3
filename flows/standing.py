"""What the answers imply, derived at most once per change of the answers and kept with the state.

A message reads the same things several times (which questions are on the route, the rules between
answers, progress, the summary, the first unanswered question), and most messages (BACK, HELP,
REVIEW, EDIT, an answer refused) change no answer at all. So they are worked out lazily, the first
time a message asks, and kept on the conversation's own :class:`~flows.state.DialogueState`
(``DialogueState.derived``, never stored) until ``answer`` or ``forget`` change the answers or a
new answers dict replaces them. What is shared between conversations is only what typed text
cannot reach (progress per route and question).
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from flows import consistency, render
from flows.i18n import Translator
from flows.question import Invalid, Question
from flows.referral_questions import PARTS, QUESTIONS, part_of
from flows.route import OnRoute, route_chart
from flows.state import REGISTRATION, DialogueState

BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}
CHART = route_chart(QUESTIONS)
"""The route chart of the catalogue, declared once."""
CONDITIONS = CHART.conditions
"""Which questions are on the route, remembered per set of the answers the conditions read."""
IN_PART: dict[int, tuple[Question, ...]] = {
    number: tuple(q for q in QUESTIONS if part_of(q)[0] == number) for number in range(1, len(PARTS) + 1)
}
"""The questions of each part of the form, in order (progress counts within a part)."""
INDEX: dict[str, int] = {q.id: n for n, q in enumerate(QUESTIONS)}


class Standing:
    """The answers of one state at one revision and what they imply, each part derived on first use."""

    __slots__ = ("answers", "revision", "on_route", "_checked", "_broken", "_registered", "_answered", "_unanswered",
                 "_lines", "_numbered")

    def __init__(self, answers: dict[str, dict[str, Any]], revision: int, on_route: OnRoute | None = None,
                 lines: dict[str, tuple[dict[str, Any], Translator, str]] | None = None,
                 registered: frozenset[str] | None = None) -> None:
        self.answers = answers
        """The answers dict it was derived from (kept: its identity tells a replaced dict)."""
        self.revision = revision
        self.on_route: OnRoute = on_route or CONDITIONS.of(answers)
        self._lines = {} if lines is None else lines
        """Question id -> (the answer's record, the translator, its summary line), handed on from one
        revision to the next: a record is replaced when its answer changes."""
        self._registered = registered
        self._checked: dict[str, Any] | None = None
        self._broken: tuple[date, list[tuple[consistency.Rule, Invalid]]] | None = None
        self._answered: tuple[str, ...] | None = None
        self._unanswered: str | None = None
        self._numbered: tuple[Translator, list[str | None]] | None = None
        """The summary's numbered lines in the words of one translator (None: one to render)."""

    def after(self, answered: str, revision: int) -> Standing:
        """The standing once ``answered`` has been answered (the answers dict holds it already):
        what one answer cannot have changed is handed on, the rest derived afresh. An answer that
        a route condition reads but that leaves the route as it was (answered again the same way,
        or a choice no fork depends on) hands on as much as one no condition reads."""
        registered = self._registered
        if registered is not None and (self.answers[answered]["source"] == REGISTRATION) != (answered in registered):
            registered = registered ^ {answered}
        on_route = self.on_route if answered in ANSWERS_NOT_ROUTING else None
        found = Standing(self.answers, revision, on_route, self._lines, registered)
        if found.on_route is self.on_route or found.on_route == self.on_route:
            if answered not in consistency.FIELDS:  # the rules read the same answers on the same route
                found._checked, found._broken = self._checked, self._broken
            if self._unanswered is not None and self._unanswered != answered:
                found._unanswered = self._unanswered  # still unanswered, and all before it answered
            if self._answered is not None and answered in self._answered:
                found._answered = self._answered  # answered again: the same questions are answered
                if self._numbered is not None:  # and numbered the same: only its line changes
                    t, lines = self._numbered
                    lines = list(lines)
                    lines[self._answered.index(answered)] = None
                    found._numbered = (t, lines)
        return found

    def registered(self) -> frozenset[str]:
        """The questions registration answered (progress does not count them)."""
        if self._registered is None:
            self._registered = frozenset(qid for qid, record in self.answers.items()
                                         if record.get("source") == REGISTRATION)
        return self._registered

    def checked(self) -> dict[str, Any]:
        """The values the rules between answers read (``consistency.FIELDS``): read only."""
        if self._checked is None:
            answers = self.answers
            self._checked = {qid: answers[qid]["value"] for qid in consistency.FIELDS if qid in answers}
        return self._checked

    def broken(self, today: date) -> list[tuple[consistency.Rule, Invalid]]:
        """The rules between answers that the answers break (``consistency.broken``) on ``today``:
        read only."""
        known = self._broken
        if known is None or known[0] != today:
            known = self._broken = (today, consistency.broken(self.checked(), today, BY_ID, self.on_route.may_apply))
        return known[1]

    def refusal(self, qid: str, value: Any, today: date) -> Invalid | None:
        """Why answering ``qid`` with ``value`` breaks a rule that asks it (``consistency.refusal``):
        an answer no route condition reads leaves the route, and so what may apply, as it is."""
        if qid in ANSWERS_NOT_ROUTING:
            return consistency.refusal(qid, value, self.checked(), today, BY_ID, self.on_route.may_apply)
        values = {key: record["value"] for key, record in self.answers.items()}
        return consistency.refusal(qid, value, values, today, BY_ID)

    def answered(self) -> tuple[str, ...]:
        """The questions on the route with an answer, in the form's order: what EDIT n numbers."""
        if self._answered is None:
            answers = self.answers
            self._answered = tuple(qid for qid in self.on_route.order if qid in answers)
        return self._answered

    def items(self) -> tuple[tuple[Question, Any], ...]:
        """(question, value) of the answered questions on the route, in the form's order."""
        answers = self.answers
        return tuple((BY_ID[qid], answers[qid]["value"]) for qid in self.answered())

    def summary(self, t: Translator) -> str:
        """The summary of the answers on the route (``render.summary``, numbered as ``answered``),
        each answer's line made once per translator while that answer stands, and the numbered
        lines kept until the answers change (then handed on by :meth:`after`)."""
        numbered = self._numbered
        if numbered is None or numbered[0] is not t:
            numbered = self._numbered = (t, [None] * len(self.answered()))
        shown = numbered[1]
        if None in shown:
            lines, answers, answered = self._lines, self.answers, self.answered()
            index: int | None = shown.index(None)
            while index is not None:  # only the lines to make again, found by list.index
                qid = answered[index]
                record = answers[qid]
                known = lines.get(qid)
                if known is None or known[0] is not record or known[1] is not t:
                    known = lines[qid] = (record, t, render.summary_line(BY_ID[qid], record["value"], t))
                shown[index] = render.numbered(index + 1, known[2])
                index = _next_none(shown, index + 1)
        return render.summary(cast(list[str], shown), t)

    def first_unanswered(self) -> str | None:
        """The first question on the route without an answer (None: the summary comes next)."""
        if self._unanswered is None:
            answers = self.answers
            self._unanswered = next((qid for qid in self.on_route.order if qid not in answers), "")
        return self._unanswered or None

    def progress(self, question: Question) -> render.Progress:
        """The question's part of the form and its place in that part, on the route as it stands
        (not counting what registration answered). A question asked again off the route as it
        stands (a doubtful date of birth while consent is unanswered) is counted among the
        questions of its part that may still come (``Question.may_apply``)."""
        key = (question.id, self.on_route, self.registered())
        found = _PROGRESS.get(key)
        if found is None:
            part, name = part_of(question)
            on_route, registered = self.on_route, key[2]
            asked = question.id in on_route.applies
            shown = [q.id for q in IN_PART[part]
                     if (q.id in on_route.applies or q is question or (not asked and q.id in on_route.may_apply))
                     and q.id not in registered]
            place = shown.index(question.id) + 1 if question.id in shown else len(shown)
            if len(_PROGRESS) >= CONDITIONS.LIMIT:
                _PROGRESS.clear()
            found = _PROGRESS[key] = render.Progress(name, part, len(PARTS), place, len(shown))
        return found


def _next_none(items: list[Any], start: int) -> int | None:
    """The index of the next None in ``items`` from ``start`` (None: there is none)."""
    try:
        return items.index(None, start)
    except ValueError:
        return None


def of(state: DialogueState) -> Standing:
    """The standing of ``state``'s answers as they are now: the one kept with the state while its
    answers are unchanged (``DialogueState.revision``, and the same answers dict), else a new one."""
    known = state.derived
    if known is None or known.answers is not state.answers:
        known = state.derived = Standing(state.answers, state.revision)
    elif known.revision == state.revision:
        return known
    elif known.revision + 1 == state.revision and state.answered:
        known = state.derived = known.after(state.answered, state.revision)
    else:
        known = state.derived = Standing(state.answers, state.revision, lines=known._lines)
    return known


def on_route(state: DialogueState) -> OnRoute:
    """Which questions are on the route given ``state``'s answers as they are now (``of``)."""
    return of(state).on_route


ANSWERS_NOT_ROUTING = frozenset(BY_ID) - set(CONDITIONS.value_fields) - set(CONDITIONS.given_fields)
"""The questions whose answer no route condition reads."""


_PROGRESS: dict[tuple[str, OnRoute, frozenset[str]], render.Progress] = {}
"""Progress per question, route and set of questions registration answered (few of each are ever
seen; nothing typed is in a key)."""
