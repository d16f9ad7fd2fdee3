"""What a registered sender's registration already answers, so the dialogue does not ask it."""

from __future__ import annotations

from typing import Any

from backend.models import Responder


def prefill(responder: Responder) -> dict[str, Any]:
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
