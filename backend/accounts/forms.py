"""The admin area's forms: GOV.UK sentences as errors, each shown next to its field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from backend.i18n import N_, lazy_gettext
from backend.models import ROLES

ROLE_NAMES = {"responder": N_("First responder (API only)"), "operator": N_("Helpline operator"),
              "caseworker": N_("Caseworker"), "panel": N_("Panel member"), "analyst": N_("Analyst"),
              "admin": N_("Administrator")}
"""Each role as the admin pages name it (English msgids, translated when shown)."""
SELECT_ROLE = lazy_gettext("Select a role")


class UserForm(FlaskForm):
    email = StringField(validators=[InputRequired(lazy_gettext("Enter an email address")),
                                    Length(max=320, message=lazy_gettext("Email address must be 320 characters or fewer"))])
    role = SelectField(choices=list(ROLES), validate_choice=False,
                       validators=[InputRequired(SELECT_ROLE), AnyOf(ROLES, message=SELECT_ROLE)])
    organisation = StringField(validators=[Length(max=255, message=lazy_gettext(
        "Organisation must be 255 characters or fewer"))])


class RoleForm(FlaskForm):
    role = SelectField(choices=list(ROLES), validate_choice=False,
                       validators=[InputRequired(SELECT_ROLE), AnyOf(ROLES, message=SELECT_ROLE)])


class ResponderForm(FlaskForm):
    phone = StringField(validators=[InputRequired(lazy_gettext("Enter a phone number")),
                                    Length(max=40, message=lazy_gettext("Enter a phone number, like 07700 900 982"))])
    organisation = StringField(validators=[InputRequired(lazy_gettext("Enter the organisation")),
                                           Length(max=255, message=lazy_gettext(
                                               "Organisation must be 255 characters or fewer"))])
    name = StringField(validators=[Length(max=255, message=lazy_gettext("Name must be 255 characters or fewer"))])
