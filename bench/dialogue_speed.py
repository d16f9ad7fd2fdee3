"""How many messages a second the pure dialogue (``flows.dialogue.handle``) takes, mid-referral.

A responder is walked to the person's nationality (an adult who consents), then a realistic mix
is replayed in a loop: answers (a date, a nationality from the list, one with a typo and its pick,
a yes/no, a choice), BACK, EDIT n, REVIEW, HELP, SKIP and a command word in another language. The
mix ends where it started, so every round does the same work. ``run()`` returns steps/s; run it
alone with ``python -m bench.dialogue_speed [steps]``, or add ``--profile`` for pyinstrument's
call tree of those steps, or ``--per-kind`` for the CPU time of each message of the mix and of
each kind (an answer, BACK, EDIT, REVIEW...).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from typing import Any

from flows import dialogue, lookups
from flows.commands import recognise
from flows.i18n import ENGLISH, Translator
from flows.question import Kind, Question
from flows.referral_questions import QUESTIONS
from flows.state import DialogueState

TODAY = date(2026, 11, 28)
START_AT = "pv-interpreter-requirements-language"
"""Where the timed mix starts and ends."""
DOB_LABEL = "Date of birth"
GENDER_LABEL = "Gender"

ANSWERS: dict[str, str] = {
    "pv-under-age": "no",
    "pv-under-age-at-time-of-exploitation": "no",
    "pv-want-to-submit-nrm": "yes",
    "does-pv-need-support": "no",
    "user-email": "sam.jones@example.org",
    "fr-alternative-contact": "team@example.org",
    "pv-dob": "3/2/1990",
    "where-exploitation-happened": "uk",
    "pv-gender": "2",
    "pv-nationality": "Albanian",
    "pv-nationality-second": "SKIP",
    "pv-interpreter-requirements": "yes",
}
"""Answers that choose the route (the rest are answered by kind, see ``_answer_for``)."""

BY_KIND: dict[Kind, str] = {
    Kind.CHOICE: "1",
    Kind.MULTI: "1",
    Kind.YES_NO: "no",
    Kind.TEXT: "Offered a restaurant job in London",
    Kind.DATE: "3/2/1990",
    Kind.PHONE: "07700 900123",
    Kind.EMAIL: "anna.h@example.com",
    Kind.POSTCODE: "LS1 4AP",
    Kind.NUMBER: "1",
}


def _answer_for(question: Question) -> str:
    if question.id in ANSWERS:
        return ANSWERS[question.id]
    if question.must_be_yes:
        return "yes"
    if question.kind is Kind.LOOKUP:
        assert question.lookup is not None
        return next(e for e in lookups.entries(question.lookup) if e not in question.exclude)
    return BY_KIND[question.kind]


def walked(t: Translator = ENGLISH, language: str = "en") -> DialogueState:
    """A draft that has answered everything before START_AT and asks it now."""
    state = dialogue.start(t, language=language).state
    by_id = {q.id: q for q in QUESTIONS}
    for _ in range(len(QUESTIONS)):
        if state.current == START_AT:
            return state
        question = by_id[state.current]
        turn = dialogue.handle(state, _answer_for(question), t, TODAY)
        assert turn.state.current != question.id, (question.id, turn.messages)
        state = turn.state
    raise AssertionError(f"the walk did not reach {START_AT}")


def mix(state: DialogueState, t: Translator = ENGLISH) -> list[str]:
    """One round of messages from START_AT back to START_AT with the same answers (the EDIT
    numbers are read from the summary, as a responder reads them)."""
    summary = dialogue.handle(state, "REVIEW", t, TODAY).messages[0]
    numbers = {line.split(":", 1)[0].split(" ", 1)[1]: line.split(" ", 1)[0]
               for line in summary.splitlines()[1:]}
    return [
        "HELP",
        "BACK",              # to the interpreter question (answered: "Answer so far")
        "BACK",
        "BACK",              # to the nationality
        "albanian",          # a list answer: on past the answered ones to START_AT
        "BACK",
        "BACK",
        "Vietnam",           # a country typed for a nationality: Vietnamese
        "BACK",
        "BACK",
        "SKIP",              # the second nationality is optional
        "BACK",
        "BACK",
        "BACK",
        "Albanain",          # a typo: the close matches are offered
        "1",                 # and one is picked
        "REVIEW",
        f"EDIT {numbers[DOB_LABEL]}",
        "32/2/1990",         # refused: no such day
        "3 February 1990",   # a date in words
        f"EDIT {numbers[GENDER_LABEL]}",
        "2",                 # a choice
        "cofnij",            # BACK in Polish, typed in an English dialogue: "Did you mean BACK?"
        "YES",
        "yes",               # the interpreter question again
    ]


def _round_ends_where_it_started(state: DialogueState, messages: list[str], t: Translator) -> None:
    for text in messages:
        state = dialogue.handle(state, text, t, TODAY).state
    assert state.current == START_AT and state.pending is None, (state.current, state.pending)


def run(steps: int = 20000, language: str = "en", t: Translator = ENGLISH) -> dict[str, Any]:
    """Time ``steps`` calls of ``dialogue.handle`` over the mix: steps per second of wall time,
    and per second of this process's CPU time (steadier on a shared machine)."""
    state = walked(t, language)
    messages = mix(state, t)
    _round_ends_where_it_started(state, messages, t)
    handle = dialogue.handle
    done = 0
    start, cpu = time.perf_counter(), time.process_time()
    while done < steps:
        for text in messages[: steps - done]:
            state = handle(state, text, t, TODAY).state
        done += min(len(messages), steps - done)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "steps": done,
        "seconds": round(elapsed, 3),
        "steps_per_second": round(done / elapsed),
        "steps_per_cpu_second": round(done / cpu),
        "language": language,
        "mix": len(messages),
    }


