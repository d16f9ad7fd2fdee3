"""The product as ``nrm serve`` serves it, plus a bare endpoint to measure the server itself.

``GET|POST /bench/bare`` answers a fixed TwiML document and does nothing else: the cost of any
Flask endpoint on this server, against which every figure of the bench is a ratio. Settings come
from the environment the bench runner sets (``bench.servers``).
"""

from __future__ import annotations

import os

from flask import Flask

BARE_REPLY = "<Response><Message>ok</Message></Response>"


TURNS_TOGETHER = "BENCH_TURNS_TOGETHER"
"""Set (``bench.threads``): this server's threads run their plain turns at once, as before one
process ran one at a time (``bot.engine._PLAIN_TURNS``), to measure what that lock gives."""


def create_app() -> Flask:
    from bot.app import create_app as product

    app = product()
    if os.environ.get(TURNS_TOGETHER):
        from contextlib import nullcontext

        from bot import engine

        engine._PLAIN_TURNS = nullcontext()  # type: ignore[assignment]  # noqa: SLF001

    @app.route("/bench/bare", methods=["GET", "POST"])
    def bare() -> tuple[str, int, dict[str, str]]:
        return BARE_REPLY, 200, {"Content-Type": "text/xml"}

    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bare)  # like the webhook: no form, so no CSRF token
    return app
