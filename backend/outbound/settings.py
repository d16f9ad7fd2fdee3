"""The outbound settings: from the app's config (tests, overrides) or the environment.

Kept here rather than in ``backend.config`` so the outbound half configures itself; every name is
listed in the README ("Configuration"). Nothing is sent by a provider whose settings are missing:
the outbox records the message as suppressed, "provider not configured".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Mapping

from backend.config import ConfigError

DEFAULTS: dict[str, Any] = {
    "TWILIO_ACCOUNT_SID": None,
    "TWILIO_FROM_NUMBER": None,  # an E.164 number or a Messaging Service SID (MG...)
    "TWILIO_API_BASE_URL": None,  # only to point the client at a stub (tests)
    "NOTIFY_API_KEY": None,
    "NOTIFY_BASE_URL": None,  # only to point the client at a stub (tests)
    "NOTIFY_TEMPLATES": None,  # JSON: {"message": "<template id>", "person:pl": "<id>", ...}
    "SMS_QUIET_HOURS": "21:00-08:00",  # UK time; "" for none
    "OUTBOX_MAX_ATTEMPTS": 6,
    "OUTBOX_RETRY_SECONDS": 30,  # the first back-off; doubled after each transient failure
    "OUTBOX_SENDING_LEASE_SECONDS": 300,
    "INFO_REQUEST_WORKING_DAYS": 10,  # an unanswered request lapses and the clock runs again
    "SUPPORT_PROVIDER_EMAIL": None,
    "WORKER_POLL_SECONDS": 5,
}
KEYS = tuple(DEFAULTS)


@dataclass(frozen=True)
class OutboundSettings:
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from: str | None
    twilio_base_url: str | None
    notify_api_key: str | None
    notify_base_url: str | None
    notify_templates: dict[str, str]
    quiet_hours: tuple[time, time] | None
    max_attempts: int
    retry_seconds: int
    sending_lease_seconds: int
    info_request_working_days: int
    support_provider_email: str | None
    poll_seconds: int
    public_base_url: str | None = field(default=None)

    @property
    def sms_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def email_configured(self) -> bool:
        return bool(self.notify_api_key and self.notify_templates.get("message"))

    def sign_in_url(self) -> str:
        """Where a referrer signs in to read the letter (the casework sign-in page)."""
        return f"{self.public_base_url or ''}/casework/sign-in" if self.public_base_url else "/casework/sign-in"


def load(config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> OutboundSettings:
    """The settings of ``config`` (an app's), falling back to ``environ`` and the defaults."""
    env = os.environ if environ is None else environ

    def pick(key: str) -> Any:
        if config.get(key) is not None:
            return config[key]
        value = env.get(key)
        return value if value not in (None, "") else DEFAULTS[key]

    return OutboundSettings(
        twilio_account_sid=_text(pick("TWILIO_ACCOUNT_SID")),
        twilio_auth_token=_text(config.get("TWILIO_AUTH_TOKEN")),
        twilio_from=_text(pick("TWILIO_FROM_NUMBER")),
        twilio_base_url=_text(pick("TWILIO_API_BASE_URL")),
        notify_api_key=_text(pick("NOTIFY_API_KEY")),
        notify_base_url=_text(pick("NOTIFY_BASE_URL")),
        notify_templates=_templates(pick("NOTIFY_TEMPLATES")),
        quiet_hours=quiet_hours(pick("SMS_QUIET_HOURS")),
        max_attempts=_whole("OUTBOX_MAX_ATTEMPTS", pick("OUTBOX_MAX_ATTEMPTS")),
        retry_seconds=_whole("OUTBOX_RETRY_SECONDS", pick("OUTBOX_RETRY_SECONDS")),
        sending_lease_seconds=_whole("OUTBOX_SENDING_LEASE_SECONDS", pick("OUTBOX_SENDING_LEASE_SECONDS")),
        info_request_working_days=_whole("INFO_REQUEST_WORKING_DAYS", pick("INFO_REQUEST_WORKING_DAYS")),
        support_provider_email=_text(pick("SUPPORT_PROVIDER_EMAIL")),
        poll_seconds=_whole("WORKER_POLL_SECONDS", pick("WORKER_POLL_SECONDS")),
        public_base_url=_text(config.get("PUBLIC_BASE_URL")),
    )


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _whole(key: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a whole number, not {value!r}") from None
    if number < 1:
        raise ConfigError(f"{key} must be at least 1, not {number}")
    return number


def _templates(value: Any) -> dict[str, str]:
    """``NOTIFY_TEMPLATES``: template ids by key (``message``, ``person``, ``person:pl``...)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    try:
        parsed = json.loads(str(value))
    except ValueError:
        raise ConfigError('NOTIFY_TEMPLATES must be JSON such as {"message": "<template id>"}') from None
    if not isinstance(parsed, dict):
        raise ConfigError('NOTIFY_TEMPLATES must be a JSON object such as {"message": "<template id>"}')
    return {str(k): str(v) for k, v in parsed.items()}


def quiet_hours(value: Any) -> tuple[time, time] | None:
    """``SMS_QUIET_HOURS`` as (start, end) in UK time, e.g. "21:00-08:00"; None for none."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ConfigError(f"SMS_QUIET_HOURS must read like 21:00-08:00, not {text!r}") from None
    return start, end