def kind_of(text: str, t: Translator = ENGLISH, language: str = "en") -> str:
    """The kind of a message of the mix: the command it is (BACK, EDIT...) or "answer"."""
    typed = recognise(text, t, language)
    return "answer" if typed is None else typed.command.name


def per_kind(rounds: int = 400, language: str = "en", t: Translator = ENGLISH) -> dict[str, Any]:
    """The mean process CPU time of ``handle`` in microseconds, for each message of the mix (in
    its order, as (kind, text, us)) and for each kind, over ``rounds`` rounds of the same mix."""
    state = walked(t, language)
    messages = mix(state, t)
    _round_ends_where_it_started(state, messages, t)
    handle, clock = dialogue.handle, time.process_time_ns
    spent = [0] * len(messages)
    for _ in range(rounds):
        for position, text in enumerate(messages):
            began = clock()
            state = handle(state, text, t, TODAY).state
            spent[position] += clock() - began
    each = [(kind_of(text, t, language), text, spent[n] / rounds / 1000) for n, text in enumerate(messages)]
    kinds: dict[str, list[float]] = {}
    for kind, _, micros in each:
        kinds.setdefault(kind, []).append(micros)
    return {
        "messages": [(kind, text, round(micros, 1)) for kind, text, micros in each],
        "kinds": {kind: (len(found), round(sum(found) / len(found), 1)) for kind, found in kinds.items()},
        "mean": round(sum(micros for _, _, micros in each) / len(each), 1),
    }


def _per_kind_table(found: dict[str, Any]) -> str:
    lines = ["kind      message                  CPU us"]
    lines += [f"{kind:<9} {text:<24} {micros:>6}" for kind, text, micros in found["messages"]]
    lines += ["", "kind      messages in the mix      mean CPU us"]
    lines += [f"{kind:<9} {count:>19} {micros:>14}" for kind, (count, micros) in found["kinds"].items()]
    lines.append(f"a step on average: {found['mean']} us")
    return "\n".join(lines)


def profile(steps: int = 2000) -> str:
    """Where the time of ``steps`` steps goes, as pyinstrument's call tree (the ``bench`` extra)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    with profiler:
        run(steps)
    return profiler.output_text(color=False)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--per-kind" in sys.argv:
        run(500)  # the first steps build the chart and the caches: not counted
        print(_per_kind_table(per_kind(int(arguments[0]) if arguments else 400)))
    else:
        count = int(arguments[0]) if arguments else 20000
        print(profile(count) if "--profile" in sys.argv else run(count))
