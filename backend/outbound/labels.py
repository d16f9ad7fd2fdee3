"""What the outbox's codes mean to a person: translated labels for the kind, audience, channel and
status of a message, and for the reasons it was held back, refused or failed.

The outbox stores codes and plain English reasons (stable for logs, the API and the audit trail);
the case page and the print queue show these labels instead, in the page's language. A reason that
carries a provider's detail (an HTTP status, an error code, a time) keeps that detail as a
placeholder. A reason not known here is shown as stored rather than hidden.
"""

from __future__ import annotations

import re

from backend.i18n import N_
from backend.i18n import gettext as _

KINDS = {
    "rg_decision": N_("Reasonable grounds decision"),
    "cg_decision": N_("Conclusive grounds decision"),
    "panel_outcome": N_("Panel review outcome"),
    "reconsideration": N_("Reconsideration accepted"),
    "information_request": N_("Request for information"),
    "person_decision": N_("Decision letter to the person"),
    "local_authority_handoff": N_("Notice to the child's local authority"),
    "support_provider_handoff": N_("Referral to the support provider"),
}
AUDIENCES = {
    "responder": N_("The referrer"),
    "person": N_("The person referred"),
    "local_authority": N_("The local authority"),
    "support_provider": N_("The support provider"),
}
CHANNELS = {"sms": N_("SMS"), "email": N_("Email"), "post": N_("Letter")}
STATUSES = {
    "pending": N_("Waiting to be sent"),
    "sending": N_("Being sent"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
    "suppressed": N_("Not sent"),
}
LETTER_PENDING = N_("Waiting to be printed and posted")
"""A letter's ``pending``: it waits in the print queue, not for a worker."""

NO_SMS_PROVIDER = "provider not configured (Twilio)"
NO_EMAIL_PROVIDER = "provider not configured (GOV.UK Notify)"
NOT_REGISTERED = "number no longer registered"
OPTED_OUT = "number opted out (STOP)"
QUICK_EXIT = "quick exit: nothing is sent to this number until it texts again"
WORKER_STOPPED = "worker stopped while sending: outcome unknown, not sent again"
REASONS = {
    NO_SMS_PROVIDER: N_("Not sent: no SMS provider is configured"),
    NO_EMAIL_PROVIDER: N_("Not sent: no email provider is configured"),
    NOT_REGISTERED: N_("Not sent: the number is no longer registered"),
    OPTED_OUT: N_("Not sent: the number opted out by texting STOP"),
    QUICK_EXIT: N_("Not sent: the number used the quick exit word, so nothing goes to it until it texts again"),
    WORKER_STOPPED: N_("Failed: sending stopped part way and the outcome is unknown, so it is not sent again"),
}
PATTERNS = (
    (re.compile(r"quiet hours: deferred until (?P<time>\d{2}:\d{2}) UK time"),
     N_("Held for the quiet hours: it goes at {time} UK time")),
    (re.compile(r"Twilio refused: (?P<detail>.+)"), N_("The SMS service refused it ({detail})")),
    (re.compile(r"Twilio unreachable (?P<detail>.+)"), N_("The SMS service could not be reached {detail}")),
    (re.compile(r"Twilio: (?:failed|undelivered) \(error (?P<detail>\d+)\)"),
     N_("The phone network did not deliver it (error {detail})")),
    (re.compile(r"Twilio: (?:failed|undelivered)"), N_("The phone network did not deliver it")),
    (re.compile(r"Notify refused: (?P<detail>.+)"), N_("The email service refused it ({detail})")),
    (re.compile(r"Notify unreachable (?P<detail>.+)"), N_("The email service could not be reached {detail}")),
    (re.compile(r"Notify API key unusable (?P<detail>.+)"), N_("The email service's key is not usable {detail}")),
    (re.compile(r"no Notify template for (?P<detail>.+)"), N_("No email template is configured for {detail}")),
)
RETRY = re.compile(r"(?P<reason>.+); try (?P<attempt>\d+) later")


def kind_label(kind: str) -> str:
    return _(KINDS[kind]) if kind in KINDS else kind


def recipient_label(audience: str, channel: str) -> str:
    """Who and how, e.g. "The referrer (SMS)"."""
    who = _(AUDIENCES[audience]) if audience in AUDIENCES else audience
    how = _(CHANNELS[channel]) if channel in CHANNELS else channel
    return _("{who} ({how})", who=who, how=how)


def status_label(status: str, channel: str) -> str:
    if status == "pending" and channel == "post":
        return _(LETTER_PENDING)
    return _(STATUSES[status]) if status in STATUSES else status


def reason_label(reason: str | None) -> str:
    """The stored reason in the reader's language ("" for none)."""
    if not reason:
        return ""
    retry = RETRY.fullmatch(reason)
    if retry:
        return _("{reason}. It will be tried again (attempt {attempt}).",
                 reason=reason_label(retry["reason"]), attempt=retry["attempt"])
    if reason in REASONS:
        return _(REASONS[reason])
    for pattern, label in PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            return _(label, **match.groupdict())
    return reason
