"""`nrm chat` as a user runs it: a real process on a real SQLite file, killed and started again."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.flows.conversation import CHILD, Conversation

NRM = str(Path(sys.executable).with_name("nrm"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "NRM_"))}
    environment.update(NRM_INSTANCE_PATH=str(tmp_path / "instance"), NRM_ENV="development")
    subprocess.run([NRM, "db", "upgrade"], env=environment, check=True, capture_output=True)
    return environment


class Terminal:
    """A running `nrm chat` whose output is read as it arrives."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [NRM, "chat", *args], env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.output: queue.Queue[str] = queue.Queue()
        self.seen = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.put(line)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            try:
                self.seen += self.output.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{text!r} never appeared in:\n{self.seen}") from None
        return self.seen

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing gets the chance to save or clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()


def test_killing_the_process_between_messages_loses_nothing(env: dict[str, str]) -> None:
    first = Terminal(env)
    first.wait_for("Cymraeg")  # first contact offers the languages, each named in itself
    first.type("1")
    first.wait_for("(About you 1/")
    first.type("Ref A")
    first.wait_for("(About you 2/")
    first.type("salvation army")
    first.wait_for("(About you 3/")
    first.kill()

    second = Terminal(env)
    output = second.wait_for("(About you 3/")
    assert "Resuming your saved draft" in output
    assert "work email" in output
    second.type("REVIEW")
    review = second.wait_for("2 Organisation: The Salvation Army")
    assert "1 Your reference: Ref A" in review
    second.kill()


def test_a_whole_child_referral_in_the_terminal_ends_with_a_reference(env: dict[str, str]) -> None:
    walk = Conversation()
    asked = walk.answer_all(CHILD)
    terminal = Terminal(env, "--new", "--language", "en")
    for qid in asked:
        terminal.type(CHILD[qid])
    terminal.type("CONFIRM")
    output = terminal.wait_for("working days", timeout=60)
    assert "NRM referral sent. Reference: NRM-" in output
    assert "agree to an NRM referral" not in output  # a child is referred without consent
    assert "Local authority: Leeds City Council" in output
    terminal.process.wait(timeout=20)
    assert terminal.process.returncode == 0


def test_the_quick_exit_word_in_the_terminal_deletes_the_draft_and_stores_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    terminal = Terminal(env, "--new", "--language", "en")
    terminal.wait_for("(About you 1/")
    terminal.type("Ref A")
    terminal.wait_for("(About you 2/")

    terminal.type("SAFE")  # at the organisation question: not an answer, and not kept as one

    terminal.wait_for("OK.")
    terminal.process.wait(timeout=20)
    assert terminal.process.returncode == 0
    assert "Nothing matches" not in terminal.seen
    with sqlite3.connect(tmp_path / "instance" / "nrm.sqlite3") as database:
        assert database.execute("SELECT count(*) FROM conversations").fetchone() == (0,)
    again = Terminal(env)
    output = again.wait_for("Cymraeg")  # a new first contact: no draft to resume
    assert "Resuming your saved draft" not in output
    again.kill()


def test_a_pending_discard_is_asked_again_when_nrm_chat_resumes(env: dict[str, str]) -> None:
    first = Terminal(env, "--language", "en")
    first.wait_for("(About you 1/")
    first.type("Ref A")
    first.wait_for("(About you 2/")
    first.type("DISCARD")
    first.wait_for("This deletes this referral without sending it.")
    first.kill()

    second = Terminal(env)
    output = second.wait_for("This deletes this referral without sending it.")
    assert "Resuming your saved draft" in output and "(About you 2/" not in output
    second.type("no")
    assert "(About you 2/" in second.wait_for("OK, nothing deleted.\n\n(About you 2/")
    second.kill()


def test_hostile_lines_typed_in_the_terminal_are_cleaned_or_refused_and_lose_nothing(env: dict[str, str]) -> None:
    """NUL and control characters are dropped, an encoded lone surrogate (not UTF-8), a huge line
    and another language's words are refused with the question asked again: the chat carries on,
    and the answers given are kept."""
    typed = (b"Ref \x00A\x07\n"                 # NUL and BEL inside an answer
             b"\xed\xa0\x80\n"                  # a lone surrogate, encoded: not UTF-8
             + b"x" * 50_000 + b"\n"            # a huge line
             + "منظمة خيرية\n".encode()         # another language's words
             + b"salvation army\nREVIEW\n")
    finished = subprocess.run([NRM, "chat", "--new", "--language", "en"], env=env, input=typed,
                              capture_output=True, timeout=60)
    output = finished.stdout.decode()
    assert finished.returncode == 0, output + finished.stderr.decode()
    assert "Traceback" not in output + finished.stderr.decode()
    assert output.count("Which organisation do you work for?") == 4  # asked, then again after each refusal
    assert "Please type a name" in output
    assert "Nothing matches" in output and "x" * 1000 not in output  # the huge line is not echoed whole
    review = output[output.index("Your answers:"):]
    assert "1 Your reference: Ref A\n" in review and "\x00" not in review and "\x07" not in review
    assert "2 Organisation: The Salvation Army" in review
    assert "Draft saved" in output
