"""How much the SMS webhook and the web chat API cost next to a bare Flask endpoint.

Everything runs in one process, on one real HTTP server (werkzeug, threaded) on loopback, so the
ratios compare our work per message (signature check, row lock, dialogue step, encrypted save,
TwiML) with what any Flask endpoint costs on the same machine. Run: ``make bench``.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import date
from typing import Callable
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

ROUNDS = 300
TOKEN = "bench-twilio-token"
SENDER = "+447700900123"


def _app(instance: str, port: int):
    os.environ.update(NRM_INSTANCE_PATH=instance, NRM_ENV="development")
    from backend import auth, db
    from backend.cli import upgrade_database
    from backend.models import Responder
    from bot.app import create_app

    # One client sends every timed request: lift its per-client chat limit (backend.limits).
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                      "CHAT_RATE_LIMIT": "100000 per minute"})
    upgrade_database(app)

    @app.post("/bench/bare")
    def bare() -> tuple[str, int, dict[str, str]]:
        return "<Response><Message>ok</Message></Response>", 200, {"Content-Type": "text/xml"}

    app.extensions["csrf"].exempt(bare)  # like the webhook: no form, so no CSRF token

    with app.app_context(), db.get_db(app).transaction() as session:
        session.add(Responder(phone_e164=SENDER, organisation="The Salvation Army"))
        operator = auth.create_user(session, "bench@example.org", "operator", auth.generate_password())
        token = auth.create_token(session, operator)
    return app, token


def _timed(call: Callable[[int], None]) -> list[float]:
    times = []
    for i in range(ROUNDS):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    port = 5099
    with tempfile.TemporaryDirectory() as instance:
        app, token = _app(instance, port)
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        connection = http.client.HTTPConnection("127.0.0.1", port)
        validator = RequestValidator(TOKEN)

        def post(path: str, body: str, headers: dict[str, str]) -> bytes:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            assert response.status in (200, 201), (path, response.status, data[:200])
            return data

        def sms(i: int, body: str | None = None) -> None:
            body = body if body is not None else "BACK" if i % 2 else f"Ref {i}"
            params = {"From": SENDER, "Body": body, "MessageSid": f"SM{i:032d}", "NumMedia": "0"}
            signature = validator.compute_signature(f"http://127.0.0.1:{port}/sms/twilio", params)
            post("/sms/twilio", urlencode(params), {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})

        sms(-2)  # the first message opens the draft and gets the language list
        sms(-1, "1")  # English: the timed messages answer and go back from the first question
        bare_times = _timed(lambda i: post("/bench/bare", "", {}))
        sms_times = _timed(sms)

        bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        opened = json.loads(post("/api/chat/conversations", "", bearer))
        path = f"/api/chat/conversations/{opened['conversation']}/messages"
        chat_times = _timed(lambda i: post(path, json.dumps({"text": "BACK" if i % 2 else f"Ref {i}"}), bearer))

        from flows import dialogue
        from flows.i18n import ENGLISH

        state = dialogue.start(ENGLISH, language="en").state
        pure = _timed(lambda i: dialogue.handle(state, "BACK" if i % 2 else f"Ref {i}", ENGLISH, date.today()))
        server.shutdown()

    base = statistics.median(bare_times)
    print(f"{ROUNDS} sequential requests each, one threaded werkzeug server on loopback")
    print(f"{'endpoint':34} {'median ms':>10} {'p95 ms':>8} {'x bare':>7}")
    for name, times in (("bare Flask endpoint", bare_times), ("POST /sms/twilio (signed)", sms_times),
                        ("POST /api/chat/.../messages", chat_times), ("flows.dialogue.handle (no HTTP)", pure)):
        median = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[-1]
        print(f"{name:34} {median * 1000:10.2f} {p95 * 1000:8.2f} {median / base:7.1f}")


if __name__ == "__main__":
    main()
