"""The referral conversation: one pure step per message, ``handle(state, text) -> Turn``.

The channels (SMS, web chat, the terminal) load a DialogueState, call ``handle`` with what the
user typed, store the returned state and send the returned messages. When the user confirms, the
Turn carries the payload; the channel submits it and then calls ``submitted`` with the reference.
Nothing here touches a network or a database, and time and language are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Callable

from flows import consent, consistency, languages
from flows import payload as payloads
from flows import commands, lookups, render, validators
from flows import standing as standings
from flows.commands import Command, Typed, recognise
from flows.i18n import Catalogues, Translator, catalogue, tr, trn
from flows.question import N_, YES_NO_CHOICES, Ambiguous, Invalid, Kind, ParseContext, Question
from flows.referral_questions import QUESTIONS
from flows.route import CANCELLED, REVIEW, SUBMITTED, Route
from flows.standing import CHART, CONDITIONS, IN_PART  # noqa: F401  (the catalogue's tables, read here by callers)
from flows.standing import BY_ID, INDEX, Standing
from flows.state import REGISTRATION, DialogueState

SENT_NRM = N_("NRM referral sent. Reference: {reference}. Quote it in any contact.")
SENT_DTN = N_("Duty to Notify report sent. Reference: {reference}.")
"""The receipts' first lines (also what a channel answers to a message after the referral was sent)."""
RG_TARGET_WORKING_DAYS = 5

ASKED_AGAIN = N_("This answer does not agree with another answer you gave, so it is asked again.")
NOT_SENT_YET = N_("The referral has not been sent: two answers do not agree.")
CONFIRM_RESTART = N_("This deletes all your answers and starts again. Reply YES to confirm, or NO to carry on.")
CONFIRM_DISCARD = N_("This deletes this referral without sending it. Reply YES to confirm, or NO to carry on.")
NOTHING_DELETED = N_("OK, nothing deleted.")
CONFIRM_LABEL = N_("Confirm and send")
SUMMARY_QUESTION = "confirm"
"""The id of the summary in the web chat API (kind ``confirm``): CONFIRM sends the referral."""
CONFIRMATION_QUESTIONS = {Command.RESTART.value: "confirm-restart", Command.CANCEL.value: "confirm-discard"}
"""The ids of the YES/NO confirmations of RESTART and DISCARD in the web chat API."""


@dataclass
class Turn:
    """What one message produced: the new state, the replies, and what the channel must do."""

    state: DialogueState
    messages: list[str]
    question: render.QuestionView | None = None
    done: bool = False
    submission: dict[str, Any] | None = None
    reference: str | None = None


class _Step:
    """The conversation being handled: its state, the chart over it, and the replies so far
    (a plain class with slots: one is made for every message)."""

    __slots__ = ("state", "t", "today", "messages", "catalogues", "explained", "route")

    def __init__(self, state: DialogueState, t: Translator, today: date, catalogues: Catalogues | None = None) -> None:
        self.state = state
        self.t = t
        self.today = today
        self.messages: list[str] = []
        self.catalogues = catalogues
        """Language code -> translator, for LANGUAGE and EXPLAIN (default: flows.i18n.catalogue)."""
        self.explained = False
        """EXPLAIN answered in this turn: the consent question is asked without offering it again."""
        self.route = Route(CHART, state, standings.on_route)

    def standing(self) -> Standing:
        """What the answers imply as they are now (``flows.standing``: derived again only when
        they have changed)."""
        return standings.of(self.state)

    def translator(self, language: str) -> Translator:
        """The catalogue of ``language`` (this turn's translator when it is the dialogue's)."""
        if language == self.state.language:
            return self.t
        return (self.catalogues or catalogue)(language)

    def say(self, message: str, **params: Any) -> None:
        self.messages.append(tr(self.t, message, **params))


