"""What the outbound messages say, in the recipient's language (msgids are the English text).

Bodies to responders, local authorities and the support provider carry the reference, the
outcome and where to sign in: never the person's name, date of birth, address or any answer
(``tests/backend/test_outbound_safety.py`` checks every body sent for the payload's values).
Only the message to the person themselves is addressed to them by name.
"""

from __future__ import annotations

import re
from typing import Any

from backend.i18n import N_, PAGE_LANGUAGES, SOURCE_LANGUAGE, translator

DECISION = {
    ("rg", "positive"): N_("NRM referral {reference}: the Reasonable Grounds decision is positive. "
                           "Sign in at {url} to read the letter."),
    ("rg", "negative"): N_("NRM referral {reference}: the Reasonable Grounds decision is negative and "
                           "goes to an independent panel for review. Sign in at {url} to read the letter."),
    ("cg", "positive"): N_("NRM referral {reference}: the Conclusive Grounds decision is positive. "
                           "Sign in at {url} to read the letter."),
    ("cg", "negative"): N_("NRM referral {reference}: the Conclusive Grounds decision is negative and "
                           "goes to an independent panel for review. Sign in at {url} to read the letter."),
}
PANEL = {
    "upheld": N_("NRM referral {reference}: the panel upheld the negative decision. "
                 "Sign in at {url} to read the letter."),
    "returned": N_("NRM referral {reference}: the panel returned the decision to be made again."),
}
RECONSIDERATION = N_("NRM referral {reference}: reconsideration was accepted. The case is back with "
                     "the decision makers.")
INFORMATION_REQUEST = N_("NRM referral {reference}: the decision makers ask: {question} "
                         "Reply INFO {reference} and your answer, or sign in at {url}.")
CHILD_HANDOFF = N_("A child was referred to the National Referral Mechanism, reference {reference}, "
                   "and your local authority was named as contacted about them. Sign in at {url} "
                   "or call the decision unit quoting the reference.")
SUPPORT_HANDOFF = N_("A person referred to the National Referral Mechanism, reference {reference}, "
                     "wants support. Sign in at {url} to read how to contact them safely.")
PERSON_DECISION = {
    ("rg", "positive"): N_("Dear {name}, the decision on your referral {reference} is that there are "
                           "reasonable grounds to believe you are a victim of modern slavery. You can "
                           "get support while your case is decided."),
    ("rg", "negative"): N_("Dear {name}, the first decision on your referral {reference} is negative. "
                           "An independent panel will review it, and we will write to you again."),
    ("cg", "positive"): N_("Dear {name}, the final decision on your referral {reference} is that you "
                           "are a victim of modern slavery."),
    ("cg", "negative"): N_("Dear {name}, the final decision on your referral {reference} is negative. "
                           "An independent panel will review it, and we will write to you again."),
    ("panel", "upheld"): N_("Dear {name}, an independent panel reviewed the decision on your referral "
                            "{reference} and upheld it. You can ask for it to be reconsidered through "
                            "the organisation that referred you."),
}
SUBJECT = N_("NRM referral {reference}")
SUBJECT_HANDOFF = N_("National Referral Mechanism: referral {reference}")

_LANGUAGE_NAMES = {
    "cy": ("welsh", "cymraeg"), "sq": ("albanian", "shqip"), "vi": ("vietnamese", "tieng viet", "tiếng việt"),
    "ro": ("romanian", "romana", "română", "moldovan"), "pl": ("polish", "polski"), "ar": ("arabic", "العربية"),
}


def render(msgid: str, language: str, **params: Any) -> str:
    """``msgid`` in ``language`` (English when the language has no catalogue), filled in."""
    code = language if language in PAGE_LANGUAGES else SOURCE_LANGUAGE
    return translator(code).gettext(msgid).format(**params)


def person_language(answers: dict[str, Any]) -> str:
    """The person's language when the referral names one we write in (the interpreter's
    language), else English."""
    named = str(answers.get("pv-interpreter-requirements-language") or "").casefold()
    words = set(re.findall(r"\w+", named))
    for code, names in _LANGUAGE_NAMES.items():
        if any(name in named if " " in name else name in words for name in names):
            return code
    return SOURCE_LANGUAGE
