"""The tags at the top of a case page: what a caseworker must see before reading anything else."""

from __future__ import annotations

from typing import NamedTuple

from backend.i18n import N_
from backend.i18n import gettext as _
from backend.models import Case

CHILD_AGE_ROUTES = ("child", "unknown")
"""A person whose age is not known is treated as a child (DESIGN §3)."""


class Tag(NamedTuple):
    text: str
    classes: str
    id: str


def case_tags(case: Case, *, overdue: bool, returned: bool, awaiting_information: bool = False) -> list[Tag]:
    """Child (or age not known), Urgent (an adult still in the exploitative situation), Overdue,
    Returned (the panel sent the last decision back), Awaiting information (its clock paused until
    the referrer answers), in that order, translated."""
    tags = []
    if case.age_route in CHILD_AGE_ROUTES:
        tags.append(Tag(_(N_("Child")), "govuk-tag--orange", "tag-child"))
    elif case.priority:
        tags.append(Tag(_(N_("Urgent")), "govuk-tag--purple", "tag-urgent"))
    if overdue:
        tags.append(Tag(_(N_("Overdue")), "govuk-tag--red", "tag-overdue"))
    if returned:
        tags.append(Tag(_(N_("Returned")), "govuk-tag--yellow", "returned-tag"))
    if awaiting_information:
        tags.append(Tag(_(N_("Awaiting information")), "govuk-tag--blue", "tag-awaiting-information"))
    return tags
