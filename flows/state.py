"""What a conversation remembers between two messages, as a JSON-able record.

The channels store this (encrypted) in the database after every message and load it for the next,
so a dialogue survives any restart; nothing else about a conversation lives in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, cast

REGISTRATION = "registration"
"""``source`` of an answer that came from the responder's registration rather than a question."""


@dataclass
class DialogueState:
    """The position in the route chart, the answers so far, and any question awaiting a reply.

    ``answers`` maps field id -> {"value", "typed", "lang", "source"}: the validated value, the text
    as typed, and the language it was typed in (value None means the question was skipped).
    ``pending`` holds a sub-question: a pick from close list matches, a YES to confirm RESTART or
    CANCEL, or the language menu (``{"language": "start" | "switch"}``). While set, it is the
    current question: resuming the draft asks it again (``dialogue.repeat``).
    """

    current: str = ""
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    language: str = "en"
    editing: bool = False
    pending: dict[str, Any] | None = None
    consent_question_version: str | None = None
    """The wording of the consent question when it was answered (``flows.consent``)."""
    consent_explanations: list[dict[str, str]] = field(default_factory=list)
    """Each explanation shown with EXPLAIN, as {"version", "language"}, in the order first shown."""
    channel: dict[str, Any] = field(default_factory=dict)
    """Kept for the channel and never read by the dialogue (e.g. SMS: a long answer sent in parts)."""

    revision = 0
    """Counts the changes made through :meth:`answer` and :meth:`forget` (not a field: never
    stored), so what is derived from the answers can be kept until they change."""
    derived = cast(Any, None)
    """What the dialogue derived from the answers at one revision (``flows.standing.Standing``):
    not a field, so never stored nor compared. Answers change through :meth:`answer` and
    :meth:`forget` or by assigning a new dict, never by editing a stored record in place."""
    answered = ""
    """The field :meth:`answer` changed to make this ``revision`` ("" after :meth:`forget`): what
    the next derivation needs to look at again (not a field either)."""

    def values(self) -> dict[str, Any]:
        """Field id -> value, the form in which route conditions read answers."""
        return {qid: record["value"] for qid, record in self.answers.items()}

    def answer(self, qid: str, value: Any, typed: str, source: str = "user") -> None:
        self.answers[qid] = {"value": value, "typed": typed, "lang": self.language, "source": source}
        self.revision += 1
        self.answered = qid

    def forget(self, qids: list[str]) -> None:
        """Drop these answers."""
        for qid in qids:
            del self.answers[qid]
        self.revision += 1
        self.answered = ""

    def to_dict(self) -> dict[str, Any]:
        """A copy to store, sharing nothing with the state (``dataclasses.asdict`` gives the same,
        but deep-copies every string: more than a whole dialogue step costs)."""
        return {f.name: _copied(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DialogueState:
        data = dict(data)
        version = data.pop("consent_text_version", None)  # drafts stored before explanations
        languages = data.pop("consent_text_languages", [])  # were versioned per route
        if version is not None and "consent_explanations" not in data:
            data["consent_explanations"] = [{"version": version, "language": code} for code in languages]
        return cls(**data)


def _copied(value: Any) -> Any:
    """JSON-like data copied: new dicts and lists, the same immutable leaves."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    return value
