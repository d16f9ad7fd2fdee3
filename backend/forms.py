"""Flask-WTF forms of the casework pages (``backend.casework_pages``).

Every form carries the CSRF token (``FlaskForm``), and ``CSRFProtect`` refuses any POST without
one before a view runs (the plain buttons, claim, release and claim next, carry only the token).
Field errors are GOV.UK sentences ("Enter ...", "Select ..."), shown in the error summary and next
to the field; :func:`error_list` turns a form's errors into the summary's list, each linking to
its field (``#outcome`` is the first radio, ``#reasons`` the textarea).
"""

from __future__ import annotations

from flask import current_app, has_app_context
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, StopValidation

from backend.i18n import N_, lazy_gettext
from backend.lifecycle import MAX_REASONS

DECISION_OUTCOMES = ("positive", "negative")
REVIEW_OUTCOMES = ("upheld", "returned")
STAGES = ("rg", "cg")

OUTCOME_LABELS = {
    "rg": {
        "positive": N_("Positive: there are reasonable grounds to believe the person is a victim of modern slavery"),
        "negative": N_("Negative: there are no reasonable grounds to believe the person is a victim of modern slavery"),
    },
    "cg": {
        "positive": N_("Positive: on the balance of probabilities, the person is a victim of modern slavery"),
        "negative": N_("Negative: on the balance of probabilities, the person is not a victim of modern slavery"),
    },
}
"""English msgids (``N_``): the pages show them translated."""
REVIEW_LABELS = {
    "upheld": N_("Uphold the negative decision"),
    "returned": N_("Return it for reconsideration"),
}


class _Required:
    """Like ``InputRequired`` but also refuses text that is only spaces (and stops the chain)."""

    def __init__(self, message: object) -> None:
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form: FlaskForm, field: object) -> None:
        data = getattr(field, "data", None)
        if data is None or (isinstance(data, str) and not data.strip()):
            raise StopValidation(str(self.message))


OUT_OF_DATE = lazy_gettext("The page was out of date: open the case again")
SELECT_DECISION = lazy_gettext("Select whether the decision is positive or negative")
SELECT_REVIEW = lazy_gettext("Select whether to uphold the decision or return it")
"""Validator messages: translated when shown (``str()``), in the language of that request."""


REASONS_TOO_SHORT = N_("Reasons must be at least {min} characters: say what the decision is based on")
"""The pages' and the API's answer to reasons under ``DECISION_REASONS_MIN_CHARS``."""


def reasons_min_chars() -> int:
    """``DECISION_REASONS_MIN_CHARS`` of the current app (default 50; 0 accepts any length)."""
    return int(current_app.config.get("DECISION_REASONS_MIN_CHARS", 50)) if has_app_context() else 50


def _long_enough(form: FlaskForm, field: object) -> None:
    """Reasons a person can act on: at least ``DECISION_REASONS_MIN_CHARS`` characters, not
    counting spaces at either end (the count the page's character count shows)."""
    shortest = reasons_min_chars()
    if len((getattr(field, "data", None) or "").strip()) < shortest:
        raise StopValidation(str(lazy_gettext(REASONS_TOO_SHORT, min=shortest)))


def _reasons(message: object) -> TextAreaField:
    """Reasons of a decision or a review: required, at least ``DECISION_REASONS_MIN_CHARS`` (the
    API asks the same of both), at most ``MAX_REASONS``."""
    return TextAreaField(lazy_gettext("Reasons"), validators=[
        _Required(message), _long_enough,
        Length(max=MAX_REASONS, message=lazy_gettext("Reasons must be {max} characters or fewer",
                                                     max=f"{MAX_REASONS:,}"))])


class DecisionForm(FlaskForm):
    """An RG or CG decision. ``stage`` is the stage the page offered: a case that moved on since
    is refused by the lifecycle rather than decided at another stage. A negative decision is
    recorded only with ``confirmed`` (the confirm page's button): the first POST shows that page."""

    stage = HiddenField(validators=[InputRequired(OUT_OF_DATE), AnyOf(STAGES, message=OUT_OF_DATE)])
    outcome = RadioField(lazy_gettext("Decision"), choices=list(DECISION_OUTCOMES), validate_choice=False,
                         validators=[InputRequired(SELECT_DECISION), AnyOf(DECISION_OUTCOMES, message=SELECT_DECISION)])
    reasons = _reasons(lazy_gettext("Enter the reasons for the decision"))
    confirmed = HiddenField()


class ReviewForm(FlaskForm):
    """The panel's review of a negative decision."""

    outcome = RadioField(lazy_gettext("Review"), choices=list(REVIEW_OUTCOMES), validate_choice=False,
                         validators=[InputRequired(SELECT_REVIEW), AnyOf(REVIEW_OUTCOMES, message=SELECT_REVIEW)])
    reasons = _reasons(lazy_gettext("Enter the reasons for the review"))


def error_list(form: FlaskForm) -> list[dict[str, str]]:
    """The GOV.UK error summary's ``errorList``: the first error of each field, in field order."""
    errors = []
    for field in form:
        if field.errors and field.name != "csrf_token":
            errors.append({"text": str(field.errors[0]), "href": f"#{field.id}"})
    return errors


def field_errors(form: FlaskForm) -> dict[str, str]:
    """Field id -> its first error, for the ``errorMessage`` of each component."""
    return by_field(error_list(form))


def by_field(errors: list[dict[str, str]]) -> dict[str, str]:
    """An error summary's list (``{"text", "href": "#field"}``) as field id -> its error."""
    return {error["href"][1:]: error["text"] for error in errors}
