"""What a registered sender's registration already answers, so the dialogue does not ask it."""

from __future__ import annotations

from typing import Any, Protocol


class Registration(Protocol):
    """What a registration holds (a ``backend.models.Responder``, or ``bot.sms.Sender`` read from one)."""

    phone_e164: str
    organisation: str
    name: str | None
    email: str | None


def prefill(responder: Registration) -> dict[str, Any]:
    """Form answers known from a responder's registration (NRM-FORM: "ask only what it lacks")."""
    known: dict[str, Any] = {
        "user-organisation": responder.organisation,
        "fr-details-phone": responder.phone_e164,
    }
    if responder.email:
        known["user-email"] = responder.email
    if responder.name:
        first, _, last = responder.name.partition(" ")
        known["fr-details-first-name"] = first
        if last:
            known["fr-details-last-name"] = last
    return known
