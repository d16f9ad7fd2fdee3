"""Record a whole referral typed into `nrm chat`, as a transcript for docs/transcripts/.

Runs the real command on a throw-away database and answers each question from the answer sets
the tests use (tests/flows/conversation.py), waiting for every reply before typing the next line,
so the file shows exactly what a responder sees, including the explanation (EXPLAIN) read to the
person on that route. Usage (a route of ROUTES, or a scenario of SCENARIOS):

    .venv/bin/python scripts/transcript.py child en docs/transcripts/child-referral-en.txt
    .venv/bin/python scripts/transcript.py edit-under-18 en \
        docs/transcripts/edit-under-18-after-date-of-birth-en.txt
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows import languages  # noqa: E402
from tests.flows.conversation import ADULT_NRM, CHILD, ROUTES, Conversation  # noqa: E402

NRM = str(Path(sys.executable).with_name("nrm"))
PROMPT = "> "


def _read_until_prompt(process: subprocess.Popen[bytes], timeout: float = 30) -> str:
    """Everything printed up to the next input prompt (or the end of the program)."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while not seen.endswith(PROMPT.encode()) and time.monotonic() < deadline:
        byte = process.stdout.read(1)
        if not byte:
            break
        seen += byte
    return seen.decode("utf-8")[: -len(PROMPT)] if seen.endswith(PROMPT.encode()) else seen.decode()


def _with_explain(asked: list[str], answers: dict[str, str]) -> list[str]:
    """The answers, with EXPLAIN typed where a responder reads the explanation to the person:
    at the consent question for an adult, right after the age question for a child."""
    consent = "pv-want-to-submit-nrm"
    at = consent if consent in asked else asked[asked.index("pv-under-age") + 1]
    typed = []
    for qid in asked:
        typed += ["EXPLAIN", answers[qid]] if qid == at else [answers[qid]]
    return typed


def walk(route: str) -> list[str]:
    """Every answer of a golden route, in the order asked, with EXPLAIN where it is read."""
    answers = ROUTES[route]
    return _with_explain(Conversation().answer_all(answers), answers)


def edit_under_18() -> list[str]:
    """A child's referral with the date of birth 3/2/2012, then under 18 edited to no at the
    summary: the date of birth is asked again (the same date is refused), then what an adult needs."""
    conversation = Conversation()
    typed = [CHILD[qid] for qid in conversation.answer_all(CHILD)]
    for text in (f"EDIT {conversation.summary_number('Under 18')}", "no", CHILD["pv-dob"], ADULT_NRM["pv-dob"]):
        typed.append(text)
        conversation.say(text)
    return typed + [ADULT_NRM[qid] for qid in conversation.answer_all(ADULT_NRM)]


SCENARIOS = {"edit-under-18": edit_under_18}


def record(name: str, language: str) -> str:
    lines: list[str] = []
    number = languages.CODES.index(language) + 1
    answers = SCENARIOS[name]() if name in SCENARIOS else walk(name)
    typed = [str(number)] + answers + ["CONFIRM"]
    with tempfile.TemporaryDirectory() as instance:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "NRM_"))}
        env.update(NRM_INSTANCE_PATH=instance, NRM_ENV="development", PYTHONUNBUFFERED="1")
        subprocess.run([NRM, "db", "upgrade"], env=env, check=True, capture_output=True)
        process = subprocess.Popen([NRM, "chat", "--new"], env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdin is not None
        lines.append(_read_until_prompt(process))
        for text in typed:
            lines.append(f"{PROMPT}{text}\n")
            process.stdin.write((text + "\n").encode())
            process.stdin.flush()
            lines.append(_read_until_prompt(process))
        process.wait(timeout=30)
    return "".join(lines)


if __name__ == "__main__":
    route, language, target = sys.argv[1:4]
    Path(target).write_text(f"$ nrm chat --new\n{record(route, language)}", encoding="utf-8")
    print(f"wrote {target}")
