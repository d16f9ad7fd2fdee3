"""The vocabulary in which the referral is declared: questions, choices and route conditions.

Everything here is data. The catalogue (``flows.referral_questions``) lists every question of the
NRM form with one of these objects; the route chart, the prompts, the payload and its JSON Schema
are all derived from that one list, so a question is added or changed in exactly one place.

User-facing strings are stored as English msgids marked with ``N_`` so that Babel extracts them;
they are translated when rendered, with the translator of the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Mapping


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (it is translated when shown)."""
    return message


class Kind(StrEnum):
    """What sort of answer a question takes (DESIGN.md §3 lists these for the web chat API)."""

    CHOICE = "choice"
    MULTI = "multi"
    YES_NO = "yes_no"
    LOOKUP = "lookup"
    TEXT = "text"
    DATE = "date"
    PHONE = "phone"
    EMAIL = "email"
    POSTCODE = "postcode"
    NUMBER = "number"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class Choice:
    """One option of a choice or multi question: the stored value and the label shown."""

    value: str
    label: str
    words: tuple[str, ...] = ()
    """Extra English words that also pick this option (e.g. "dont know" for i-dont-know)."""


YES_NO_CHOICES = (Choice("yes", N_("Yes"), ("y",)), Choice("no", N_("No"), ("n",)))


Answers = Mapping[str, Any]
"""Field id -> validated value (the value part of each stored answer)."""


class Condition:
    """A predicate on the answers so far, deciding whether a question is on the route.

    Conditions are small objects rather than lambdas so they combine with ``&``, ``|`` and ``~``
    and can describe themselves (the route diagram and the docs print them).
    """

    def __call__(self, answers: Answers) -> bool:
        raise NotImplementedError

    def __and__(self, other: Condition) -> Condition:
        return _All((self, other))

    def __or__(self, other: Condition) -> Condition:
        return _Any((self, other))

    def __invert__(self) -> Condition:
        return _Not(self)

    def schema(self) -> dict[str, Any]:
        """The same predicate as a JSON Schema over the answers object (for the payload schema)."""
        raise NotImplementedError

    def decided(self, answers: Answers) -> bool | None:
        """True or False once the answers it reads settle it, None while an unanswered question
        could still swing it (Kleene logic): a question whose condition is None may yet be asked."""
        raise NotImplementedError

    def atoms(self) -> frozenset[Condition]:
        """The one-field tests it is made of (``Answer(...).is_(...)`` and the like): its result
        follows from theirs and from which of their fields are answered."""
        raise NotImplementedError


class _Combination(Condition):
    parts: tuple[Condition, ...]

    def atoms(self) -> frozenset[Condition]:
        return frozenset().union(*(part.atoms() for part in self.parts))


class _Atom(Condition):
    """A test of one field's answer."""

    field_id: str

    def atoms(self) -> frozenset[Condition]:
        return frozenset({self})


@dataclass(frozen=True)
class _All(_Combination):
    parts: tuple[Condition, ...]

    def __call__(self, answers: Answers) -> bool:
        return all(part(answers) for part in self.parts)

    def __str__(self) -> str:
        return " and ".join(f"({part})" for part in self.parts)

    def schema(self) -> dict[str, Any]:
        return {"allOf": [part.schema() for part in self.parts]}

    def decided(self, answers: Answers) -> bool | None:
        results = [part.decided(answers) for part in self.parts]
        return False if False in results else None if None in results else True


@dataclass(frozen=True)
class _Any(_Combination):
    parts: tuple[Condition, ...]

    def __call__(self, answers: Answers) -> bool:
        return any(part(answers) for part in self.parts)

    def __str__(self) -> str:
        return " or ".join(f"({part})" for part in self.parts)

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [part.schema() for part in self.parts]}

    def decided(self, answers: Answers) -> bool | None:
        results = [part.decided(answers) for part in self.parts]
        return True if True in results else None if None in results else False


@dataclass(frozen=True)
class _Not(Condition):
    part: Condition

    def __call__(self, answers: Answers) -> bool:
        return not self.part(answers)

    def __str__(self) -> str:
        return f"not ({self.part})"

    def schema(self) -> dict[str, Any]:
        return {"not": self.part.schema()}

    def decided(self, answers: Answers) -> bool | None:
        result = self.part.decided(answers)
        return None if result is None else not result

    def atoms(self) -> frozenset[Condition]:
        return self.part.atoms()


@dataclass(frozen=True)
class Answer:
    """Refers to the answer of one field, to build conditions: ``Answer("pv-under-age").is_("no")``."""

    field_id: str

    def is_(self, *values: str) -> Condition:
        """True when the answer is one of ``values`` (for single choice and yes/no questions)."""
        return _Is(self.field_id, frozenset(values))

    def includes(self, value: str) -> Condition:
        """True when a multi-choice answer includes ``value``."""
        return _Includes(self.field_id, value)

    def given(self) -> Condition:
        """True when the field has a value (an optional question that was not skipped)."""
        return Given(self.field_id)