def start(
    t: Translator,
    registration: dict[str, Any] | None = None,
    language: str | None = None,
    catalogues: Catalogues | None = None,
) -> Turn:
    """A new draft: what registration already knows is answered, then the first question.

    Without a ``language`` (a first contact by SMS) the languages are offered first, as a numbered
    list, each named in itself; a channel that already knows the language passes it.
    """
    state = DialogueState(language=language or languages.SOURCE)
    for qid, value in (registration or {}).items():
        state.answer(qid, value, typed="", source=REGISTRATION)
    step = _Step(state, t, date.today(), catalogues=catalogues)
    if language is None:
        state.pending = {"language": "start"}
        step.messages.append(languages.menu(t))
        return Turn(state, step.messages, _language_view(step))
    return _welcome(step)


def _welcome(step: _Step) -> Turn:
    step.say(
        "NRM referral. One question at a time. Reply HELP for help with a question, "
        "BACK to go back, REVIEW to check your answers."
    )
    _skip_answered(step)
    return _finish(step)


def handle(
    state: DialogueState, text: str, t: Translator, today: date, catalogues: Catalogues | None = None
) -> Turn:
    """Apply one message to the conversation.

    ``catalogues`` gives the translator of another language when the user switches with LANGUAGE
    or asks for the explanation in another language with EXPLAIN n (default: the loader the
    channel installed with ``flows.i18n.use_catalogues``).
    """
    step = _Step(state, t, today, catalogues=catalogues)
    if state.current in (SUBMITTED, CANCELLED):
        step.say("This conversation has ended. Send any message to start a new referral.")
        return Turn(state, step.messages, done=True)
    typed = recognise(text, t, state.language)
    if state.pending is not None and "language" in state.pending:
        return _language_reply(step, text, typed)
    if typed is not None and typed.command is Command.LANGUAGE:
        if state.pending is not None and "confirm" in state.pending:
            step.say(NOTHING_DELETED)  # the confirmation is dropped, visibly
        state.pending = None  # a pick or a YES to confirm is dropped: the question is asked again
        return _language(step, typed.number)
    if state.pending is not None:
        return _pending(step, text, typed)
    meant = _meant(step, text, typed)
    if meant is not None:
        return _ask_meant(step, meant, text)
    if typed is not None:
        return _command(step, typed)
    if state.current == REVIEW:
        step.say("Reply CONFIRM to send the referral, or EDIT and a number to change an answer.")
        return _finish(step, ask=False)
    return _answer(step, BY_ID[state.current], text)


def repeat(state: DialogueState, t: Translator) -> Turn:
    """The current question again, e.g. when a stored draft is resumed (the language list again
    while it is waiting for a language: at first contact that comes before any question)."""
    step = _Step(state, t, date.today())
    pending = state.pending or {}
    if "language" in pending:
        step.messages.append(languages.menu(t))
        return Turn(state, step.messages, _language_view(step))
    if "confirm" in pending:
        return _ask_confirmation(step, pending["confirm"])
    if "pick" in pending:
        return _offer_candidates(step, pending["pick"], pending["candidates"], pending["typed"])
    if "meant" in pending:
        return _ask_meant(step, Typed(Command(pending["meant"]), pending["number"]), pending["typed"])
    return _finish(step)


def submitted(state: DialogueState, reference: str, t: Translator) -> Turn:
    """After the channel stored the referral: close the chart and say what happens next."""
    step = _Step(state, t, date.today())
    values = state.values()
    step.route.send("submit")
    if payloads.route_of(values) == "dtn":
        step.say(SENT_DTN, reference=reference)
        step.say("It is anonymous unless the person agreed to police contact. No decision follows.")
    else:
        step.say(SENT_NRM, reference=reference)
        step.messages.append(
            trn(
                step.t,
                "A reasonable grounds decision is due within {n} working day.",
                "A reasonable grounds decision is due within {n} working days.",
                RG_TARGET_WORKING_DAYS,
            )
        )
        if values.get("does-pv-need-support") == "yes":
            step.say("A support provider will contact the person to arrange support.")
    if values.get("reference"):  # the responder's own label: in their receipt, never in the payload
        step.say("Your own reference: {reference}.", reference=values["reference"])
    return Turn(state, step.messages, done=True, reference=reference)


