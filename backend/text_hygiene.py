"""Text hygiene at every edge: characters that must never be stored or rendered.

Lone UTF-16 surrogates (a JSON body may carry ``"\\udc80"``) cannot be encoded as UTF-8, so they
fail when an encrypted column is bound; NUL is refused by PostgreSQL in any text; NUL, ESC and the
other C0/C1 control characters make XML (the SMS channel's TwiML) unparseable. Line breaks and
tabs are ordinary text and stay.

Each edge decides what to do with them (README, "Text hygiene"): the SMS channel removes them
(:func:`clean`: the sender cannot easily retype, and replies are cleaned again when rendered), the
JSON APIs, URL parts and forms refuse them with a 400 (:func:`is_clean`, :func:`unclean_path`).
:func:`loads_json` parses JSON bodies with a nesting limit, so a deeply nested body is a 400 and
not a ``RecursionError``.

Flask-free, so ``bot`` and ``backend`` (and tests) use the same rules.
"""

from __future__ import annotations

import json
import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
"""C0 controls except tab, line feed and carriage return; DEL; C1 controls; and the two
non-characters U+FFFE and U+FFFF (also not allowed in XML)."""
_UNSAFE = re.compile(f"{_SURROGATES.pattern}|{_CONTROLS.pattern}")

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects a JSON body may have (the API's deepest is 4)."""


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_JSON_DEPTH` (a ValueError, as Werkzeug's
    ``get_json`` expects of a body it cannot read)."""


def is_clean(text: str) -> bool:
    """Has ``text`` no lone surrogate, NUL or other control character (tab and line breaks are fine)?"""
    return _UNSAFE.search(text) is None


def clean(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD and control characters removed."""
    if is_clean(text):
        return text
    return _CONTROLS.sub("", _SURROGATES.sub(REPLACEMENT, text))


def unclean_path(document: Any) -> str | None:
    """Where the first unclean string (key or value) of a parsed JSON document is, as a
    JSON-Pointer-like path (``/answers/0``), or None when every string is clean.

    Iterative, so it never recurses however the document is nested.
    """
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if not is_clean(value):
                return path or "/"
        elif isinstance(value, dict):
            for key, item in value.items():
                if not is_clean(key):
                    return f"{path}/{clean(key)}"
                pending.append((f"{path}/{key}", item))
        elif isinstance(value, list):
            pending.extend((f"{path}/{index}", item) for index, item in enumerate(value))
    return None


def json_depth(document: Any) -> int:
    """How deeply arrays and objects are nested in ``document`` (a scalar is 0), iteratively."""
    deepest = 0
    pending: list[tuple[int, Any]] = [(0, document)]
    while pending:
        depth, value = pending.pop()
        if isinstance(value, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            items = value.values() if isinstance(value, dict) else value
            pending.extend((depth, item) for item in items)
    return deepest


def loads_json(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that refuses documents nested deeper than :data:`MAX_JSON_DEPTH`.

    Python's parser gives up with a ``RecursionError`` (not a ValueError) near the interpreter's
    recursion limit, which would escape ``get_json(silent=True)`` as a 500; here both cases are
    :class:`JSONTooDeep`.
    """
    try:
        document = json.loads(data, **kwargs)
    except RecursionError as exc:
        raise JSONTooDeep("JSON nested too deeply") from exc
    if json_depth(document) > MAX_JSON_DEPTH:
        raise JSONTooDeep("JSON nested too deeply")
    return document