@dataclass(frozen=True)
class _Is(_Atom):
    field_id: str
    values: frozenset[str]

    def __call__(self, answers: Answers) -> bool:
        return answers.get(self.field_id) in self.values

    def __str__(self) -> str:
        return f"{self.field_id} in {sorted(self.values)}"

    def decided(self, answers: Answers) -> bool | None:
        return self(answers) if self.field_id in answers else None

    def schema(self) -> dict[str, Any]:
        return {"required": [self.field_id], "properties": {self.field_id: {"enum": sorted(self.values)}}}


@dataclass(frozen=True)
class _Includes(_Atom):
    field_id: str
    value: str

    def __call__(self, answers: Answers) -> bool:
        return self.value in (answers.get(self.field_id) or ())

    def __str__(self) -> str:
        return f"{self.value} ticked in {self.field_id}"

    def decided(self, answers: Answers) -> bool | None:
        return self(answers) if self.field_id in answers else None

    def schema(self) -> dict[str, Any]:
        return {
            "required": [self.field_id],
            "properties": {self.field_id: {"contains": {"const": self.value}}},
        }


@dataclass(frozen=True)
class Given(_Atom):
    """Reads only whether the field was given, never what was given."""

    field_id: str

    def __call__(self, answers: Answers) -> bool:
        return answers.get(self.field_id) not in (None, "", [])

    def __str__(self) -> str:
        return f"{self.field_id} given"

    def decided(self, answers: Answers) -> bool | None:
        return self(answers) if self.field_id in answers else None

    def schema(self) -> dict[str, Any]:
        return {"required": [self.field_id]}


@dataclass(frozen=True)
class ParseContext:
    """What a validator may depend on besides the text: today's date and the dialogue language."""

    today: Any  # datetime.date; typed loosely to keep this module free of clock imports
    language: str = "en"
    t: Any = None
    """The dialogue's translator (flows.i18n.Translator), so choice labels are also read in the
    dialogue language; None reads English only."""


class Invalid(ValueError):
    """A typed answer that cannot be accepted; ``message`` is an English msgid with ``{named}``
    placeholders filled from ``params`` after translation."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class Ambiguous(ValueError):
    """A list lookup that matched several entries: the user picks one from ``candidates``."""

    def __init__(self, candidates: list[str]) -> None:
        super().__init__(", ".join(candidates))
        self.candidates = candidates


Validator = Callable[["Question", str, ParseContext], Any]
"""Turns typed text into the stored value of a question, or raises Invalid / Ambiguous."""


@dataclass(frozen=True)
class Question:
    """One question of the dialogue, keyed by the NRM form's field id.

    ``when`` decides whether the question is on the route given the answers so far (``None`` means
    always). ``prefillable`` questions are skipped when the channel already knows the answer from
    the responder's registration (organisation, name, phone, email).
    """

    id: str
    kind: Kind
    prompt: str
    help: str
    section: str
    summary: str
    choices: tuple[Choice, ...] = ()
    optional: bool = False
    when: Condition | None = None
    lookup: str | None = None
    """Name of the reference list in flows/data (without .txt) for LOOKUP questions."""
    exclude: tuple[str, ...] = ()
    """Entries of the reference list that are not accepted here (United Kingdom for overseas)."""
    max_length: int = 15000
    no_urls: bool = False
    must_be_yes: bool = False
    """A yes/no that only "yes" can satisfy (a permission the form requires to be ticked)."""
    refusal: str = ""
    """msgid explaining why "no" cannot be accepted when ``must_be_yes``."""
    partial_date: bool = False
    """Dates may be given as a year or month and year, or marked as approximate."""
    prefillable: bool = False
    proper_name: bool = False
    """The answer is a name (of a person or a place), so one word is a plausible answer: a command
    word typed other than exactly as the dialogue shows it ("Back", "skip") is asked about."""
    free_text: bool = False
    """For LOOKUP questions: the list guides but does not bind, so an answer that is not in it is
    kept as typed when the user says so ("none of these"). NRM-FORM.md requires a list entry
    only for the organisation and the local authority."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def applies(self, answers: Answers) -> bool:
        """Is this question on the route, given these answers?"""
        return self.when is None or self.when(answers)

    def may_apply(self, answers: Answers) -> bool:
        """Could this question still be on the route, whatever the unanswered questions get?"""
        return self.when is None or self.when.decided(answers) is not False

    @property
    def has_choices(self) -> bool:
        return self.kind in (Kind.CHOICE, Kind.MULTI, Kind.YES_NO)

    def options(self) -> tuple[Choice, ...]:
        """The choices offered, with yes/no filled in for YES_NO questions."""
        return YES_NO_CHOICES if self.kind is Kind.YES_NO else self.choices