# -- answers --------------------------------------------------------------------------------


def _answer(step: _Step, question: Question, text: str) -> Turn:
    context = ParseContext(step.today, step.state.language, step.t)
    try:
        value = validators.parse(question, text, context)
    except lookups.NoMatch as error:
        step.say(error.message, **error.params)
        if question.free_text:  # not in the list: keeping it as typed is one of the ways on
            return _offer_candidates(step, question.id, [], text)
        return _finish(step)
    except Invalid as error:
        step.say(error.message, **error.params)
        return _finish(step)
    except Ambiguous as error:
        return _offer_candidates(step, question.id, error.candidates, text)
    return _store(step, question, value, text)


NONE_OF_THESE = N_("None of these: keep \"{typed}\"")
KEEP_AS_TYPED = N_("Keep \"{typed}\" as typed")


def _offer_candidates(step: _Step, qid: str, candidates: list[str], typed: str) -> Turn:
    """Close list matches, numbered: the next reply picks one or is typed afresh. Where the list
    does not bind (``free_text``), the last number keeps what was typed ("none of these")."""
    step.state.pending = {"pick": qid, "candidates": candidates, "typed": typed}
    question = BY_ID[qid]
    options = list(candidates)
    if question.free_text:
        shown = lookups.shortened(typed)
        options.append(tr(step.t, NONE_OF_THESE if candidates else KEEP_AS_TYPED, typed=shown))
    lines = [f"{n} {option}" for n, option in enumerate(options, start=1)]
    header = [tr(step.t, "Did you mean one of these? Reply with the number, or type it again.")]
    step.messages.append("\n".join((header if candidates else []) + lines))
    choices = [{"value": value, "label": label} for value, label in zip([*candidates, typed], options)]
    view = render.other_view(qid, question.kind.value, choices, _progress(step, question), step.t,
                             question.optional)
    return Turn(step.state, step.messages, view)


def _keep_as_typed(step: _Step, question: Question, typed: str) -> Turn:
    """"None of these": the answer is the text as typed, not an entry of the list."""
    try:
        value = validators.as_typed(question, typed)
    except Invalid as error:
        step.say(error.message, **error.params)
        return _finish(step)
    return _store(step, question, value, typed)


def _store(step: _Step, question: Question, value: Any, typed: str) -> Turn:
    """Keep a valid answer and move on, unless it breaks a rule that asks this question."""
    problem = None
    if question.id in consistency.ASKED:
        problem = step.standing().refusal(question.id, value, step.today)
    if problem is not None:
        step.say(problem.message, **problem.params)
        return _finish(step)
    step.state.answer(question.id, value, typed)
    consent.record_answer(step.state, question.id)
    step.route.send("advance")
    _skip_answered(step)
    return _finish(step)


def _prune(step: _Step) -> None:
    """Drop answers the route no longer takes (the form's branch invalidation, done fully).

    Run when the route is complete (on reaching the summary), not after each answer: until then
    an answer off the route may come back on it. Under 18 changed from yes to no takes the
    person's name, date of birth and the rest off the route until consent is answered again;
    the form keeps those values (NRM-FORM.md §1.3) and so do we. Stale answers in between are
    invisible: the summary, progress and payload only read the questions on the route.

    What registration supplied is kept even off the route: it is about the responder, not the
    person, and is needed again as soon as the route comes back to it (the payload only ever
    carries the answers on the route).
    """
    state = step.state
    while True:
        on_route = step.standing().on_route.applies
        stale = [
            qid
            for qid, record in state.answers.items()
            if qid in BY_ID and record.get("source") != REGISTRATION and qid not in on_route
        ]
        if not stale:
            return
        state.forget(stale)


