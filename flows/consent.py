"""What the person is told before a referral is made, on each route, and the record of it.

``EXPLAIN`` gives the responder a text to read to the person. It must be true for every outcome
open on their route (NRM-FORM.md §1.3, §2.4):

- an adult chooses: yes makes an NRM referral (their details go to the Home Office, and to a
  support provider if they want support); no makes a Duty to Notify report, which carries the
  account, their gender and nationality but no name or contact details, unless they agreed to
  help the police: then their name and contact details are in it, so the police can contact them;
- a child (under 18, or age not sure) is referred without being asked, and the text says so.

Each text has a version. The payload records the version of the consent question the person
answered (adults only) and every explanation shown, with its language, so a case always says
exactly what the person was told. Change a version whenever its English wording changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.i18n import Translator, tr
from flows.languages import EXPLAIN_BY_CODE
from flows.question import N_
from flows.state import DialogueState

CONSENT_QUESTION = "pv-want-to-submit-nrm"
"""Adults only: children are referred without consent."""

QUESTION_VERSION = "consent-question-v2"
"""The wording of the consent question's prompt and help (``referral_questions``)."""
LEGACY_QUESTION_VERSION = "consent-question-v1"
"""Drafts answered before versions were recorded, when the help called every Duty to Notify
report anonymous."""
QUESTION_VERSIONS: tuple[str, ...] = (LEGACY_QUESTION_VERSION, QUESTION_VERSION)

LEGACY_EXPLANATION_VERSION = "2026-11"
"""The single explanation shown on every route before it was written per route (it called every
Duty to Notify report anonymous); kept only to describe drafts that showed it."""

PRIVACY_SUMMARY = N_(
    "Your information: it is used to decide your case if a referral is made, to arrange support "
    "and protection, and to help stop modern slavery. It is shared only with those who need it, "
    "such as support workers, the police or the council, and kept safely. You can ask to see it "
    "or to correct it. Ask us for the full Privacy Information Notice."
)

ADULT_IF_YES = N_(
    "About the NRM: the National Referral Mechanism is how the UK finds victims of modern slavery "
    "and gets them help. It is your choice. If you say yes, we send what happened to you and your "
    "details, such as your name and, if you give them, how to contact you, to the Home Office. It "
    "decides if you are a victim."
)
ADULT_SUPPORT = N_(
    "If you say yes and want support, such as a safe place to stay, money, health care or legal "
    "advice, a support provider also gets your details, so they can contact you."
)
ADULT_IF_NO = N_(
    "If you say no, there is no referral and no decision. We still tell the Home Office what "
    "happened, with your gender and nationality but not your name or contact details. But if you "
    "agreed to help the police, your name and contact details are included, so the police can "
    "contact you."
)
CHILD_WHY = N_(
    "About the NRM: the National Referral Mechanism is how the UK finds victims of modern slavery "
    "and gets them help. You are under 18, or we are not sure of your age, so you are referred "
    "without being asked to agree: for children, keeping them safe comes first."
)
CHILD_WHAT = N_(
    "We send what happened to you and your details, such as your name, to the Home Office. It "
    "decides if you are a victim. Children's services at your local council are also told, so "
    "they can keep you safe and support you."
)
UNREVIEWED = N_(
    "Warning: the explanation in {language} is a machine-assisted draft, not yet reviewed by a "
    "native speaker. Use a qualified interpreter if you can."
)
"""Shown to the responder, in the dialogue's language, before an explanation in a language no
native speaker has reviewed (``Language.reviewed``; translations/README.md)."""

AGE_FIRST = N_(
    "What the person is told depends on their age. Answer whether they are under 18 first, then "
    "reply EXPLAIN."
)


@dataclass(frozen=True)
class Explanation:
    """The messages read to the person on one route, under one version."""

    version: str
    texts: tuple[str, ...]


ADULT = Explanation("explanation-adult-v2", (ADULT_IF_YES, ADULT_SUPPORT, ADULT_IF_NO, PRIVACY_SUMMARY))
CHILD = Explanation("explanation-child-v2", (CHILD_WHY, CHILD_WHAT, PRIVACY_SUMMARY))

EXPLANATION_VERSIONS: tuple[str, ...] = (LEGACY_EXPLANATION_VERSION, ADULT.version, CHILD.version)
READ_ALOUD: frozenset[str] = frozenset(ADULT.texts + CHILD.texts)
"""Texts read out to the person: they may take more than the three SMS segments of a message."""


def for_age(under_18: Any) -> Explanation | None:
    """The explanation for the answer to "Is the person under 18?" (None before it is answered)."""
    if under_18 == "no":
        return ADULT
    if under_18 in ("yes", "not-sure"):
        return CHILD
    return None


def show(state: DialogueState, explanation: Explanation, language: str, t: Translator,
         responder: Translator) -> list[str]:
    """The explanation's messages in the language of ``t``, recorded as shown in ``language``,
    after a warning to the responder (in the language of ``responder``) when no native speaker
    has reviewed that language."""
    shown = {"version": explanation.version, "language": language}
    if shown not in state.consent_explanations:
        state.consent_explanations = [*state.consent_explanations, shown]
    texts = [tr(t, text) for text in explanation.texts]
    if not reviewed(language):
        named = EXPLAIN_BY_CODE[language]
        texts.insert(0, tr(responder, UNREVIEWED, language=f"{named.name} ({named.english})"))
    return texts


def reviewed(language: str) -> bool:
    """Has a native speaker reviewed the explanation in ``language``?"""
    found = EXPLAIN_BY_CODE.get(language)
    return bool(found and found.reviewed)


def record_answer(state: DialogueState, question_id: str) -> None:
    """Note which wording of the consent question was answered (when it is the one answered)."""
    if question_id == CONSENT_QUESTION:
        state.consent_question_version = QUESTION_VERSION


def asked_version(state: DialogueState, answers: dict[str, Any]) -> str | None:
    """The consent question's version for the payload: None when it is not among the answers
    sent (a child's referral, where it is never asked)."""
    if CONSENT_QUESTION not in answers:
        return None
    return state.consent_question_version or LEGACY_QUESTION_VERSION
