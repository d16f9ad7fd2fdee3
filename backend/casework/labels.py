"""The referral's questions labelled for the decision maker.

The published schema (``flows.schema``) titles each answer as the referrer saw it ("Your email",
section "About you"); a caseworker reading the case needs "Referrer's email". Every title or section
written to the referrer is mapped here (tests/backend/test_casework_labels.py fails when a new one is
not); the others read the same for both. All are English msgids, translated when shown.
"""

from __future__ import annotations

from backend.i18n import N_

FIELD_LABELS: dict[str, str] = {
    "user-organisation": N_("Referring organisation"),
    "user-email": N_("Referrer's email"),
    "fr-location": N_("Where the referrer is"),
    "professional-insight": N_("Referrer's professional view"),
    "fr-details-first-name": N_("Referrer's first name"),
    "fr-details-last-name": N_("Referrer's last name"),
    "fr-details-role": N_("Referrer's role"),
    "fr-details-phone": N_("Referrer's phone"),
    "fr-alternative-contact": N_("Referrer's other contact email"),
    "what-evidence-you-will-submit": N_("Evidence the referrer will send"),
}
"""Field id -> the decision maker's label, where the schema's title speaks to the referrer."""

SECTION_LABELS: dict[str, str] = {
    "About you": N_("About the referrer"),
    "Your details": N_("The referrer's details"),
}
"""The schema's section -> the decision maker's heading, where it speaks to the referrer."""

LTR_FIELDS = frozenset({"user-email", "fr-details-phone", "fr-alternative-contact", "pv-phone-number-yes",
                        "pv-phone-number-alternative", "local-authority-contacted-about-child-local-authority-phone",
                        "local-authority-contacted-about-child-local-authority-email", "someone-else-email-input",
                        "pv-contact-details-email-input", "reported-to-police-crime-reference",
                        "pv-ho-reference-type", "someone-else-postcode", "pv-contact-details-postcode"})
"""Answers that read left to right in any page language (phones, emails, references, postcodes):
isolated with ``dir="ltr"`` on Arabic pages."""


def field_label(field_id: str, title: str) -> str:
    """The English msgid of a field's label on the case page."""
    return FIELD_LABELS.get(field_id, title)


def section_label(section: str) -> str:
    """The English msgid of a section's heading on the case page."""
    return SECTION_LABELS.get(section, section)