def _skip_answered(step: _Step) -> None:
    """Move on to where work is needed: past the questions already answered (after BACK or EDIT),
    or back to the first unanswered question of the route when one comes before this point (after
    a doubtful answer further on was asked again)."""
    earlier = _first_unanswered_before(step)
    if earlier is not None:
        step.route.send("edit", field=earlier)
    answers = step.state.answers
    step.route.send_while("advance", lambda current: current in BY_ID and current in answers)
    if step.state.current == REVIEW:
        _prune(step)
        step.state.editing = False


def _first_unanswered_before(step: _Step) -> str | None:
    first = step.standing().first_unanswered()
    if first is None or INDEX[first] >= INDEX.get(step.state.current, len(QUESTIONS)):
        return None
    return first


def _recheck(step: _Step, lead: str = ASKED_AGAIN) -> bool:
    """Take the conversation to an answer that a rule between answers now doubts, saying why.

    Checked on every turn, so a rule is re-checked whatever changed the answers it reads (an
    answer, EDIT, BACK, RESTART, LANGUAGE, resuming a draft on a later day). It moves before a
    new question or the summary is shown, not while the user is on one of the rule's own
    questions or has gone back to an answered one: there they are fixing it, and the next new
    question brings them back here if they did not.
    """
    state = step.state
    if state.current not in BY_ID and state.current != REVIEW:
        return False
    if state.current in state.answers:
        return False  # going back over answered questions: nothing new is asked yet
    failures = step.standing().broken(step.today)
    if not failures:
        return False
    if any(state.current in rule.fields for rule, _ in failures):
        return False
    rule, problem = failures[0]
    step.route.send("edit", field=rule.ask)
    step.say(lead)
    step.say(problem.message, **problem.params)
    return True


# -- commands -------------------------------------------------------------------------------


def _command(step: _Step, typed: Typed) -> Turn:
    act = _ACTIONS.get(typed.command)
    if act is not None:
        return act(step, typed)
    step.state.pending = {"confirm": typed.command.value}  # RESTART and DISCARD wait for YES
    return _ask_confirmation(step, typed.command.value)


def _help(step: _Step) -> Turn:
    question = BY_ID.get(step.state.current)
    if question is not None:
        step.say(question.help)
    step.say(
        "Commands: BACK, SKIP (optional questions), REVIEW, EDIT and a number, RESTART, "
        "DISCARD, LANGUAGE."
    )
    return _finish(step)


def _confirm(step: _Step) -> Turn:
    state = step.state
    if state.current != REVIEW:
        step.say("You can send the referral once every question is answered.")
        return _finish(step)
    if _recheck(step, NOT_SENT_YET):
        return _finish(step)
    return Turn(state, step.messages, submission=payloads.build(state))


_ACTIONS: dict[Command, Callable[[_Step, Typed], Turn]] = {
    Command.HELP: lambda step, typed: _help(step),
    Command.LANGUAGE: lambda step, typed: _language(step, typed.number),
    Command.EXPLAIN: lambda step, typed: _explain(step, typed.number),
    Command.BACK: lambda step, typed: _back(step),
    Command.SKIP: lambda step, typed: _skip(step),
    Command.REVIEW: lambda step, typed: _review(step),
    Command.EDIT: lambda step, typed: _edit(step, typed.number),
    Command.CONFIRM: lambda step, typed: _confirm(step),
}
"""What each command does (one look-up rather than a comparison per command: reading a member
of an enum class is slow in this Python)."""


def _ask_confirmation(step: _Step, command: str) -> Turn:
    """RESTART or DISCARD awaiting YES: the current question until answered, in every channel
    (a reload or a resumed draft asks it again rather than the question under it)."""
    step.say(CONFIRM_RESTART if command == Command.RESTART.value else CONFIRM_DISCARD)
    return Turn(step.state, step.messages, _yes_no_view(step, CONFIRMATION_QUESTIONS[command]))


