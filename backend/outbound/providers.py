"""The delivery services: SMS through Twilio's REST API, email through GOV.UK Notify.

Both clients are imported on first use (start-up time) and take a base URL, so tests run them
against local stub servers speaking the providers' HTTP APIs. A send either returns the
provider's id of the message or raises :class:`Transient` (try again later: network errors, 429,
5xx) or :class:`Permanent` (never again: a refused number or address, a bad template). Error
texts kept from a provider are its codes only: a provider's message may quote the recipient.
"""

from __future__ import annotations

from typing import Any

from backend.outbound.settings import OutboundSettings


class SendError(Exception):
    """A send that did not go; ``reason`` is safe to store and show (no personal data)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason[:200]
        super().__init__(self.reason)


class Transient(SendError):
    """Worth trying again later."""


class Permanent(SendError):
    """Will never go: the message is marked failed."""


def _transient_status(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


def send_sms(settings: OutboundSettings, to: str, body: str, status_callback: str | None) -> str:
    """Send one SMS with Twilio's ``messages.create``; the message SID."""
    from twilio.base.exceptions import TwilioException, TwilioRestException
    from twilio.rest import Client

    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    if settings.twilio_base_url:
        client.api.base_url = settings.twilio_base_url.rstrip("/")
    sender: dict[str, Any] = ({"messaging_service_sid": settings.twilio_from}
                              if str(settings.twilio_from).startswith("MG") else {"from_": settings.twilio_from})
    try:
        message = client.messages.create(to=to, body=body, status_callback=status_callback, **sender)
    except TwilioRestException as error:
        reason = f"Twilio refused: HTTP {error.status}, code {error.code}"
        raise (Transient if _transient_status(error.status) else Permanent)(reason) from None
    except TwilioException as error:  # the client's own failures (connection, unreadable answer)
        raise Transient(f"Twilio unreachable ({type(error).__name__})") from None
    except OSError as error:
        raise Transient(f"Twilio unreachable ({type(error).__name__})") from None
    return str(message.sid)


def send_email(settings: OutboundSettings, to: str, template: str, personalisation: dict[str, str],
               reference: str) -> str:
    """Send one email with GOV.UK Notify (template by id; ``personalisation`` fills it); its id."""
    from notifications_python_client.errors import HTTPError, TokenError
    from notifications_python_client.notifications import NotificationsAPIClient
    from requests import RequestException

    template_id = settings.notify_templates.get(template) or settings.notify_templates.get("message")
    if not template_id:
        raise Permanent(f"no Notify template for {template!r}")
    kwargs = {"base_url": settings.notify_base_url.rstrip("/")} if settings.notify_base_url else {}
    try:
        client = NotificationsAPIClient(settings.notify_api_key, **kwargs)
        answer = client.send_email_notification(email_address=to, template_id=template_id,
                                                personalisation=personalisation, reference=reference)
    except HTTPError as error:
        status = getattr(error, "status_code", None)
        codes = ", ".join(str(item.get("error")) for item in (getattr(error, "message", None) or [])
                          if isinstance(item, dict))
        reason = f"Notify refused: HTTP {status}" + (f" ({codes})" if codes else "")
        raise (Transient if _transient_status(status if isinstance(status, int) and status > 0 else None)
               else Permanent)(reason) from None
    except (TokenError, ValueError, IndexError) as error:  # a malformed API key
        raise Permanent(f"Notify API key unusable ({type(error).__name__})") from None
    except RequestException as error:
        raise Transient(f"Notify unreachable ({type(error).__name__})") from None
    return str(answer.get("id") or "")
