"""Request hooks for every edge of the app: unclean input is refused, failures are logged without values.

``init_request_guards(app)`` (called by ``backend.app.init_backend``) installs:

- a JSON provider whose ``loads`` refuses bodies nested deeper than
  ``text_hygiene.MAX_JSON_DEPTH`` (a ValueError, so ``get_json(silent=True)`` gives None instead
  of a ``RecursionError`` and a 500);
- a ``before_request`` hook answering 400, before any view runs and so before anything is
  stored, when a URL part (path parameter or query string), a form field or any string (key or
  value, at any depth) of a JSON body holds a lone surrogate, NUL or another control character
  (``backend.text_hygiene``), or when a JSON body is nested too deeply. JSON paths get
  ``{"error", "code", "language"}`` (the message in the request's ``Accept-Language``), pages
  the GOV.UK problem page. Views marked :func:`handles_own_input` (the SMS webhook, which removes
  such characters instead) are left alone;
- a limit on the size of a request's body (``MAX_CONTENT_LENGTH``, :data:`MAX_BODY_BYTES`):
  a larger body is answered 413, translated, before it is read, so nobody can make a worker hold
  a body of any size in memory before a signature, token or sign-in has been checked. A body sent
  in chunks, without a length, is read up to the limit only and refused if it reaches it;
- value-free error logging: an unhandled exception is logged as its type (and the types it was
  raised from), the method and route, and the stack of file/line/function, never its message,
  which for SQLAlchemy errors holds SQL parameters and the database's "Failing row contains"
  details (personal data). The 500 answer is a translated JSON error or page.
"""

from __future__ import annotations

import traceback
from urllib.parse import unquote_to_bytes
from types import TracebackType
from typing import Any, Callable, TypeVar

from flask import Flask, current_app, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import InternalServerError, RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream

from backend import text_hygiene
from backend.i18n import N_, gettext, page_language
from backend.request_log import route_rule
from backend.web_auth import wants_json

INVALID_TEXT = N_("This contains characters that cannot be accepted, such as control characters. "
                  "Remove them and try again.")
JSON_TOO_DEEP = N_("The request could not be read: its JSON is nested too deeply.")
BODY_TOO_LARGE = N_("This is too large to be accepted. Send less at once.")
SERVER_ERROR = N_("Something went wrong on our side and nothing was changed. Try again later.")

_OWN_INPUT = "nrm_handles_own_input"

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
"""The bodies werkzeug parses into ``request.form``: any other (JSON) gives an empty one, whose
parse alone cost a web chat turn 17 us, 4% of its own work (issue 14)."""

MAX_BODY_BYTES = 1024 * 1024
"""The largest body read: an SMS, a chat turn, a decision or a whole referral is a few kilobytes,
so 1 MiB leaves room for every form the service takes."""

V = TypeVar("V", bound=Callable[..., Any])
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class HygienicJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, parsing with ``text_hygiene.loads_json`` (nesting limit)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return text_hygiene.loads_json(s, **kwargs)


def handles_own_input(view: V) -> V:
    """Mark a view that cleans its own input (the generic refusal hook skips it)."""
    setattr(view, _OWN_INPUT, True)
    return view


def init_request_guards(app: Flask) -> None:
    app.json = HygienicJSONProvider(app)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.before_request(_refuse_body_cut_off_at_the_limit)
    app.before_request(_refuse_unclean_input)
    app.log_exception = _log_without_values  # type: ignore[method-assign]
    app.register_error_handler(InternalServerError, _server_error)


# -- refusing unclean input -------------------------------------------------------------------


def _refuse_unclean_input() -> Any:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, _OWN_INPUT, False):
        return None
    url_parts = [*(request.view_args or {}).values(), *request.args.keys(), *request.args.values()]
    if not all(text_hygiene.is_clean(part) for part in url_parts if isinstance(part, str)):
        return _refusal(INVALID_TEXT, "invalid_text", 400)
    if not _utf8(request.query_string):
        return _refusal(INVALID_TEXT, "invalid_text", 400)
    if request.method in _BODY_METHODS:
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded" and not _utf8(
                request.get_data(cache=True, parse_form_data=False)):
            return _refusal(INVALID_TEXT, "invalid_text", 400)
        if mimetype in _FORM_MIMETYPES and not all(
                text_hygiene.is_clean(part) for part in [*request.form.keys(), *request.form.values()]):
            return _refusal(INVALID_TEXT, "invalid_text", 400)
        if request.is_json and request.get_data(cache=True):
            # Parsed once per request: the view's own get_json() is answered from Flask's cache.
            document = request.get_json(silent=True)
            if document is None:  # unreadable (or a bare null): say why only if it is too deep
                try:
                    text_hygiene.loads_json(request.get_data(cache=True))
                except text_hygiene.JSONTooDeep:
                    return _refusal(JSON_TOO_DEEP, "invalid_json", 400)
                except ValueError:
                    return None  # not JSON at all: each view answers that as it always has
            if text_hygiene.unclean_path(document) is not None:
                return _refusal(INVALID_TEXT, "invalid_text", 400)
    return None


def _utf8(encoded: bytes) -> bool:
    """Is this percent-encoded query string or form body UTF-8 once decoded? Werkzeug replaces
    what is not with U+FFFD, which would store a value other than the one sent; it is refused."""
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refusal(msgid: str, code: str, status: int, template: str = "problem.html") -> Any:
    message = gettext(msgid)
    if wants_json():
        return jsonify({"error": message, "code": code, "language": page_language().code}), status
    return render_template(template, message=message), status


def _refuse_body_cut_off_at_the_limit() -> None:
    """A chunked body has no length to check up front: werkzeug reads it up to the limit and
    stops there, silently (``LimitedStream``), so a view would see it cut off. Read it here, once
    (the view's form or JSON is parsed from the same cached bytes), and refuse one that reached
    the limit."""
    if request.content_length is None and request.method in _BODY_METHODS:
        request.get_data(cache=True, parse_form_data=False)
        if isinstance(request.stream, LimitedStream) and request.stream.is_exhausted:
            raise RequestEntityTooLarge()


def _too_large(error: RequestEntityTooLarge) -> Any:
    return _refusal(BODY_TOO_LARGE, "too_large", 413)


# -- failures -----------------------------------------------------------------------------------


def _log_without_values(exc_info: ExcInfo) -> None:
    """Flask's ``log_exception``, without the exception's message (see the module docs)."""
    kind, error, tb = exc_info
    if error is None:
        return
    causes: list[str] = []
    link: BaseException | None = error
    while link is not None and len(causes) < 8:
        causes.append(f"{type(link).__module__}.{type(link).__qualname__}")
        link = link.__cause__ or link.__context__
    rule = route_rule()
    stack = "".join(traceback.StackSummary.extract(traceback.walk_tb(tb)).format())
    current_app.logger.error("%s on %s %s (message not logged: it may hold personal data)\n%s",
                             " <- ".join(causes), request.method, rule, stack)


def _server_error(error: InternalServerError) -> Any:
    try:
        return _refusal(SERVER_ERROR, "internal_error", 500, "layout/server_error.html")
    except Exception:  # noqa: BLE001 - the page itself failed (e.g. no database): plain text, no values
        return gettext(SERVER_ERROR), 500, {"Content-Type": "text/plain; charset=utf-8"}