def _yes_no_view(step: _Step, qid: str) -> render.QuestionView:
    """A pending YES/NO sub-question as the API describes it: its own id, kind yes_no."""
    choices = [{"value": c.value, "label": step.t.gettext(c.label)} for c in YES_NO_CHOICES]
    return render.other_view(qid, Kind.YES_NO.value, choices, _where(step), step.t)


def _back(step: _Step) -> Turn:
    moved = step.route.send("back")
    while moved and step.state.answers.get(step.state.current, {}).get("source") == REGISTRATION:
        moved = step.route.send("back")
    if not moved:
        step.say("This is the first question.")
    return _finish(step)


def _skip(step: _Step) -> Turn:
    question = BY_ID.get(step.state.current)
    if question is None:
        step.say("There is nothing to skip here.")
        return _finish(step)
    if not question.optional:
        step.say("This question needs an answer. Reply HELP if you are not sure what it means.")
        return _finish(step)
    return _store(step, question, None, "SKIP")


def _review(step: _Step) -> Turn:
    if step.state.current != REVIEW:
        step.messages.append(step.standing().summary(step.t))
        step.say("Reply EDIT and a number to change an answer. Carrying on:")
    return _finish(step)


def _edit(step: _Step, number: int | None) -> Turn:
    answered = step.standing().answered()
    if number is None or not 1 <= number <= len(answered):
        step.say("Reply EDIT and the number of the answer, e.g. EDIT 3. REVIEW shows the numbers.")
        return _finish(step)
    step.route.send("edit", field=answered[number - 1])
    step.state.editing = True
    return _finish(step)


def _pending(step: _Step, text: str, typed: Typed | None) -> Turn:
    pending = step.state.pending or {}
    step.state.pending = None
    if "meant" in pending:
        return _meant_reply(step, text, pending)
    if "pick" in pending:
        choice = text.strip().rstrip(".)").strip()  # "2." or "2)" as phones and habit type it
        candidates = pending["candidates"]
        question = BY_ID[pending["pick"]]
        if choice.isdigit() and 1 <= int(choice) <= len(candidates):
            return _store(step, question, candidates[int(choice) - 1], pending["typed"])
        if question.free_text and choice == str(len(candidates) + 1):
            return _keep_as_typed(step, question, pending["typed"])
        if choice.isdigit():
            step.say("There is no option {number}.", number=int(choice))
            return _offer_candidates(step, pending["pick"], candidates, pending["typed"])
        if typed is not None:
            return _command(step, typed)
        return _answer(step, BY_ID[pending["pick"]], text)
    if _is_yes(text, step.t, step.state.language) or text.strip().rstrip(".)") == "1":
        if pending["confirm"] == Command.RESTART.value:
            kept = {k: v for k, v in step.state.answers.items() if v.get("source") == REGISTRATION}
            step.state.answers = kept
            step.state.editing = False
            step.route.send("restart")
            _skip_answered(step)
            step.say("Started again.")
            return _finish(step)
        step.route.send("cancel")
        step.say("Deleted. Nothing was sent.")
        return Turn(step.state, step.messages, done=True)
    step.say(NOTHING_DELETED)
    return _finish(step)


# -- a command word typed as a free-text answer -----------------------------------------------


def _meant(step: _Step, text: str, typed: Typed | None) -> Typed | None:
    """The command a free-text answer may mean, to ask about before storing it: a command word
    of another of the seven languages ("cofnij" in an English dialogue), and on a question that
    asks for a name, any command word not typed exactly as the dialogue shows it ("back" or
    "Back" may be a surname; "BACK" is BACK). LANGUAGE always acts at once."""
    question = BY_ID.get(step.state.current)
    if question is None or question.kind is not _TEXT:
        return None
    if typed is not None and (not question.proper_name or commands.as_shown(text, step.t)):
        return None
    meant = typed if typed is not None else commands.in_any_language(text, step.catalogues)
    return None if meant is None or meant.command is Command.LANGUAGE else meant


_TEXT = Kind.TEXT
"""(A member read from the enum class is slow in this Python: read once.)"""


def _ask_meant(step: _Step, meant: Typed, text: str) -> Turn:
    """"Did you mean BACK?": YES carries out the command, NO stores the text as the answer."""
    step.state.pending = {"meant": meant.command.value, "number": meant.number, "typed": text}
    step.say(DID_YOU_MEAN, command=commands.shown_word(meant, step.t))
    return Turn(step.state, step.messages, _yes_no_view(step, MEANT_QUESTION))


def _meant_reply(step: _Step, text: str, pending: dict[str, Any]) -> Turn:
    """YES (or 1): the command; NO (or 2): the text typed is the answer; anything else is a new
    message to the question."""
    choice = text.strip().rstrip(".)").strip()
    if choice == "1" or _is_yes(text, step.t, step.state.language):
        return _command(step, Typed(Command(pending["meant"]), pending["number"]))
    if choice == "2" or _is_no(text, step.t, step.state.language):
        return _answer(step, BY_ID[step.state.current], pending["typed"])
    return handle(step.state, text, step.t, step.today, step.catalogues)


MEANT_QUESTION = "did-you-mean"
"""The id of the yes/no sub-question "Did you mean BACK?" in the web chat API."""
DID_YOU_MEAN = N_("Did you mean {command}? Reply YES for {command}, or NO to keep what you typed as the answer.")


def _says(text: str, t: Translator, language: str, label: str, english: frozenset[str],
          table: dict[str, tuple[str, ...]]) -> bool:
    """``text`` is this word (``label``'s translation, its English forms or a form of ``table``
    in the conversation's language), whatever the case and accents."""
    return languages.key(text) in _word_forms(t, label, english, table.get(language, ()))


@lru_cache(maxsize=64)
def _word_forms(t: Translator, label: str, english: frozenset[str], local: tuple[str, ...]) -> frozenset[str]:
    """The reduced forms of a word, once per translator and language."""
    return english | {languages.key(t.gettext(label))} | {languages.key(w) for w in local}


def _is_no(text: str, t: Translator, language: str = "en") -> bool:
    """A NO, in English or the conversation's language (accents optional)."""
    return _says(text, t, language, "No", frozenset({"no", "n"}), languages.NO_WORDS)


def _is_yes(text: str, t: Translator, language: str = "en") -> bool:
    """A YES to a confirmation, in English or the conversation's language (accents optional)."""
    return _says(text, t, language, "Yes", frozenset({"yes", "y"}), languages.YES_WORDS)


# -- languages and the consent explanation ---------------------------------------------------


def _language(step: _Step, number: int | None) -> Turn:
    """LANGUAGE n switches at once; LANGUAGE alone shows the numbered list."""
    code = languages.by_number(number)
    if code is not None:
        return _switch(step, code)
    step.state.pending = {"language": "switch"}
    step.messages.append(languages.menu(step.t))
    return Turn(step.state, step.messages, _language_view(step))


def _language_reply(step: _Step, text: str, typed: Typed | None) -> Turn:
    """A reply to the language list: a number or a language's name picks it; at first contact
    anything else gets the list again; later, a command leaves the list and is carried out."""
    first_contact = (step.state.pending or {}).get("language") == "start"
    code = languages.pick(text)
    if code is None and typed is not None and typed.command is Command.LANGUAGE:
        code = languages.by_number(typed.number)
    if code is not None:
        step.state.pending = None
        if first_contact:
            _use(step, code)
            return _welcome(step)
        return _switch(step, code)
    if typed is not None and typed.command is not Command.LANGUAGE and not first_contact:
        step.state.pending = None
        return _command(step, typed)
    step.say(
        "Please reply with the number of your answer, 1 to {count}", count=len(languages.LANGUAGES)
    )
    step.messages.append(languages.menu(step.t))
    return Turn(step.state, step.messages, _language_view(step))


def _use(step: _Step, code: str) -> None:
    """From now on the dialogue speaks ``code``, and later answers are stored as typed in it."""
    step.t = step.translator(code)
    step.state.language = code


def _switch(step: _Step, code: str) -> Turn:
    """Change language mid-way: every answer is kept and the current question asked again."""
    step.state.pending = None
    _use(step, code)
    step.say(languages.CHANGED)
    return _finish(step)


def _explain(step: _Step, number: int | None) -> Turn:
    """EXPLAIN: the explanation for the person's route (adult or child) and the privacy summary,
    to read to them, in the dialogue's language or, with a number from the EXPLAIN list (the
    dialogue's languages and ``languages.EXPLAIN_ONLY``), in that language."""
    code = step.state.language if number is None else languages.explain_by_number(number)
    if code is None:
        step.say(
            "There is no option {number}. Choose from 1 to {count}",
            number=number,
            count=len(languages.EXPLAIN_LANGUAGES),
        )
        step.messages.append(languages.explain_menu_lines())
        return _finish(step)
    explanation = consent.for_age(step.state.values().get("pv-under-age"))
    if explanation is None:
        step.say(consent.AGE_FIRST)
        return _finish(step)
    step.messages.extend(consent.show(step.state, explanation, code, step.translator(code), step.t))
    step.explained = True
    return _finish(step)


def _language_view(step: _Step) -> render.QuestionView:
    """The language list as the web chat API describes a question (kind choice, id language)."""
    choices = [{"value": lang.code, "label": lang.name} for lang in languages.LANGUAGES]
    return render.other_view(languages.LANGUAGE_QUESTION, "choice", choices, _where(step), step.t)


# -- where the conversation stands ----------------------------------------------------------


def summary_items(state: DialogueState) -> list[tuple[Question, Any]]:
    """The answers on the route, in the form's order: what REVIEW lists and EDIT n numbers
    (``flows.check_answers`` groups them for the web chat)."""
    return list(standings.of(state).items())


def _progress(step: _Step, question: Question) -> render.Progress:
    """Where ``question`` stands in its part of the form (``Standing.progress``)."""
    return step.standing().progress(question)


def _where(step: _Step) -> render.Progress:
    """Progress at the current question, or at the end of the last part on the summary."""
    question = BY_ID.get(step.state.current)
    if question is None:
        question = BY_ID[step.standing().on_route.order[-1]]
    return _progress(step, question)


def _summary_view(step: _Step) -> render.QuestionView:
    """The summary as the web chat API describes it: kind ``confirm``, one choice, CONFIRM."""
    choices = [{"value": SUMMARY_QUESTION, "label": step.t.gettext(CONFIRM_LABEL)}]
    return render.other_view(SUMMARY_QUESTION, "confirm", choices, _where(step), step.t)


def _finish(step: _Step, ask: bool = True) -> Turn:
    """Close the turn with the current question (or the summary once everything is answered),
    after checking the rules between answers (:func:`_recheck`)."""
    _recheck(step)
    state = step.state
    question = BY_ID.get(state.current)
    if question is not None:
        asked = render.asked(question, _progress(step, question), step.t)
        if ask:
            if question.id == consent.CONSENT_QUESTION and not step.explained:
                step.messages.append(tr(step.t, languages.EXPLAIN_OFFER) + "\n" + languages.explain_menu_lines())
            record = state.answers.get(question.id)
            step.messages.append(asked.prompt(None if record is None else record["value"]))
        return Turn(state, step.messages, asked.view())
    if state.current == REVIEW:
        if ask:
            step.messages.append(step.standing().summary(step.t))
            step.say("Reply CONFIRM to send the referral, or EDIT and a number to change an answer.")
        return Turn(state, step.messages, _summary_view(step))
    return Turn(state, step.messages, None, done=state.current in (SUBMITTED, CANCELLED))
